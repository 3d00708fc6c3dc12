"""Server-sent events: an incremental decoder (bytes in, events out) for the upstream's SSE streams.

Follows the WHATWG event-stream rules, except that `finish()` also delivers a last event that lacks its
closing blank line (the upstream sometimes ends that way; dropping the final chunk would lose usage data).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

import orjson

from trayagent.frozen import frozen

# Work is done per line by C-level splitting, never per byte in Python (this runs on every chunk).
_LINE_END = re.compile(r"\r\n|\r|\n")


@frozen  # made for every request: see trayagent/frozen.py
class SSEEvent:
    data: str
    event: str = "message"
    id: str = ""  # the last event id seen on the stream so far, as the standard defines it


class SSEDecoder:
    """Feed raw chunks as they arrive; get back the events they complete.

    Chunks may split anywhere: inside a UTF-8 character (an incremental decoder holds the partial bytes),
    between `\\r` and `\\n` (remembered in `_after_cr`), or in the middle of a long line (kept as pieces in
    `_tail` and joined once, so a big line arriving in many chunks costs linear time).
    """

    __slots__ = ("_after_cr", "_data", "_event", "_last_id", "_started", "_tail", "_utf8", "retry_ms")

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail: list[str] = []
        self._after_cr = False
        self._started = False
        self._data: list[str] = []
        self._event = ""
        self._last_id = ""
        self.retry_ms: int | None = None  # the stream's `retry:` advice; we never reconnect, only report it

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        return self._text(self._utf8.decode(chunk))

    def finish(self) -> list[SSEEvent]:
        """End of stream: flush a partial character, a last unterminated line and a pending event."""
        events = self._text(self._utf8.decode(b"", final=True))
        if self._tail:
            line = "".join(self._tail)
            self._tail.clear()
            self._line(line, events)
        self._after_cr = False
        self._dispatch(events)
        return events

    def _text(self, text: str) -> list[SSEEvent]:
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._after_cr:
            self._after_cr = False
            if text[:1] == "\n":
                text = text[1:]
        lines = _LINE_END.split(text)
        last = lines.pop()  # what follows the last line break: an unfinished line, or ""
        if not lines:
            if last:
                self._tail.append(last)
            return []
        if self._tail:
            self._tail.append(lines[0])
            lines[0] = "".join(self._tail)
            self._tail.clear()
        if last:
            self._tail.append(last)
        else:
            # A lone `\r` at the very end: a `\n` opening the next chunk belongs to it.
            self._after_cr = text[-1] == "\r"
        events: list[SSEEvent] = []
        for line in lines:
            self._line(line, events)
        return events

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line[0] == ":":  # a comment: keep-alives are sent this way
            return
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self.retry_ms = int(value)
        # Any other field name is ignored, as the standard says.

    def _dispatch(self, events: list[SSEEvent]) -> None:
        if self._data:
            events.append(SSEEvent("\n".join(self._data), self._event or "message", self._last_id))
            self._data = []
        self._event = ""


def decode_all(payload: bytes) -> list[SSEEvent]:
    """A whole stream at once (tests, recorded transcripts)."""
    decoder = SSEDecoder()
    return decoder.feed(payload) + decoder.finish()


def event_json(data: str) -> dict[str, Any] | None:
    """The JSON object carried by an event, unwrapped from the v1internal `{"response": …}` envelope.

    None for data that carries nothing (empty, `[DONE]`). Raises ValueError when the data is not a JSON
    object; an upstream error sent in-stream comes back as `{"error": {…}}` for the caller to act on.
    """
    text = data.strip()
    if not text or text == "[DONE]":
        return None
    value = orjson.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object in the event data, got {type(value).__name__}")
    return unwrap_response(value)


def unwrap_response(body: dict[str, Any]) -> dict[str, Any]:
    """`{"response": X, "traceId": …}` → X; anything else is returned as it is."""
    inner = body.get("response")
    return inner if isinstance(inner, dict) else body
