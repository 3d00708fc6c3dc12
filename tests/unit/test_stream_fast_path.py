"""The stream encoders' short path for the commonest chunk (one bare piece of text, `gemini.lone_text`) writes
exactly the bytes their general path writes for it.

The general path is forced by giving each candidate a key the encoders ignore (`safetyRatings`), which
`lone_text` refuses: the two streams must be byte for byte the same, and the plain one must really have
taken the short path (else this would compare the general path with itself).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from trayagent.translate.anthropic import MESSAGES
from trayagent.translate.gemini import lone_text
from trayagent.translate.hub import ClientTarget, CountingIds, StreamEncoder
from trayagent.translate.openai_chat import CHAT
from trayagent.translate.openai_completions import COMPLETIONS
from trayagent.translate.openai_responses import RESPONSES


def text_chunk(text: str, index: int | None = None, **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if index is not None:
        candidate["index"] = index
    return {"candidates": [candidate], "modelVersion": "gemini-2.5-flash", **extra}


USAGE = {"promptTokenCount": 9, "candidatesTokenCount": 7, "totalTokenCount": 16}


def last(text: str, **extra: Any) -> dict[str, Any]:
    chunk = text_chunk(text, usageMetadata=USAGE, **extra)
    chunk["candidates"][0]["finishReason"] = "STOP"
    return chunk


def test_lone_text_is_the_text_of_a_chunk_that_says_nothing_else() -> None:
    assert lone_text(text_chunk("hi")) == ("hi", False)
    assert lone_text(text_chunk("hi", index=0)) == ("hi", False)
    assert lone_text(text_chunk("hi", usageMetadata=USAGE)) == ("hi", False)  # usage rides along
    assert lone_text(last("end.")) == ("end.", True)  # the last piece of text, with STOP


@pytest.mark.parametrize(
    "chunk",
    [
        text_chunk(""),  # nothing to send
        text_chunk("hi", index=1),  # another choice's
        text_chunk("hi", promptFeedback={"blockReason": "SAFETY"}),
        {"candidates": [{"content": {"parts": [{"text": "a"}, {"text": "b"}]}}]},  # two parts
        {"candidates": [{"content": {"parts": [{"text": "a", "thought": True}]}}]},
        {"candidates": [{"content": {"parts": [{"text": "a", "thoughtSignature": "c2ln"}]}}]},
        {"candidates": [{"content": {"parts": [{"text": "a"}]}, "finishReason": "MAX_TOKENS"}]},
        {"candidates": [{"content": {"parts": [{"text": "a"}]}, "finishReason": "STOP", "finishMessage": "m"}]},
        {"candidates": [{"content": {"parts": [{"text": ""}]}, "finishReason": "STOP"}]},
        {"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": {}}}]}}]},
        {"candidates": [text_chunk("a")["candidates"][0], text_chunk("b", index=1)["candidates"][0]]},
        {"candidates": [{"content": {"parts": ["junk"]}}]},
        {"candidates": [{"content": "junk"}]},
        {"candidates": "junk"},
        {"candidates": "j"},  # one character unpacks like one candidate
        {"candidates": {"only": "key"}},
        {"candidates": [["content"]]},
        {"candidates": [{"content": {"parts": "p"}}]},
        {"candidates": [{"content": {"parts": [["text"]]}}]},
        {"candidates": [{"content": {"parts": [{"text": 5}]}}]},
        {"candidates": [{"content": ["parts"]}]},
        {"usageMetadata": USAGE},
    ],
)
def test_lone_text_refuses_every_other_chunk(chunk: dict[str, Any]) -> None:
    assert lone_text(chunk) is None


def general(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same chunks, each candidate carrying a key the encoders ignore, so none takes the short path."""
    out = copy.deepcopy(chunks)
    for chunk in out:
        for candidate in chunk.get("candidates", []):
            candidate["safetyRatings"] = []
    return out


def stream(make: Callable[[], StreamEncoder], chunks: list[dict[str, Any]]) -> bytes:
    encoder = make()
    return b"".join(encoder.feed(chunk) for chunk in chunks) + encoder.finish()


