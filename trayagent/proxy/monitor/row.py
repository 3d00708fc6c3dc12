"""One request-log row: what the monitor keeps of a finished Exchange, redacted and size-capped. Pure.

The conversion runs on the monitor's writer thread, never on the request path: redacting a 64 KiB body
costs real time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from trayagent.frozen import frozen
from trayagent.proxy.exchange import Exchange
from trayagent.redact import redact

BODY_CAP = 64 * 1024  # bytes kept of each logged body
ERROR_CAP = 2048  # characters kept of an error summary
NAME_CAP = 200  # characters kept of a client-chosen model name or path
_REDACT_MARGIN = 1024  # extra input redacted past the cap, so a secret cut at the cap is still recognised
_TRUNCATED = "…[truncated]"


@frozen  # made for every request: see trayagent/frozen.py
class LogRow:
    time: float  # epoch seconds the request started
    protocol: str
    path: str
    client_model: str
    upstream_model: str | None
    account: str | None  # masked email
    status: int
    duration_ms: float | None
    ttfb_ms: float | None
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    thinking_tokens: int
    error: str | None
    stream: bool
    attempts: int
    upstream_failures: str | None  # failure kinds of the upstream calls, comma-separated, in order
    request_body: str | None = None
    response_body: str | None = None

    @property
    def failed(self) -> bool:
        return is_error_status(self.status)

    @property
    def model(self) -> str:
        """The model the statistics count this request under: the upstream one when routing got that far."""
        return self.upstream_model or self.client_model


def is_error_status(status: int) -> bool:
    """A 4xx/5xx, or no status at all (the exchange never completed)."""
    return not 100 <= status < 400


def row_from_exchange(exchange: Exchange, *, log_bodies: bool, body_cap: int = BODY_CAP) -> LogRow:
    inputs, outputs, cached, thinking = exchange.tokens()
    error = clip_text(exchange.error, ERROR_CAP) if exchange.error else None
    return LogRow(
        time=exchange.started_at,
        protocol=exchange.protocol,
        path=_name(exchange.path),
        client_model=_name(exchange.client_model),
        upstream_model=_name(exchange.upstream_model) if exchange.upstream_model else None,
        account=redact(exchange.account) if exchange.account else None,
        status=exchange.status,
        duration_ms=_ms(exchange.duration_s),
        ttfb_ms=_ms(exchange.first_byte_s),
        input_tokens=inputs,
        output_tokens=outputs,
        cached_tokens=cached,
        thinking_tokens=thinking,
        error=error,
        stream=exchange.stream,
        attempts=exchange.attempts,
        upstream_failures=",".join(exchange.upstream_failures) or None,
        request_body=clip_body(exchange.request_body, body_cap) if log_bodies else None,
        response_body=clip_body(exchange.response_body, body_cap) if log_bodies else None,
    )


def clip_body(body: bytes | None, cap: int = BODY_CAP) -> str | None:
    """A body as redacted UTF-8 text of at most `cap` bytes (plus a truncation mark)."""
    if body is None:
        return None
    truncated = len(body) > cap
    text = redact(body[: cap + _REDACT_MARGIN].decode("utf-8", "replace"))
    if not truncated:
        return text
    # The input was cut: whatever sits in the last stretch may be half a secret the patterns missed.
    text = text[: max(0, len(text) - _REDACT_MARGIN)]
    kept = text.encode("utf-8")[:cap].decode("utf-8", "ignore")
    return kept + _TRUNCATED


def clip_text(text: str, cap: int) -> str:
    """Redacted, and at most `cap` characters (plus a truncation mark)."""
    cut = len(text) > cap + _REDACT_MARGIN
    text = redact(text[: cap + _REDACT_MARGIN])
    if cut:  # as for bodies: the end of what was redacted may hold half a secret
        text = text[: max(0, len(text) - _REDACT_MARGIN)]
    return text[:cap] + _TRUNCATED if cut or len(text) > cap else text


def hour_of(moment: float) -> int:
    """The start of the UTC hour holding `moment`, in epoch seconds."""
    return int(moment // 3600) * 3600


def iso(moment: float | None) -> str | None:
    """Epoch seconds as ISO-8601 UTC with a Z (`2026-11-23T14:00:00Z`; milliseconds when not whole)."""
    if moment is None:
        return None
    when = datetime.fromtimestamp(moment, UTC)
    spec = "seconds" if when.microsecond == 0 else "milliseconds"
    return when.isoformat(timespec=spec).replace("+00:00", "Z")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _name(text: str) -> str:
    return redact(text[:NAME_CAP])
