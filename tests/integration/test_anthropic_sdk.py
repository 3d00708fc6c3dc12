"""The official `anthropic` SDK (sync and async) against the in-process proxy and the fake Google: messages plain
and streamed, thinking with its signatures, count_tokens, stop sequences, limits, sticky sessions, beta messages,
and typed errors. Tool use over turns and Claude Code's requests are in test_anthropic_sdk_turns.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anthropic
import pytest
from anthropic.types import Message

from tests.fakes.generation import count_tokens, text, thought
from tests.inprocess import InProcessProxy
from tests.sdkproxy import FAILURE_MODEL, SDK_KEY, Upstream, fake_signature, final_message, user_turn

pytestmark = pytest.mark.timeout(60)

HAIKU = "claude-haiku-4-5-20251001"  # the built-in aliases send it to gemini-2.5-flash
LOOKUP_TOOL = {
    "name": "lookup",
    "description": "Looks a place up.",
    "input_schema": {"type": "object", "properties": {"place": {"type": "string"}}, "required": ["place"]},
}


# -- plain and streamed -------------------------------------------------------------------------------------------


def test_create_answers_with_the_requested_model_name_and_the_mapped_one_in_a_header(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    usage = {"promptTokenCount": 12, "candidatesTokenCount": 5, "totalTokenCount": 17, "cachedContentTokenCount": 4}
    upstream.google.reply([text("Hello ")], [text("there")], usage=usage)
    raw = anthropic_client.messages.with_raw_response.create(
        model=HAIKU, max_tokens=100, system="Be brief.", messages=user_turn("hi")
    )
    assert raw.headers["x-mapped-model"] == "gemini-2.5-flash" and raw.headers["x-account"].endswith("@ex***")
    message = raw.parse()
    assert message.model == HAIKU and message.stop_reason == "end_turn"
    assert [(block.type, getattr(block, "text", None)) for block in message.content] == [("text", "Hello there")]
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens, message.usage.output_tokens) == (8, 4, 5)
    sent = upstream.last()
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert sent["systemInstruction"] == {"parts": [{"text": "Be brief."}]}


def test_create_with_stream_true_yields_anthropics_events_in_order(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    upstream.google.reply([text("one ")], [text("two")])
    events = list(
        anthropic_client.messages.create(model=HAIKU, max_tokens=50, messages=user_turn("count"), stream=True)
    )
    kinds = [event.type for event in events]
    assert kinds[:2] == ["message_start", "content_block_start"] and kinds[-3:] == [
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[0].message.model == HAIKU  # type: ignore[union-attr]
    deltas = [e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta"]
    assert "".join(deltas) == "one two"
    assert events[-2].delta.stop_reason == "end_turn"  # type: ignore[union-attr]


def test_the_stream_helper_gives_text_and_the_final_message(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    upstream.google.reply([text("Hel")], [text("lo")], [text("!")])
    with anthropic_client.messages.stream(model=HAIKU, max_tokens=50, messages=user_turn("greet")) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
        assert stream.response.headers["x-mapped-model"] == "gemini-2.5-flash"
    assert pieces == ["Hel", "lo", "!"]
    assert final.model == HAIKU and final.content[0].type == "text" and final.content[0].text == "Hello!"


def test_the_async_client_creates_and_streams(sdk_proxy: InProcessProxy, upstream: Upstream) -> None:
    upstream.google.reply([text("async one")])
    upstream.google.reply([text("async "), text("two")])

    async def run() -> tuple[Message, Message]:
        async with anthropic.AsyncAnthropic(base_url=sdk_proxy.base, api_key=SDK_KEY, max_retries=0, timeout=20) as sdk:
            plain = await sdk.messages.create(model=HAIKU, max_tokens=20, messages=user_turn("a"))
            async with sdk.messages.stream(model=HAIKU, max_tokens=20, messages=user_turn("b")) as stream:
                streamed = await stream.get_final_message()
            return plain, streamed

    plain, streamed = asyncio.run(run())
    assert plain.content[0].type == "text" and plain.content[0].text == "async one"
    assert streamed.content[0].type == "text" and streamed.content[0].text == "async two"


# -- thinking -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("streamed", [False, True], ids=["create", "stream"])
def test_adaptive_thinking_with_an_effort_sets_the_level_and_returns_the_signature(
    anthropic_client: anthropic.Anthropic, upstream: Upstream, streamed: bool
) -> None:
    signature = fake_signature(f"gemini-adaptive-{streamed}")
    upstream.google.reply([thought("Weighing it", signature=None)], [thought(" up.", signature)], [text("Yes.")])
    kwargs: dict[str, Any] = {
        "model": "gemini-3-flash",  # takes every level (gemini-3-pro-high is pinned to HIGH)
        "max_tokens": 4000,
        "messages": user_turn("is it?"),
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "low"},
    }
    message = final_message(anthropic_client, streamed=streamed, **kwargs)
    assert upstream.last()["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "LOW", "includeThoughts": True}
    thinking, answer = message.content
    assert thinking.type == "thinking" and thinking.thinking == "Weighing it up." and thinking.signature == signature
    assert answer.type == "text" and answer.text == "Yes."


def test_enabled_thinking_sends_the_budget_to_a_claude_model(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    signature = fake_signature("claude-budget-1")
    upstream.google.reply([thought("Short plan.", signature)], [text("Done.")])
    message = anthropic_client.messages.create(
        model="claude-sonnet-4-6-thinking",
        max_tokens=16000,
        messages=user_turn("plan"),
        thinking={"type": "enabled", "budget_tokens": 4096},
    )
    config = upstream.last()["generationConfig"]
    assert config["thinkingConfig"] == {"thinkingBudget": 4096, "includeThoughts": True}
    assert config["maxOutputTokens"] == 16000
    assert message.content[0].type == "thinking" and message.content[0].signature == signature


# -- count_tokens, limits, sessions -------------------------------------------------------------------------------


def test_count_tokens_is_googles_count_of_the_translated_request(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    counted = anthropic_client.messages.count_tokens(
        model="claude-sonnet-4-6",
        system="You answer questions about weather in great detail.",
        messages=user_turn("How warm is it in Lisbon today, roughly?"),
        tools=[LOOKUP_TOOL],
    )
    (request,) = upstream.count_requests()
    assert counted.input_tokens == count_tokens(request) > 0
    assert request["tools"][0]["functionDeclarations"][0]["name"] == "lookup"
    assert request["systemInstruction"]["parts"][0]["text"].startswith("You answer")


@pytest.mark.parametrize("streamed", [False, True], ids=["create", "stream"])
def test_stop_sequences_reach_google_and_come_back_as_the_stop_reason(
    anthropic_client: anthropic.Anthropic, upstream: Upstream, streamed: bool
) -> None:
    upstream.google.reply([text("alpha beta")], [text(" END")])
    kwargs: dict[str, Any] = {
        "model": HAIKU,
        "max_tokens": 50,
        "messages": user_turn("go"),
        "stop_sequences": ["END", "##"],
    }
    message = final_message(anthropic_client, streamed=streamed, **kwargs)
    assert upstream.last()["generationConfig"]["stopSequences"] == ["END", "##"]
    assert message.stop_reason == "stop_sequence" and message.stop_sequence == "END"


@pytest.mark.parametrize(("model", "limit"), [("claude-opus-4-6-thinking", 64000), ("gemini-2.5-flash", 65536)])
def test_max_tokens_above_the_models_limit_is_clamped(
    anthropic_client: anthropic.Anthropic, upstream: Upstream, model: str, limit: int
) -> None:
    message = anthropic_client.messages.create(model=model, max_tokens=128000, messages=user_turn("hi"))
    assert message.content[0].type == "text" and message.model == model
    assert upstream.last()["generationConfig"]["maxOutputTokens"] == limit


def test_metadata_user_id_keeps_a_conversation_on_one_account(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    def turn(session: str, words: str) -> None:
        user_id = json.dumps({"device_id": "dev-1", "account_uuid": "", "session_id": session})
        anthropic_client.messages.create(
            model=HAIKU, max_tokens=20, messages=user_turn(words), metadata={"user_id": user_id}
        )

    for words in ("first", "second", "third", "fourth"):  # different first messages, one session
        turn("11111111-aaaa-4bbb-8ccc-000000000001", words)
    sticky = upstream.emails()
    assert len(sticky) == 4 and len(set(sticky)) == 1, sticky
    # Without a binding the pool takes the least recently used account: a new session goes to the other one.
    turn("22222222-aaaa-4bbb-8ccc-000000000002", "first")
    assert upstream.emails()[-1] != sticky[0]


def test_beta_messages_are_served_too(anthropic_client: anthropic.Anthropic, upstream: Upstream) -> None:
    upstream.google.reply([text("beta ok")])
    message = anthropic_client.beta.messages.create(
        model=HAIKU, max_tokens=20, messages=user_turn("hi"), betas=["interleaved-thinking-2025-05-14"]
    )
    assert message.content[0].type == "text" and message.content[0].text == "beta ok"
    assert message.model == HAIKU


# -- errors -------------------------------------------------------------------------------------------------------


def test_a_bad_field_is_a_bad_request_error_naming_it(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    with pytest.raises(anthropic.BadRequestError) as raised:
        anthropic_client.messages.create(
            model=HAIKU, max_tokens=50, messages=user_turn("hi"), thinking={"type": "enabled", "budget_tokens": 0}
        )
    assert raised.value.status_code == 400
    body: Any = raised.value.body
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("thinking.budget_tokens")
    assert upstream.generations() == []


def test_a_wrong_key_is_an_authentication_error(sdk_proxy: InProcessProxy) -> None:
    with anthropic.Anthropic(base_url=sdk_proxy.base, api_key="sk-wrong-000000000000", max_retries=0) as wrong:
        with pytest.raises(anthropic.AuthenticationError) as raised:
            wrong.messages.create(model=HAIKU, max_tokens=5, messages=user_turn("hi"))
    assert raised.value.status_code == 401


def test_a_stream_google_breaks_part_way_raises_in_the_sdk_after_the_text_so_far(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    upstream.google.reply([text("one ")], [text("two ")], [text("three")])
    upstream.google.fail("streamGenerateContent", 200, cut_after=1)
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as raised:
        with anthropic_client.messages.stream(
            model=FAILURE_MODEL, max_tokens=50, messages=user_turn("count")
        ) as stream:
            seen.extend(stream.text_stream)
    assert seen == ["one "]
    body: Any = raised.value.body
    assert body["type"] == "error" and "broke off part-way" in body["error"]["message"]


def test_count_tokens_is_estimated_when_google_cannot_be_asked(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    """Claude Code compacts its context from this number: every account failing gives an estimate, never 0."""
    upstream.google.fail("countTokens", 503, times=50)
    try:
        counted = anthropic_client.messages.count_tokens(
            model=FAILURE_MODEL, messages=[{"role": "user", "content": "a few words to count " * 40}]
        )
    finally:
        upstream.google.clear_scripts()
    assert counted.input_tokens > 50
