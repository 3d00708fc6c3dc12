"""Classifying an upstream failure: what went wrong, whom it blocks, for how long, and what to do next.

This is the table "Classifying upstream failures" of spec/scheduling.md, as code. Pure: the caller passes
the clock reading and the counts the pool keeps; nothing here remembers anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from trayagent.accounts.record import parse_time
from trayagent.upstream.error_body import ErrorBody, header, parse_error_body, parse_retry_after

FailureKind = Literal[
    "quota", "rate", "capacity", "auth", "needs_user", "forbidden", "signature", "client", "not_found", "transient"
]
# What a cooldown blocks: one model on one account, the whole account, one model on every account, nothing.
Scope = Literal["account_model", "account", "model", "none"]
Step = Literal[
    "rotate",  # try another account
    "retry_same",  # wait `retry_in_s`, then the same account again
    "refresh_then_retry",  # refresh the access token, then the same account again
    "repair_signature_then_retry",  # strip/repair thinking signatures, then the same account again
    "resolve_project_then_retry",  # look the project up again (loadCodeAssist), then the same account again
    "return_to_client",  # nothing to gain by retrying: answer the client now
]

QUOTA_BACKOFF_S = (60.0, 300.0, 1800.0, 7200.0)  # per consecutive failure, when nothing says when quota returns
RATE_DEFAULT_S = (5.0, 10.0, 20.0, 30.0)  # "5–30 s" when the upstream gives no delay
CAPACITY_S = (5.0, 10.0, 15.0)
TRANSIENT_S = (5.0, 10.0)
FORBIDDEN_S = 600.0
NOT_FOUND_S = 5.0
TRANSIENT_RETRY_S = 1.0  # the backoff before retrying the same account once after a 5xx or network error
GRACE_S = 2.0  # a rate-limit delay this short is waited out on the same account

# Kinds that say something about the account itself, so they count as its consecutive failures.
# Capacity is the model's problem everywhere; client and signature errors are the request's.
ACCOUNT_FAULTS: frozenset[FailureKind] = frozenset(
    {"quota", "rate", "auth", "needs_user", "forbidden", "not_found", "transient"}
)

# "Invalid `signature` in `thinking` block", "thinking.signature: Field required", "Corrupted thought
# signature", "Function call is missing a thought_signature".
_SIGNATURE_TEXT = ("thought signature", "thought_signature", "thoughtsignature", "`signature`", ".signature")
# Google's generic RESOURCE_EXHAUSTED message mentions quota without being about quota; it is a rate limit.
_GENERIC_EXHAUSTED = "(e.g. check quota)"


@dataclass(frozen=True, slots=True)
class Failure:
    """One classified upstream failure. `cooldown_s`: None = none, math.inf = until the user acts."""

    kind: FailureKind
    scope: Scope
    cooldown_s: float | None
    step: Step
    message: str  # for status views and, when retries run out, the client's error
    status: int | None = None  # upstream HTTP status; None for a network error or timeout
    reason: str = ""  # ErrorInfo.reason when the upstream gave one
    retry_in_s: float = 0.0  # how long to wait before a retry on the same account
    validation_url: str | None = None
    disable: bool = False  # the account must be disabled in storage (reason: `message`) until the user acts

    @property
    def blames_account(self) -> bool:
        return self.kind in ACCOUNT_FAULTS


def classify(
    status: int | None,
    body: bytes | str | Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    model: str,
    now: float,
    cap_s: float = 300.0,
    before_first_byte: bool = True,
    account_failures: int = 0,
    capacity_strikes: int = 0,
    retries_here: int = 0,
    quota_reset_at: float | None = None,
) -> Failure:
    """Classify one failed upstream call.

    Args:
        status: the HTTP status, or None when no response came (network error, timeout); then `body` may
            describe the error in words.
        account_failures: the account's consecutive failures before this one (drives quota/rate/5xx backoff).
        capacity_strikes: consecutive capacity failures of `model` before this one.
        retries_here: how often this request already retried this same account (the once-only fixes:
            token refresh, signature repair, project lookup, the grace and 5xx retries).
        quota_reset_at: the account's cached reset time for `model` (`ModelQuota.reset_at`).
    """
    seen = _Seen(status, parse_error_body(body), headers, model, now, account_failures, capacity_strikes, retries_here)
    failure = _classify(seen, quota_reset_at)
    if failure.cooldown_s is not None and math.isfinite(failure.cooldown_s):
        failure = replace(failure, cooldown_s=max(0.0, min(failure.cooldown_s, cap_s)))
    if not before_first_byte:
        # Bytes already reached the client: no retry can be spliced in; the stream ends with an error event.
        failure = replace(failure, step="return_to_client", retry_in_s=0.0)
    return failure


def sign_in_lost(detail: str) -> Failure:
    """The token refresh after a 401 failed (invalid_grant…): disable the account, try another."""
    message = f"sign-in no longer valid ({detail}); sign in to this account again"
    return Failure("auth", "account", math.inf, "rotate", message, status=401, disable=True)


def format_duration(seconds: float) -> str:
    """Short human wording: 41 s, 5 min, 1 h 16 min."""
    if math.isinf(seconds):
        return "until you act"
    whole = max(0, math.ceil(seconds))
    if whole < 120:
        return f"{whole} s"
    if whole < 3600:
        return f"{round(whole / 60)} min"
    hours, rest = divmod(whole, 3600)
    minutes = round(rest / 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@dataclass(frozen=True, slots=True)
class _Seen:
    """Everything one classification looks at."""

    status: int | None
    error: ErrorBody
    headers: Mapping[str, str] | None
    model: str
    now: float
    account_failures: int
    capacity_strikes: int
    retries_here: int

    def retry_after(self) -> float | None:
        return parse_retry_after(header(self.headers, "Retry-After"), self.now)


def _classify(seen: _Seen, quota_reset_at: float | None) -> Failure:
    status, error = seen.status, seen.error
    detail = error.detail
    text = detail.lower()
    if status is None:
        return _transient(seen, f"network error: {detail or 'no response'}")
    if error.reason == "MODEL_CAPACITY_EXHAUSTED" or (
        (status == 429 or status >= 500) and "no capacity available" in text
    ):
        # Capacity is global: cool the model, not the account, so one busy model cannot burn every account.
        delay = CAPACITY_S[min(seen.capacity_strikes, len(CAPACITY_S) - 1)]
        message = f"{seen.model} is out of capacity upstream; retry in {format_duration(delay)}"
        return Failure("capacity", "model", delay, "rotate", message, status, error.reason)
    if status == 429:
        if error.reason == "QUOTA_EXHAUSTED":
            return _quota(seen, quota_reset_at)
        if error.reason == "RATE_LIMIT_EXCEEDED" or "per minute" in text:
            return _rate(seen)
        if "quota" in text.replace(_GENERIC_EXHAUSTED, ""):
            return _quota(seen, quota_reset_at)
        return _rate(seen)
    if status == 401:
        if seen.retries_here == 0:
            return Failure("auth", "account", None, "refresh_then_retry", "access token rejected (401)", status)
        return replace(sign_in_lost("401 again after a token refresh"), reason=error.reason)
    if status == 403:
        url = error.validation_url
        if error.reason == "VALIDATION_REQUIRED" or url or "verify your account" in text:
            where = f": {url}" if url else " (sign in to that Google account in a browser)"
            return Failure(
                "needs_user",
                "account",
                math.inf,
                "rotate",
                f"Google asks you to verify this account{where}",
                status,
                error.reason,
                validation_url=url,
                disable=True,
            )
        message = f"access denied (403): {detail or 'forbidden'}"
        return Failure("forbidden", "account", FORBIDDEN_S, "rotate", message, status, error.reason)
    if status == 400:
        if any(marker in text for marker in _SIGNATURE_TEXT):
            step: Step = "repair_signature_then_retry" if seen.retries_here == 0 else "return_to_client"
            message = f"thinking signatures rejected (400): {detail}"
            return Failure("signature", "none", None, step, message, status, error.reason)
        return Failure("client", "none", None, "return_to_client", detail or "bad request (400)", status, error.reason)
    if status == 404:
        step = "resolve_project_then_retry" if seen.retries_here == 0 else "rotate"
        message = f"model or project not found (404): {detail or seen.model}"
        return Failure("not_found", "account_model", NOT_FOUND_S, step, message, status, error.reason)
    if status == 408 or status >= 500:
        return _transient(seen, f"upstream error {status}: {detail or 'no details'}")
    # Any other 4xx (409, 413, 422…) is about the request itself: retrying elsewhere would fail the same way.
    return Failure("client", "none", None, "return_to_client", detail or f"upstream status {status}", status)


def _quota(seen: _Seen, quota_reset_at: float | None) -> Failure:
    error, now = seen.error, seen.now
    # The upstream's own word first (quotaResetDelay, its timestamp twin, RetryInfo, Retry-After, the prose),
    # then the reset time our last quota fetch saw if still ahead, and only then blind backoff.
    stamp = parse_time(error.metadata.get("quotaResetTimeStamp"))
    delay = _first(
        error.quota_reset_delay_s,
        None if stamp is None or stamp <= now else stamp - now,
        error.retry_delay_s,
        seen.retry_after(),
        error.message_delay_s(),
        None if quota_reset_at is None or quota_reset_at <= now else quota_reset_at - now,
    )
    if delay is not None:
        when = f"resets in {format_duration(delay)}"
    else:
        delay = QUOTA_BACKOFF_S[min(seen.account_failures, len(QUOTA_BACKOFF_S) - 1)]
        when = f"no reset time given, next try in {format_duration(delay)}"
    message = f"quota for {seen.model} exhausted on this account; {when}"
    return Failure("quota", "account_model", delay, "rotate", message, seen.status, error.reason)


def _rate(seen: _Seen) -> Failure:
    error = seen.error
    delay = _first(error.retry_delay_s, seen.retry_after(), error.quota_reset_delay_s, error.message_delay_s())
    if delay is not None and delay <= GRACE_S and seen.retries_here == 0:
        message = f"rate limited upstream; retrying in {format_duration(delay)}"
        return Failure("rate", "account", delay, "retry_same", message, seen.status, error.reason, retry_in_s=delay)
    if delay is None:
        delay = RATE_DEFAULT_S[min(seen.account_failures, len(RATE_DEFAULT_S) - 1)]
    message = f"rate limited upstream; retry in {format_duration(delay)}"
    return Failure("rate", "account", delay, "rotate", message, seen.status, error.reason)


def _transient(seen: _Seen, message: str) -> Failure:
    delay = TRANSIENT_S[min(seen.account_failures, len(TRANSIENT_S) - 1)]
    if seen.retries_here == 0:
        return Failure(
            "transient", "account_model", delay, "retry_same", message, seen.status, retry_in_s=TRANSIENT_RETRY_S
        )
    return Failure("transient", "account_model", delay, "rotate", message, seen.status)


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)
