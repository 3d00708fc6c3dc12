"""A Google API error body, read: status, message and the typed details (ErrorInfo, RetryInfo).

Also the duration and `Retry-After` formats those errors use (`1h16m0.667s`, `1.203s`, `500ms`,
`{"seconds", "nanos"}`, HTTP dates).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

# Go's time.Duration text (quotaResetDelay) and protobuf JSON durations (retryDelay) are both runs of
# number+unit. `ms`/`us`/`ns` come before `m`/`s` in the alternation so "500ms" is not read as 500 minutes.
_DURATION = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:ms|us|µs|μs|ns|h|m|s)")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|us|µs|μs|ns|h|m|s)")
_DURATION_FULL = re.compile(f"(?:{_DURATION.pattern})+")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9}
# "Your quota will reset after 1h43m56s." / "Please retry after 12s" in messages without structured details.
_TEXT_DELAY = re.compile(rf"(?:reset|retry) after ((?:{_DURATION.pattern})+)", re.IGNORECASE)
_MESSAGE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """What an upstream error said. Every field is optional: bodies may be partial, HTML or empty."""

    code: int | None = None
    status: str = ""  # google.rpc.Code name, e.g. RESOURCE_EXHAUSTED
    message: str = ""
    reason: str = ""  # ErrorInfo.reason, e.g. QUOTA_EXHAUSTED
    metadata: Mapping[str, str] = field(default_factory=dict)  # ErrorInfo.metadata
    retry_delay_s: float | None = None  # RetryInfo.retryDelay
    text: str = ""  # the raw body when it was not a JSON error (trimmed), for text fallbacks

    @property
    def quota_reset_delay_s(self) -> float | None:
        return parse_duration(self.metadata.get("quotaResetDelay"))

    @property
    def validation_url(self) -> str | None:
        url = self.metadata.get("validation_url") or self.metadata.get("validationUrl")
        return url or None

    @property
    def detail(self) -> str:
        """The most useful one-line description: the message, else the raw text."""
        return self.message or self.text

    def message_delay_s(self) -> float | None:
        """A delay written only in prose ("Your quota will reset after 1h43m56s.")."""
        match = _TEXT_DELAY.search(self.message or self.text)
        return parse_duration(match.group(1)) if match else None


def parse_error_body(body: bytes | str | Mapping[str, Any] | None) -> ErrorBody:
    """Read a Google error body given as raw bytes, text or already-parsed JSON. Never raises."""
    data: Any = body
    raw = ""
    if isinstance(body, bytes | str):
        raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            data = orjson.loads(raw) if raw.strip() else None
        except orjson.JSONDecodeError:
            return ErrorBody(text=_clip(raw.strip()))
    # streamGenerateContent without SSE answers a JSON array; its errors can come as `[{"error": …}]`.
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        data = data[0]
    error = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(error, Mapping):
        return ErrorBody(text=_clip(raw.strip() or ("" if data is None else str(data))))
    reason = ""
    metadata: dict[str, str] = {}
    retry_delay: float | None = None
    details = error.get("details")
    for detail in details if isinstance(details, list) else ():
        if not isinstance(detail, Mapping):
            continue
        kind = str(detail.get("@type", ""))
        if "reason" in detail and (kind.endswith("ErrorInfo") or not kind) and not reason:
            reason = str(detail.get("reason") or "").strip().upper()
            meta = detail.get("metadata")
            if isinstance(meta, Mapping):
                metadata = {str(k): str(v) for k, v in meta.items() if v is not None}
        if "retryDelay" in detail and retry_delay is None:
            retry_delay = parse_duration(detail.get("retryDelay"))
    code = error.get("code")
    return ErrorBody(
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        status=str(error.get("status") or ""),
        message=_clip(str(error.get("message") or "")),
        reason=reason,
        metadata=metadata,
        retry_delay_s=retry_delay,
    )


def parse_duration(value: Any) -> float | None:
    """Seconds from `1h16m0.667s`, `1.203s`, `500ms`, a bare number, or `{"seconds", "nanos"}`.

    None when unreadable or negative, so a caller falls back to its default instead of guessing.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, Mapping):
        try:
            seconds = float(value.get("seconds") or 0) + float(value.get("nanos") or 0) / 1e9
        except (TypeError, ValueError):
            return None
    elif isinstance(value, str):
        text = value.strip()
        if _DURATION_FULL.fullmatch(text):
            seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))
        else:
            try:
                seconds = float(text)
            except ValueError:
                return None
    else:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date (a past date means 0)."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # HTTP dates are GMT; the parser leaves "-0000" naive
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, moment.timestamp() - now)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header by name, whatever the case of the mapping's keys (aiohttp's is insensitive, a dict is not)."""
    if not headers:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None


def _clip(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"
