"""What counts as a complete, successful reply in each protocol, for the load generator of `make bench`.

A reply passes when it parses, carries its protocol's terminal event or field (finishReason STOP, finish_reason
"stop", stop_reason "end_turn", `message_stop`, `response.completed`, `data: [DONE]`), its usage, no error
event, and exactly the text the fake upstream sent (scripts/bench_fake.py). `check(kind, body, text)` gives
None or why not: a short reason, the same for every reply that fails the same way, so errors can be counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from orjson import loads
except ImportError:  # the load generator runs in the project's venv, which has orjson; json is the fallback
    from json import loads


class Incomplete(Exception):
    """The reply is not the complete, successful one its protocol defines; the message says what is missing."""


def sse_events(body: bytes) -> list[tuple[str, bytes]]:
    """(event name or "", data) per SSE event; `\\r\\n` tolerated, comments and empty events skipped."""
    events: list[tuple[str, bytes]] = []
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        name, data = "", []
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                data.append(line[5:].lstrip(b" "))
            elif line.startswith(b"event:"):
                name = line[6:].strip().decode()
        if data:
            events.append((name, b"\n".join(data)))
    return events


def _need(condition: object, why: str) -> None:
    if not condition:
        raise Incomplete(why)


def _gemini_text(response: dict[str, Any]) -> str:
    candidate = response["candidates"][0]
    return "".join(part.get("text", "") for part in candidate.get("content", {}).get("parts", []))


def gemini_json(body: bytes, wrapped: bool = False) -> str:
    response = loads(body)
    response = response["response"] if wrapped else response
    _need(response["candidates"][0].get("finishReason") == "STOP", "no finishReason STOP")
    _need(response.get("usageMetadata"), "no usageMetadata")
    return _gemini_text(response)


def gemini_stream(body: bytes, wrapped: bool = False) -> str:
    chunks = [loads(data) for _, data in sse_events(body)]
    _need(chunks, "no data events")
    if wrapped:
        chunks = [chunk["response"] for chunk in chunks]
    last = chunks[-1]
    _need(last["candidates"][0].get("finishReason") == "STOP", "last chunk without finishReason STOP")
    _need(last.get("usageMetadata"), "last chunk without usageMetadata")
    return "".join(_gemini_text(chunk) for chunk in chunks)


def chat_json(body: bytes) -> str:
    reply = loads(body)
    _need(reply.get("object") == "chat.completion", "not a chat.completion")
    choice = reply["choices"][0]
    _need(choice.get("finish_reason") == "stop", 'no finish_reason "stop"')
    _need(reply.get("usage", {}).get("total_tokens"), "no usage")
    return str(choice["message"]["content"])


def chat_stream(body: bytes) -> str:
    events = sse_events(body)
    _need(events and events[-1][1] == b"[DONE]", "no data: [DONE] at the end")
    chunks = [loads(data) for _, data in events[:-1]]
    _need(all(chunk.get("object") == "chat.completion.chunk" for chunk in chunks), "a data event is not a chunk")
    choices = [choice for chunk in chunks for choice in chunk.get("choices", [])]
    _need(any(choice.get("finish_reason") == "stop" for choice in choices), 'no finish_reason "stop"')
    _need(any((chunk.get("usage") or {}).get("total_tokens") for chunk in chunks), "no usage chunk")
    return "".join(choice.get("delta", {}).get("content") or "" for choice in choices)


def responses_stream(body: bytes) -> str:
    events = sse_events(body)
    names = [name for name, _ in events]
    _need(names and names[-1] == "response.completed", "no response.completed at the end")
    _need("error" not in names and "response.failed" not in names, "an error event")
    _need("response.output_item.done" in names, "no response.output_item.done")  # Codex prints nothing without it
    completed = loads(events[-1][1])["response"]
    _need(completed.get("status") == "completed" and completed.get("id"), "response.completed not completed")
    _need((completed.get("usage") or {}).get("total_tokens"), "no usage")
    deltas = [loads(data)["delta"] for name, data in events if name == "response.output_text.delta"]
    return "".join(deltas)


def messages_json(body: bytes) -> str:
    reply = loads(body)
    _need(reply.get("type") == "message", "not a message")
    _need(reply.get("stop_reason") == "end_turn", 'no stop_reason "end_turn"')
    _need(reply.get("usage", {}).get("output_tokens"), "no usage")
    return "".join(block.get("text", "") for block in reply["content"] if block.get("type") == "text")


def messages_stream(body: bytes) -> str:
    events = sse_events(body)
    names = [name for name, _ in events]
    _need(names and names[0] == "message_start", "no message_start first")
    _need(names[-1] == "message_stop", "no message_stop at the end")
    _need("error" not in names, "an error event")
    # Claude Code shows nothing without content_block_stop.
    _need(names.count("content_block_start") == names.count("content_block_stop"), "a block without its stop")
    text, stop = [], None
    for name, data in events:
        if name == "content_block_delta":
            delta = loads(data)["delta"]
            if delta.get("type") == "text_delta":
                text.append(delta["text"])
        elif name == "message_delta":
            stop = loads(data)["delta"].get("stop_reason")
    _need(stop == "end_turn", 'no message_delta with stop_reason "end_turn"')
    return "".join(text)


CHECKS: dict[str, Callable[[bytes], str]] = {
    "gemini-json": gemini_json,
    "gemini-stream": gemini_stream,
    "cloudcode-json": lambda body: gemini_json(body, wrapped=True),
    "cloudcode-stream": lambda body: gemini_stream(body, wrapped=True),
    "chat-json": chat_json,
    "chat-stream": chat_stream,
    "responses-stream": responses_stream,
    "messages-json": messages_json,
    "messages-stream": messages_stream,
}


def check(kind: str, body: bytes, text: str) -> str | None:
    """None when `body` is a complete, successful `kind` reply holding exactly `text`; else why not."""
    try:
        got = CHECKS[kind](body)
    except Incomplete as exc:
        return str(exc)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        return f"malformed ({type(exc).__name__})"
    return None if got == text else "text differs from what the upstream sent"
