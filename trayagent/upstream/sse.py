"""An incremental Server-Sent Events decoder, and the unwrapping of Cloud Code's `{"response": …}` chunks.

Pure. Bytes arrive in arbitrary TCP pieces: an event, a line, a `\\r\\n` pair or a UTF-8 character may
be split anywhere. `feed()` returns the events completed so far; `finish()` flushes the last one.
Comments (`:`), keep-alives, `id:`/`retry:` and unknown fields are tolerated, as the SSE spec says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SseEvent:
    data: str
    event: str = "message"
    id: str | None = None


class SseDecoder:
    def __init__(self) -> None:
        self._tail = b""  # an unfinished line
        self._skip_lf = False  # the last piece ended with "\r": a leading "\n" belongs to it
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._skip_lf = False
        if not chunk:
            return []
        buffer = self._tail + chunk if self._tail else chunk
        if buffer.endswith(b"\r"):
            lines = _LINE_END.split(buffer[:-1])
            self._tail = b""
            self._skip_lf = True
        else:
            lines = _LINE_END.split(buffer)
            self._tail = lines.pop()
        events: list[SseEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def finish(self) -> list[SseEvent]:
        """The stream ended: a last line and event without their blank line still count."""
        events = []
        if self._tail:
            tail, self._tail = self._tail, b""
            event = self._line(tail)
            if event is not None:
                events.append(event)
        event = self._line(b"")
        if event is not None:
            events.append(event)
        return events

    def _line(self, raw: bytes) -> SseEvent | None:
        if not raw:
            return self._dispatch()
        if raw[:1] == b":":
            return None  # a comment or keep-alive
        line = raw.decode("utf-8", "replace")
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None  # retry and unknown fields: nothing for us

    def _dispatch(self) -> SseEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SseEvent(data="\n".join(self._data), event=self._event or "message", id=self._id)
        self._data = []
        self._event = ""
        return event


def unwrap_response(data: str | bytes) -> dict[str, Any] | None:
    """The GenerateContentResponse inside a Cloud Code chunk; None for `[DONE]`, non-JSON or non-objects."""
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict):
        return None
    inner = payload.get("response")
    return inner if isinstance(inner, dict) else payload
