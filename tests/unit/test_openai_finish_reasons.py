"""Every way a Gemini candidate can end, in OpenAI's words, streamed and not. The list of reasons is
google-genai's own enum: a reason Google adds later fails here until it is decided."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from google.genai import types as genai

from tests.golden import encode_stream
from trayagent.errors import StreamBroken
from trayagent.translate.hub import ClientTarget, CountingIds
from trayagent.translate.openai_chat import CHAT
from trayagent.translate.openai_completions import COMPLETIONS

FILTER = ("content_filter", "content_filter", "content_filter")
BROKEN = ("error", "error", "error")
LIMIT = ("length", "length", "length")
NATURAL = ("stop", "tool_calls", "error")
# reason → what a candidate with (text, a function call, nothing) ends as; "error" = the SDK raises.
EXPECTED: dict[str | None, tuple[str, str, str]] = {
    None: NATURAL,  # the stream ended without a reason
    "FINISH_REASON_UNSPECIFIED": NATURAL,
    "STOP": NATURAL,
    "OTHER": NATURAL,
    "NO_IMAGE": NATURAL,
    "IMAGE_OTHER": NATURAL,
    "MAX_TOKENS": LIMIT,
    "CONTINUATION": LIMIT,
    "TOO_MANY_TOOL_CALLS": ("length", "tool_calls", "length"),
    "SAFETY": FILTER,
    "RECITATION": FILTER,
    "LANGUAGE": FILTER,
    "BLOCKLIST": FILTER,
    "PROHIBITED_CONTENT": FILTER,
    "SPII": FILTER,
    "IMAGE_SAFETY": FILTER,
    "IMAGE_PROHIBITED_CONTENT": FILTER,
    "IMAGE_RECITATION": FILTER,
    "MODEL_ARMOR": FILTER,
    "ESCALATION": FILTER,
    "PUP_LIMITED_DISABLED": FILTER,
    "MALFORMED_FUNCTION_CALL": BROKEN,
    "UNEXPECTED_TOOL_CALL": BROKEN,
    "MALFORMED_RESPONSE": BROKEN,
    "MISSING_THOUGHT_SIGNATURE": BROKEN,
}
SHAPES: dict[str, list[dict[str, Any]]] = {
    "text": [{"text": "Hi."}],
    "call": [{"functionCall": {"name": "ping", "args": {}}}],
    "nothing": [],
}
BODY = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "Go."}],
    "tools": [{"type": "function", "function": {"name": "ping"}}],
}


def test_every_gemini_finish_reason_is_decided() -> None:
    assert {reason.value for reason in genai.FinishReason} == set(EXPECTED) - {None}


def _chunk(reason: str | None, parts: list[dict[str, Any]]) -> dict[str, Any]:
    candidate: dict[str, Any] = {"index": 0}
    if parts:
        candidate["content"] = {"role": "model", "parts": parts}
    if reason is not None:
        candidate["finishReason"] = reason
    return {"candidates": [candidate], "usageMetadata": {"promptTokenCount": 3}}


def _rendered(body: dict[str, Any], chunk: dict[str, Any]) -> str:
    frontend = CHAT if "messages" in body else COMPLETIONS
    try:
        reply = frontend.render(frontend.parse(body, ClientTarget()), chunk, CountingIds())
    except StreamBroken:
        return "error"
    return str(reply["choices"][0]["finish_reason"])


def _streamed(body: dict[str, Any], chunk: dict[str, Any]) -> str:
    frontend = CHAT if "messages" in body else COMPLETIONS
    wire = encode_stream(frontend, frontend.parse({**body, "stream": True}, ClientTarget()), [chunk])
    events = [orjson.loads(line[6:]) for line in wire.split(b"\n\n") if line.startswith(b"data: {")]
    if "error" in events[-1]:
        assert events[-1]["error"]["type"] == "server_error"
        return "error"
    return str(events[-1]["choices"][0]["finish_reason"])


@pytest.mark.parametrize("reason", list(EXPECTED), ids=str)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_chat_finish_reason(reason: str | None, shape: str) -> None:
    expected = EXPECTED[reason][list(SHAPES).index(shape)]
    chunk = _chunk(reason, SHAPES[shape])
    assert _rendered(BODY, chunk) == expected
    assert _streamed(BODY, chunk) == expected


@pytest.mark.parametrize("reason", list(EXPECTED), ids=str)
def test_completion_finish_reason(reason: str | None) -> None:
    body = {"model": "gpt-4o", "prompt": "Go."}
    for shape, column in (("text", 0), ("nothing", 2)):
        chunk = _chunk(reason, SHAPES[shape])
        assert _rendered(body, chunk) == _streamed(body, chunk) == EXPECTED[reason][column]


def test_an_empty_text_part_is_no_answer() -> None:
    chunk = _chunk("STOP", [{"text": ""}, {"text": "", "thought": True, "thoughtSignature": "c2ln"}])
    assert _rendered(BODY, chunk) == _streamed(BODY, chunk) == "error"


def test_thinking_alone_is_no_answer_but_thinking_cut_by_the_limit_is_length() -> None:
    thought = [{"text": "Hmm", "thought": True}]
    assert _rendered(BODY, _chunk("STOP", thought)) == "error"
    assert _rendered(BODY, _chunk("MAX_TOKENS", thought)) == "length"


def test_a_refused_prompt_filters_every_choice() -> None:
    blocked = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3}}
    body = {**BODY, "n": 2}
    reply = CHAT.render(CHAT.parse(body, ClientTarget()), blocked, CountingIds())
    assert [(c["index"], c["finish_reason"], c["message"]["content"]) for c in reply["choices"]] == [
        (0, "content_filter", None),
        (1, "content_filter", None),
    ]
    wire = encode_stream(CHAT, CHAT.parse({**body, "stream": True}, ClientTarget()), [blocked])
    assert wire.count(b'"finish_reason":"content_filter"') == 2


def test_nothing_at_all_is_the_empty_reply_error() -> None:
    with pytest.raises(StreamBroken, match="empty reply"):
        CHAT.render(CHAT.parse(BODY, ClientTarget()), {"usageMetadata": {"promptTokenCount": 3}}, CountingIds())


def test_what_came_before_an_unusable_ending_still_goes_out_then_the_error() -> None:
    call = CHAT.parse({**BODY, "stream": True}, ClientTarget())
    chunk = _chunk("MALFORMED_FUNCTION_CALL", [{"text": "Calling ping."}])
    encoder = CHAT.encoder(call, CountingIds())
    with pytest.raises(StreamBroken, match="MALFORMED_FUNCTION_CALL"):
        encoder.feed(chunk)  # the relay sees an upstream failure...
    wire = encoder.fail(StreamBroken("the reply was unusable"))  # ...and ends the stream with fail()
    events = [orjson.loads(line[6:]) for line in wire.split(b"\n\n") if line.startswith(b"data: {")]
    assert [event["choices"][0]["delta"] for event in events[:-1]] == [
        {"role": "assistant", "content": ""},
        {"content": "Calling ping."},
    ]
    assert events[-1]["error"]["message"] == "the reply was unusable"
    assert wire.endswith(b"data: [DONE]\n\n")
    assert encoder.finish() == encoder.fail(StreamBroken("again")) == encoder.keepalive() == b""


def test_keepalive_is_an_sse_comment() -> None:
    encoder = CHAT.encoder(CHAT.parse({**BODY, "stream": True}, ClientTarget()), CountingIds())
    assert encoder.keepalive().startswith(b":") and encoder.keepalive().endswith(b"\n\n")