REPLY = [
    text_chunk("The "),
    text_chunk('"quoted" \\ naïve — ✓ ', index=0),
    text_chunk("line\nbreak ", usageMetadata=USAGE),
    last("end."),
]
THINKING_FIRST = [
    {"candidates": [{"content": {"parts": [{"text": "pondering", "thought": True}]}}]},
    text_chunk("Answer "),  # opens the message: the general path's work
    text_chunk("goes on"),
    last("."),
]
TWO_CHOICES = [
    {"candidates": [text_chunk("a0 ")["candidates"][0], text_chunk("b0 ", index=1)["candidates"][0]]},
    text_chunk("a1 "),
    text_chunk("b1 ", index=1),
    {
        "candidates": [
            {"content": {"parts": [{"text": "a2"}]}, "index": 0, "finishReason": "STOP"},
            {"content": {"parts": [{"text": "b2"}]}, "index": 1, "finishReason": "STOP"},
        ],
        "usageMetadata": USAGE,
    },
]

CHAT_BODY = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}], "stream": True}
CASES = {
    "chat": (CHAT, {**CHAT_BODY, "stream_options": {"include_usage": True}}, [REPLY, THINKING_FIRST]),
    "chat n=2": (CHAT, {**CHAT_BODY, "n": 2}, [TWO_CHOICES]),
    "completions": (
        COMPLETIONS,
        {"model": "gemini-2.5-flash", "prompt": "hi", "stream": True, "n": 2},
        [REPLY, TWO_CHOICES],
    ),
    "responses": (RESPONSES, {"model": "gemini-2.5-flash", "input": "hi", "stream": True}, [REPLY, THINKING_FIRST]),
    "anthropic": (
        MESSAGES,
        {
            "model": "claude-sonnet-4-6",
            "max_tokens": 64,
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        },
        [REPLY, THINKING_FIRST],
    ),
    "responses with summaries": (
        RESPONSES,
        {"model": "gemini-2.5-flash", "input": "hi", "stream": True, "reasoning": {"summary": "auto"}},
        [THINKING_FIRST],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_short_path_writes_the_general_path_s_bytes(case: str) -> None:
    frontend, body, replies = CASES[case]
    call = frontend.parse(copy.deepcopy(body), ClientTarget())
    for chunks in replies:
        assert any(lone_text(chunk) is not None for chunk in chunks[1:])  # the short path is taken
        assert all(lone_text(chunk) is None for chunk in general(chunks))
        short = stream(lambda: frontend.encoder(call, CountingIds()), chunks)
        long = stream(lambda: frontend.encoder(call, CountingIds()), general(chunks))
        assert short == long
        assert b"end." in short or b"b2" in short or b"goes on" in short


@pytest.mark.parametrize("index", [None, "0", 1, [], 0.5])
def test_a_candidate_whose_index_is_not_0_is_not_plain(index: object) -> None:
    chunk = text_chunk("hi")
    chunk["candidates"][0]["index"] = index
    assert lone_text(chunk) is None


@pytest.mark.parametrize(
    "meta",
    [
        None,
        USAGE,
        {"promptTokenCount": 10, "cachedContentTokenCount": 4, "candidatesTokenCount": 3, "thoughtsTokenCount": 8},
        {"promptTokenCount": True, "candidatesTokenCount": -2, "toolUsePromptTokenCount": 5},
    ],
)
def test_the_chat_usage_template_writes_the_usage_object(meta: dict[str, Any] | None) -> None:
    import orjson

    from trayagent.translate.openai_reply import usage, usage_json

    assert usage_json(meta) == orjson.dumps(usage(meta))


def test_the_chat_choice_templates_write_the_choice_objects() -> None:
    import orjson

    from trayagent.translate.openai_chat import _FINAL, _OPENING, _choice

    assert _OPENING % 1 == orjson.dumps(_choice(1, {"role": "assistant", "content": ""}))
    assert _FINAL % (2, b'"tool_calls"') == orjson.dumps(_choice(2, {}, "tool_calls"))
