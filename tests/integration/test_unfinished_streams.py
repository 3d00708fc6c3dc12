"""A Google stream that ends cleanly but without its finish reason was cut short: never a successful reply.

Streamed, the client gets its protocol's error event after the text so far; not streamed (nothing has reached
the client yet), the request moves to the other account. When every account cuts it short, the client gets a
502 in its protocol's shape, and no account is left cooling for everybody. countTokens, which has no finish
reason, is not affected. Official SDKs for OpenAI and Anthropic, raw HTTP for Gemini, against an in-process
proxy with two accounts in front of the fake Google.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from tests.fakes.generation import text
from tests.inprocess import InProcessProxy
from tests.integration.test_dispatch_scenarios import sse_payloads
from tests.sdkproxy import ALICE, BOB, SDK_KEY, Upstream, anthropic_sdk, stage, user_turn

pytestmark = pytest.mark.timeout(60)

MODEL = "gemini-2.5-pro"
CUT = "without a finish reason"


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[InProcessProxy]:
    with stage(tmp_path / "home", SDK_KEY) as served:
        yield served


@pytest.fixture
def upstream(proxy: InProcessProxy) -> Upstream:
    return Upstream(proxy.google)


def cut_short(proxy: InProcessProxy, times: int = 1) -> None:
    """The next `times` streams end without their finish reason; the same reply (whole) comes after that."""
    proxy.google.reply([text("one ")], [text("two ")], [text("three")], times=times + 1)
    proxy.google.fail("streamGenerateContent", 200, unfinished=True, times=times)


def openai_sdk(proxy: InProcessProxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{proxy.base}/v1", api_key=SDK_KEY, max_retries=0, timeout=20)


def gemini_body() -> bytes:
    return json.dumps({"contents": [{"role": "user", "parts": [{"text": "count"}]}]}).encode()


def assert_nobody_cooling(proxy: InProcessProxy) -> None:
    accounts = proxy.request("GET", "/api/accounts").json()["accounts"]
    assert [account["cooldown"] for account in accounts] == [None, None], accounts


# -- streamed: the error event after the text so far ---------------------------------------------------


def test_gemini_sse_ends_with_an_error_event(proxy: InProcessProxy) -> None:
    cut_short(proxy)
    reply = proxy.request("POST", f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse", body=gemini_body())
    assert reply.status == 200  # the headers went out with the first chunk
    events = sse_payloads(reply.body)
    texts = [part["text"] for event in events[:-1] for part in event["candidates"][0]["content"]["parts"]]
    assert texts == ["one ", "two ", "three"]
    assert events[-1]["error"]["code"] == 502 and CUT in events[-1]["error"]["message"], events[-1]


def test_gemini_json_array_ends_with_an_error_element(proxy: InProcessProxy) -> None:
    cut_short(proxy)
    reply = proxy.request("POST", f"/v1beta/models/{MODEL}:streamGenerateContent", body=gemini_body())
    items = json.loads(reply.body)  # still one valid JSON document
    assert "candidates" in items[0] and CUT in items[-1]["error"]["message"]


def test_openai_chat_stream_raises_in_the_sdk(proxy: InProcessProxy) -> None:
    cut_short(proxy)
    seen: list[str] = []
    with openai_sdk(proxy) as client:
        stream = client.chat.completions.create(model=MODEL, messages=user_turn("count"), stream=True)
        with pytest.raises(openai.APIError) as raised:
            for chunk in stream:
                seen.extend(choice.delta.content or "" for choice in chunk.choices)
                assert all(choice.finish_reason is None for choice in chunk.choices)  # never a "stop"
    assert "".join(seen) == "one two three"
    assert CUT in raised.value.message


def test_openai_responses_stream_ends_failed(proxy: InProcessProxy) -> None:
    cut_short(proxy)
    with openai_sdk(proxy) as client, client.responses.stream(model=MODEL, input="count") as stream:
        events = list(stream)
    kinds = [event.type for event in events]
    assert "response.completed" not in kinds and kinds[-2:] == ["error", "response.failed"], kinds
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.error is not None
    assert CUT in failed.response.error.message


def test_anthropic_stream_raises_in_the_sdk(proxy: InProcessProxy) -> None:
    cut_short(proxy)
    seen: list[str] = []
    with anthropic_sdk(proxy.base) as client, pytest.raises(anthropic.APIStatusError) as raised:
        with client.messages.stream(model=MODEL, max_tokens=50, messages=user_turn("count")) as stream:
            seen.extend(stream.text_stream)
    assert "".join(seen) == "one two three"
    body: Any = raised.value.body
    assert body["type"] == "error" and CUT in body["error"]["message"]


# -- not streamed: the other account answers ---------------------------------------------------------


def test_gemini_generate_moves_to_the_other_account(proxy: InProcessProxy, upstream: Upstream) -> None:
    cut_short(proxy)
    reply = proxy.request("POST", f"/v1beta/models/{MODEL}:generateContent", body=gemini_body())
    assert reply.status == 200, reply.body
    candidate = reply.json()["candidates"][0]
    assert candidate["finishReason"] == "STOP" and candidate["content"]["parts"] == [{"text": "one two three"}]
    assert sorted(upstream.emails()) == [ALICE, BOB]


def test_openai_chat_moves_to_the_other_account(proxy: InProcessProxy, upstream: Upstream) -> None:
    cut_short(proxy)
    with openai_sdk(proxy) as client:
        done = client.chat.completions.create(model=MODEL, messages=user_turn("count"))
    assert done.choices[0].message.content == "one two three" and done.choices[0].finish_reason == "stop"
    assert sorted(upstream.emails()) == [ALICE, BOB]


def test_anthropic_messages_move_to_the_other_account(proxy: InProcessProxy, upstream: Upstream) -> None:
    cut_short(proxy)
    with anthropic_sdk(proxy.base) as client:
        message = client.messages.create(model=MODEL, max_tokens=50, messages=user_turn("count"))
    assert [block.text for block in message.content if block.type == "text"] == ["one two three"]
    assert message.stop_reason == "end_turn"
    assert sorted(upstream.emails()) == [ALICE, BOB]


def test_cut_short_on_both_accounts_is_a_502_and_cools_nobody(proxy: InProcessProxy, upstream: Upstream) -> None:
    cut_short(proxy, times=2)
    with openai_sdk(proxy) as client, pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model=MODEL, messages=user_turn("count"))
    assert raised.value.status_code == 502 and CUT in raised.value.message
    assert "same way on two accounts" in raised.value.message
    assert sorted(upstream.emails()) == [ALICE, BOB]
    assert_nobody_cooling(proxy)
    with anthropic_sdk(proxy.base) as client:  # the next request is served at once
        assert client.messages.create(model=MODEL, max_tokens=50, messages=user_turn("again")).content


def test_count_tokens_has_no_finish_reason_and_needs_none(proxy: InProcessProxy, upstream: Upstream) -> None:
    with anthropic_sdk(proxy.base) as client:
        counted = client.messages.count_tokens(model=MODEL, messages=user_turn("a few words to count " * 40))
    assert len(upstream.count_requests()) == 1  # Google's own answer, not the estimate
    assert counted.input_tokens > 50
