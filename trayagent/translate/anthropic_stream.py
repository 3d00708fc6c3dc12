"""Gemini chunks → Anthropic's stream events, in exactly the order the SDKs and Claude Code expect.

    message_start, then per block content_block_start → content_block_delta… → content_block_stop,
    then message_delta (stop_reason, usage) and message_stop; `ping` on long silences.

A thinking block gets its `signature_delta` just before it stops. When Google breaks part-way (or ends with a
broken reply) the stream ends with one `error` event carrying Anthropic's error body, as Anthropic's own API does:
open blocks are left unclosed, because Claude Code keeps every block it saw stop and would keep a half tool call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

import orjson

from trayagent.errors import ProxyError
from trayagent.translate.anthropic_reply import (
    stop_of,
    text_of,
    thinking_of,
    tool_use_of,
    usage_of,
)
from trayagent.translate.anthropic_request import Echo
from trayagent.translate.error_shapes import render_anthropic_error
from trayagent.translate.gemini import CallIds, first_candidate, lone_text, parts_of
from trayagent.translate.hub import ReplyIds, sse_event
from trayagent.translate.outcome import block_reason

PING: Final = sse_event(b'{"type":"ping"}', "ping")
_Block = Literal["text", "thinking", "tool_use"]

# The events every reply streams, as the bytes `_event` writes for them, so that a text delta costs one orjson
# call on its string (orjson writes a value the same bytes inside an object or alone). %d: the block's index;
# %s: a JSON value. The golden streams hold these bytes.
_MESSAGE_START: Final = (
    b"event: message_start\n"
    b'data: {"type":"message_start","message":{"id":%s,"type":"message","role":"assistant","model":%s,'
    b'"content":[],"stop_reason":null,"stop_sequence":null,"usage":%s}}\n\n'
)
_TEXT_START: Final = (
    b"event: content_block_start\n"
    b'data: {"type":"content_block_start","index":%d,"content_block":{"type":"text","text":""}}\n\n'
)
_TEXT_DELTA: Final = (
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":%s}}\n\n'
)
_BLOCK_STOP: Final = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":%d}\n\n'
_MESSAGE_DELTA: Final = b'event: message_delta\ndata: {"type":"message_delta","delta":%s,"usage":%s}\n\n'
_MESSAGE_STOP: Final = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'


def _event(name: str, payload: Mapping[str, Any]) -> bytes:
    return sse_event(orjson.dumps(payload), name)


class MessagesEncoder:
    """One streamed reply. Every method returns the bytes to write now (possibly b"")."""

    __slots__ = (
        "_blocked",
        "_calls",
        "_echo",
        "_finish",
        "_finish_message",
        "_ids",
        "_index",
        "_keep",
        "_open",
        "_over",
        "_started",
        "_tail",
        "_tools",
        "_usage",
        "_visible",
    )

    def __init__(self, echo: Echo, ids: ReplyIds) -> None:
        self._echo = echo
        self._ids = ids
        self._started = False
        self._over = False
        self._open: _Block | None = None
        self._index = -1
        self._tools = 0
        self._visible = False
        self._tail = ""  # the end of the open text block, as long as the longest stop sequence
        self._keep = max(map(len, echo.stop_sequences), default=0)
        self._finish: str | None = None
        self._finish_message: str | None = None
        self._blocked: str | None = None  # the prompt's block reason
        self._usage: Mapping[str, Any] | None = None
        self._calls: CallIds | None = None  # made at the first call: most replies have none

    def feed(self, chunk: Mapping[str, Any]) -> bytes:
        if self._over:
            return b""
        plain = lone_text(chunk)
        if plain is not None:  # most chunks: one piece of text (the general path below gives the same bytes)
            text, stops = plain
            usage = chunk.get("usageMetadata")
            if isinstance(usage, dict):
                self._usage = usage
            if stops:
                self._finish = "STOP"
            return (b"" if self._started else self._message_start()) + self._text(text)
        # The last usage, feedback and finish seen are the reply's (as merge_chunks keeps them).
        usage = chunk.get("usageMetadata")
        if isinstance(usage, dict):
            self._usage = usage
        if isinstance(chunk.get("promptFeedback"), dict):
            self._blocked = block_reason(chunk)
        out = b"" if self._started else self._message_start()
        candidate = first_candidate(chunk)
        finish = candidate.get("finishReason")
        if isinstance(finish, str):
            self._finish = finish
        finish_message = candidate.get("finishMessage")
        if isinstance(finish_message, str):
            self._finish_message = finish_message
        for part in parts_of(candidate):
            out += self._part(part)
        return out

    def finish(self) -> bytes:
        if self._over:
            return b""
        out = b"" if self._started else self._message_start()
        stop = stop_of(
            self._echo,
            self._finish,
            self._blocked,
            tools=self._tools > 0,
            visible=self._visible,
            last_text=self._tail if self._open == "text" else "",
            finish_message=self._finish_message,
        )
        if isinstance(stop, ProxyError):
            return out + self.fail(stop)
        self._over = True
        delta: dict[str, Any] = {"stop_reason": stop.reason, "stop_sequence": stop.sequence}
        if stop.details is not None:
            delta["stop_details"] = stop.details
        return (
            out
            + self._close()
            + _MESSAGE_DELTA % (orjson.dumps(delta), orjson.dumps(usage_of(self._usage)))
            + _MESSAGE_STOP
        )

    def fail(self, error: ProxyError) -> bytes:
        if self._over:
            return b""
        self._over = True
        return _event("error", render_anthropic_error(error))

    def keepalive(self) -> bytes:
        return b"" if self._over else PING

    def _message_start(self) -> bytes:
        self._started = True
        message_id = self._ids.new("msg_")
        return _MESSAGE_START % (
            orjson.dumps(message_id),
            orjson.dumps(self._echo.model),
            orjson.dumps(usage_of(self._usage)),
        )

    def _part(self, part: Mapping[str, Any]) -> bytes:
        text = part.get("text")
        if len(part) == 1 and isinstance(text, str):  # a plain piece of text, most parts: nothing else to ask
            return self._text(text)
        if part.get("thought"):
            thinking, signature = thinking_of(self._echo, part)
            if not thinking and not signature:
                return b""
            out = b""
            if self._open != "thinking":
                out += self._start({"type": "thinking", "thinking": "", "signature": ""}, "thinking")
            if thinking:
                out += self._delta({"type": "thinking_delta", "thinking": thinking})
            if signature:
                # A signature closes its thought (the merged reply splits there too).
                out += self._delta({"type": "signature_delta", "signature": signature}) + self._close()
            return out
        call = part.get("functionCall")
        if isinstance(call, dict):
            if self._echo.single_tool and self._tools:
                return b""
            if self._calls is None:
                self._calls = CallIds(self._ids, "toolu_")
            block = tool_use_of(self._echo, call, self._calls)
            self._tools += 1
            self._visible = True
            out = self._start({**block, "input": {}}, "tool_use")
            out += self._delta({"type": "input_json_delta", "partial_json": orjson.dumps(block["input"]).decode()})
            return out + self._close()
        return self._text(text_of(part))

    def _text(self, text: str) -> bytes:
        if not text:
            return b""
        self._visible = True
        out = b"" if self._open == "text" else self._start_text()
        if self._keep:
            self._tail = (self._tail + text)[-self._keep :]
        return out + _TEXT_DELTA % (self._index, orjson.dumps(text))

    def _start(self, block: Mapping[str, Any], kind: _Block) -> bytes:
        out = self._next_block(kind)
        return out + _event(
            "content_block_start", {"type": "content_block_start", "index": self._index, "content_block": block}
        )

    def _start_text(self) -> bytes:
        out = self._next_block("text")
        return out + _TEXT_START % self._index

    def _next_block(self, kind: _Block) -> bytes:
        """Closes the open block (its bytes) and makes `kind` the open one, at the next index."""
        out = self._close()
        self._index += 1
        self._open = kind
        self._tail = ""
        return out

    def _delta(self, delta: Mapping[str, Any]) -> bytes:
        return _event("content_block_delta", {"type": "content_block_delta", "index": self._index, "delta": delta})

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return _BLOCK_STOP % self._index
