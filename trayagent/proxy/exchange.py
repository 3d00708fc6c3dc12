"""One proxied AI request as the monitor and the metrics see it, filled in while it runs.

A route opens an Exchange, the dispatcher notes the account, the model, the first byte and the usage,
and the route closes it with `ProxyContext.finish(exchange)` once the last byte is written. Observers
(the request monitor, the metrics) get it then: after the response, never on its path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from trayagent.translate.hub import ClientProtocol

BODY_KEEP = 80 * 1024  # bytes of a body kept for the monitor: more than it stores, so it knows it cut one


@dataclass(slots=True)
class Exchange:
    protocol: ClientProtocol
    path: str
    client_model: str
    stream: bool
    started_at: float = field(default_factory=time.time)  # wall clock, for the log
    started_perf: float = field(default_factory=time.perf_counter)  # monotonic, for durations
    upstream_model: str | None = None
    account: str | None = None  # masked email of the account that answered (or the last one tried)
    status: int = 0  # the HTTP status the client got
    first_byte_s: float | None = None  # seconds from start to the first byte sent to the client
    duration_s: float | None = None  # seconds from start to the last byte
    usage: dict[str, Any] | None = None  # Gemini usageMetadata of the reply
    error: str | None = None  # what went wrong, in words (redacted), when status >= 400 or the stream broke
    attempts: int = 0  # upstream calls made (across accounts and retries)
    upstream_failures: list[str] = field(default_factory=list)  # failure kind of each failed upstream call
    keep_bodies: bool = False  # monitor.log_bodies as it was when the request came in
    request_body: bytes | None = None  # kept only when keep_bodies
    response_body: bytes | None = None

    def mark_first_byte(self) -> None:
        if self.first_byte_s is None:
            self.first_byte_s = time.perf_counter() - self.started_perf

    def note_raw_request(self, raw: bytes) -> None:
        """The request's bytes as the client sent them, kept (cut at BODY_KEEP) when bodies are logged."""
        if self.keep_bodies:
            self.request_body = raw[:BODY_KEEP]

    def note_response(self, data: bytes) -> None:
        """Bytes sent to the client (a whole reply, or each stream chunk in turn), kept up to BODY_KEEP."""
        if not self.keep_bodies:
            return
        kept = self.response_body + b"\n" if self.response_body else b""  # one line per stream chunk
        if len(kept) < BODY_KEEP:
            self.response_body = kept + data[: BODY_KEEP - len(kept)]

    def close(self, status: int, error: str | None = None) -> None:
        self.status = status
        if error is not None:
            self.error = error
        self.duration_s = time.perf_counter() - self.started_perf

    def tokens(self) -> tuple[int, int, int, int]:
        """(input, output, cached, thinking) from the usage, zeros when unknown."""
        usage = self.usage or {}

        def read(key: str) -> int:
            value = usage.get(key)
            return value if isinstance(value, int) else 0

        return (
            read("promptTokenCount"),
            read("candidatesTokenCount"),
            read("cachedContentTokenCount"),
            read("thoughtsTokenCount"),
        )
