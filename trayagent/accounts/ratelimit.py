"""What an upstream failure means for the account pool: its class, what it cools down, for how long, what next.

Pure; the table is spec/scheduling.md "Classifying upstream failures". Durations come from Google's own
hints first (`quotaResetDelay`, `RetryInfo.retryDelay`, `Retry-After`), then from a per-class backoff that
grows with the account's consecutive failures. Every cooldown is capped by `cooldown_cap_s`, except
"needs the user", which lasts until the user acts.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

FailureKind = Literal[
    "quota", "rate", "capacity", "auth", "needs_user", "forbidden", "signature", "client", "not_found", "transient"
]
# What the cooldown applies to: one model on one account, the whole account, one model everywhere, nothing.
Scope = Literal["account_model", "account", "model", "none"]
NextStep = Literal["rotate", "retry_same", "refresh_then_retry", "repair_then_retry", "return_to_client"]

QUOTA_BACKOFF_S = (60.0, 300.0, 1800.0, 7200.0)
WAIT_IN_PLACE_S = 2.0  # a rate limit this short is waited out on the same account
FORBIDDEN_COOLDOWN_S = 600.0
NOT_FOUND_COOLDOWN_S = 5.0

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_SIGNATURE_WORDS = ("thought signature", "thought_signature", "thoughtsignature", "invalid `signature`", "signature")


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    scope: Scope
    cooldown_s: float | None  # None: no cooldown (or, for needs_user, until the user acts)
    next_step: NextStep
    message: str
    status: int | None = None
    reason: str | None = None
    validation_url: str | None = None


def parse_duration(value: Any) -> float | None:
    """Google durations: "1h16m0.667s", "1.203s", "500ms", "30s", a number, or {"seconds", "nanos"}."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if isinstance(value, dict):
        try:
            return float(value.get("seconds") or 0) + float(value.get("nanos") or 0) / 1e9
        except (TypeError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    total, pos = 0.0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            return None
        number, unit = float(match.group(1)), match.group(2)
        total += number * {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}[unit]
        pos = match.end()
    if pos != len(text) or pos == 0:
        try:
            return max(0.0, float(text))  # a bare number of seconds
        except ValueError:
            return None
    return total


def parse_retry_after(value: str | None, now: float) -> float | None:
    """`Retry-After`: seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


@dataclass(frozen=True, slots=True)
class _Hints:
    message: str
    reason: str | None
    quota_reset_s: float | None
    retry_delay_s: float | None
    validation_url: str | None


def _hints(body: Any, text: str) -> _Hints:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return _Hints(text.strip()[:500], None, None, None, None)
    reason = quota_reset = retry_delay = validation_url = None
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        if detail.get("reason") and reason is None:
            reason = str(detail["reason"])
        raw = detail.get("metadata")
        metadata: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if quota_reset is None and metadata.get("quotaResetDelay") is not None:
            quota_reset = parse_duration(metadata["quotaResetDelay"])
        url = metadata.get("validation_url") or metadata.get("validationUrl")
        if isinstance(url, str) and url.startswith("https://"):
            validation_url = url
        if retry_delay is None and detail.get("retryDelay") is not None:
            retry_delay = parse_duration(detail["retryDelay"])
    return _Hints(str(error.get("message") or text).strip()[:500], reason, quota_reset, retry_delay, validation_url)


def classify(
    status: int | None,
    body: Any = None,
    text: str = "",
    headers: Mapping[str, str] | None = None,
    *,
    failures: int = 1,
    cooldown_cap_s: float = 300.0,
    now: float = 0.0,
    quota_reset_at: float | None = None,
) -> Failure:
    """Classify one failed upstream call.

    `status` None means no HTTP answer (network error, timeout before the first byte). `failures` counts this
    account's consecutive failures, this one included. `quota_reset_at` is the model's reset time from the
    account's quota data, used when Google gives no delay.
    """
    hints = _hints(body, text)
    lowered = hints.message.lower()
    retry_after = parse_retry_after((headers or {}).get("Retry-After") or (headers or {}).get("retry-after"), now)
    step = max(1, failures)

    def capped(seconds: float) -> float:
        return min(seconds, cooldown_cap_s)

    def failure(kind: FailureKind, scope: Scope, cooldown: float | None, next_step: NextStep) -> Failure:
        return Failure(kind, scope, cooldown, next_step, hints.message, status, hints.reason, hints.validation_url)

    if status == 429:
        reason = hints.reason or ""
        if reason == "MODEL_CAPACITY_EXHAUSTED" or "capacity" in lowered:
            return failure("capacity", "model", capped(min(5.0 * step, 15.0)), "rotate")
        is_rate = reason == "RATE_LIMIT_EXCEEDED" or (
            reason != "QUOTA_EXHAUSTED" and ("per minute" in lowered or "rate limit" in lowered)
        )
        if not is_rate and (reason == "QUOTA_EXHAUSTED" or "quota" in lowered):
            delay = hints.quota_reset_s
            if delay is None and quota_reset_at is not None and quota_reset_at > now:
                delay = quota_reset_at - now
            if delay is None:
                delay = QUOTA_BACKOFF_S[min(step, len(QUOTA_BACKOFF_S)) - 1]
            return failure("quota", "account_model", capped(delay), "rotate")
        delay = hints.retry_delay_s if hints.retry_delay_s is not None else retry_after
        if delay is None:
            delay = min(5.0 * 2 ** (step - 1), 30.0)
        delay = capped(delay)
        return failure("rate", "account", delay, "retry_same" if delay <= WAIT_IN_PLACE_S else "rotate")
    if status == 401:
        return failure("auth", "account", None, "refresh_then_retry")
    if status == 403:
        if hints.reason == "VALIDATION_REQUIRED" or hints.validation_url or "verify your account" in lowered:
            return failure("needs_user", "account", None, "rotate")
        return failure("forbidden", "account", capped(FORBIDDEN_COOLDOWN_S), "rotate")
    if status == 400:
        if any(word in lowered for word in _SIGNATURE_WORDS):
            return failure("signature", "none", None, "repair_then_retry")
        return failure("client", "none", None, "return_to_client")
    if status == 404:
        return failure("not_found", "account", capped(NOT_FOUND_COOLDOWN_S), "rotate")
    if status is None or status == 408 or status >= 500:
        # Transient: the same account once more (after a short pause), then set it aside and rotate.
        if step < 2:
            return failure("transient", "none", None, "retry_same")
        return failure("transient", "account", capped(min(5.0 * step, 10.0)), "rotate")
    return failure("client", "none", None, "return_to_client")
