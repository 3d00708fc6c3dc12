"""The official `anthropic` SDK is the authority on reply shapes: every golden reply validates as its `Message`,
and every golden stream goes through the SDK's own SSE decoder and MessageStream accumulator, ending in exactly the
message the non-streamed reply renders for the same chunks (or in the same error)."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic.lib.streaming import AsyncMessageStream, MessageStream
from anthropic.types import Message, RawMessageStreamEvent

from tests.golden import Case, cases, encode_stream, target_of
from trayagent.errors import ProxyError, StreamBroken
from trayagent.translate.anthropic import MESSAGES
from trayagent.translate.gemini import merge_chunks
from trayagent.translate.hub import CountingIds

CLIENT = anthropic.Anthropic(api_key="sk-test", base_url="http://127.0.0.1:9", max_retries=0)
ASYNC_CLIENT = anthropic.AsyncAnthropic(api_key="sk-test", base_url="http://127.0.0.1:9", max_retries=0)
EVENT: Any = RawMessageStreamEvent  # a union alias: the SDK's own streams pass it the same way
REPLIES = [case for case in cases("anthropic") if case.has("reply.json")]
STREAMS = [case for case in cases("anthropic") if case.has("stream.txt")]


def sse_response(wire: bytes) -> httpx2.Response:
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/messages")
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=wire, request=request)


def accumulate(wire: bytes) -> Message:
    raw: anthropic.Stream[RawMessageStreamEvent] = anthropic.Stream(
        cast_to=EVENT, response=sse_response(wire), client=CLIENT
    )
    with MessageStream(raw, output_format=anthropic.NOT_GIVEN) as stream:
        return Message.model_validate(stream.get_final_message().to_dict())


def accumulate_async(wire: bytes) -> Message:
    async def run() -> Message:
        response = sse_response(wire)
        raw: anthropic.AsyncStream[RawMessageStreamEvent] = anthropic.AsyncStream(
            cast_to=EVENT, response=response, client=ASYNC_CLIENT
        )
        async with AsyncMessageStream(raw, output_format=anthropic.NOT_GIVEN) as stream:
            return Message.model_validate((await stream.get_final_message()).to_dict())

    return asyncio.run(run())


def streamed(case: Case) -> bytes:
    """The wire bytes the encoder writes now for the case's chunks (golden.py compares them with stream.txt)."""
    return encode_stream(MESSAGES, MESSAGES.parse(case.read("client.json"), target_of(case)), case.read("chunks.json"))


def rendered(case: Case) -> dict[str, Any] | ProxyError:
    call = MESSAGES.parse(case.read("client.json"), target_of(case))
    try:
        reply: dict[str, Any] = MESSAGES.render(call, merge_chunks(case.read("chunks.json")), CountingIds())
    except ProxyError as error:
        return error
    return reply


@pytest.mark.parametrize("case", REPLIES, ids=lambda c: c.name)
def test_reply_is_an_sdk_message(case: Case) -> None:
    reply = case.read("reply.json")
    message = Message.model_validate(reply)
    assert message.to_dict() == reply  # nothing we send is unknown to the SDK or reshaped by it


@pytest.mark.parametrize("case", STREAMS, ids=lambda c: c.name)
def test_stream_accumulates_to_the_rendered_reply(case: Case) -> None:
    wire = streamed(case)
    expected = rendered(case)
    if isinstance(expected, ProxyError):
        with pytest.raises(anthropic.APIStatusError) as raised:
            accumulate(wire)
        assert raised.value.body == MESSAGES.render_error(expected)
        return
    assert accumulate(wire) == Message.model_validate(expected)
    assert accumulate_async(wire) == Message.model_validate(expected)


def test_every_stream_kind_is_covered() -> None:
    outcomes = {type(rendered(case)).__name__ for case in STREAMS}
    assert outcomes == {"dict", "StreamBroken"}
    stop_reasons = {r["stop_reason"] for c in STREAMS + REPLIES if isinstance(r := rendered(c), dict)}
    assert stop_reasons == {"end_turn", "max_tokens", "tool_use", "stop_sequence", "refusal"}


@pytest.mark.parametrize("case", [c for c in STREAMS if c.has("broken.json")], ids=lambda c: c.name)
def test_a_broken_stream_raises_the_sdk_error(case: Case) -> None:
    call = MESSAGES.parse(case.read("client.json"), target_of(case))
    error = StreamBroken(case.read("broken.json")["message"])
    wire = encode_stream(MESSAGES, call, case.read("chunks.json"), error)
    with pytest.raises(anthropic.APIStatusError) as raised:
        accumulate(wire)
    assert raised.value.body == {"type": "error", "error": {"type": "api_error", "message": error.message}}


@pytest.mark.parametrize("case", [c for c in STREAMS if not isinstance(rendered(c), ProxyError)], ids=lambda c: c.name)
def test_chunk_boundaries_do_not_change_the_message(case: Case) -> None:
    """Google may split a reply anywhere between parts: one part per chunk gives the same message."""
    call = MESSAGES.parse(case.read("client.json"), target_of(case))
    fine: list[dict[str, Any]] = []
    for chunk in case.read("chunks.json"):
        candidate = chunk.get("candidates", [{}])[0]
        parts = candidate.get("content", {}).get("parts", [])
        last = {key: value for key, value in chunk.items() if key != "candidates"}
        tail = {key: value for key, value in candidate.items() if key != "content"}
        for part in parts:
            fine.append({"candidates": [{"content": {"role": "model", "parts": [part]}, "index": 0}]})
        fine.append({**last, "candidates": [{**tail, "content": {"role": "model", "parts": []}}]})
    wire = encode_stream(MESSAGES, call, fine)
    assert accumulate(wire) == accumulate(streamed(case))
