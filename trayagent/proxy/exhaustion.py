"""The error a client gets when no account could answer: why, when to come back, and as which status.

Pure: the dispatcher passes the pool's last decision, the last upstream failure and the cooldowns of the
enabled accounts for the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from trayagent.accounts.pool import NoneAvailable, Wait
from trayagent.accounts.poolstate import Cooldown
from trayagent.accounts.ratelimit import Failure, format_duration
from trayagent.errors import NeedsUser, NoAccountAvailable, ProxyError, RateLimited, UpstreamRejected
from trayagent.redact import redact

NO_ACCOUNT_MESSAGE = (
    "no Google account yet: run `trayagent accounts login` to sign one in "
    "(or `trayagent accounts add --refresh-token TOKEN`), then retry"
)
BUSY_KINDS = frozenset({"quota", "rate", "capacity"})  # answered 429; everything else 503
BUSY_DEFAULT_RETRY_S = 60.0


def exhaustion_error(
    decision: Wait | NoneAvailable | None,
    last: Failure | None,
    model: str,
    cooldowns: Sequence[Cooldown | None],
    now: float,
) -> ProxyError:
    """`decision`: the pool's answer that ended the search (None: the attempts ran out); `cooldowns`: one per
    enabled account for `model` (None where it is free)."""
    if isinstance(decision, NoneAvailable) and last is None:
        if decision.reason == "no_accounts":
            return NeedsUser(NO_ACCOUNT_MESSAGE)
        if decision.reason == "disabled":
            hint = "see `trayagent accounts list`, then sign in again or verify it"
            return NeedsUser(redact(f"{decision.message}: {hint}"))
    if last is not None and last.disable and not cooldowns:
        # The last enabled account was just set aside until the user acts (verification, a new sign-in): the
        # same answer every later request gets, from the first one on.
        hint = "see `trayagent accounts list`, then sign in again or verify it"
        return NeedsUser(redact(f"no Google account can answer until you act: {last.message}; {hint}"))
    unknown = bool(cooldowns) and all(c is not None and c.kind == "not_found" for c in cooldowns)
    if (last is not None and last.kind == "not_found") or (last is None and unknown):
        # Every account's project was looked up again and Google still does not know the model.
        detail = f" (Google: {last.message})" if last is not None else ""
        return UpstreamRejected(redact(f"model {model} was not found upstream{detail}"), 404)

    retry_after = _retry_after(decision, cooldowns, now)
    if decision is None or (isinstance(decision, NoneAvailable) and decision.reason == "tried_all"):
        tried = "every account tried failed" if last is not None else "no account could be used"
        when = f"; an account frees up in {format_duration(retry_after)}" if retry_after is not None else ""
        summary = f"{tried} for {model}{when}"
    else:
        summary = decision.message
    # Masked: the client may be on the LAN, and the message also lands in the request log.
    message = redact(f"{summary}. Last upstream error: {last.message}" if last is not None else summary)
    if last is not None:
        busy = last.kind in BUSY_KINDS
    else:
        busy = isinstance(decision, Wait) or (
            isinstance(decision, NoneAvailable) and decision.reason in ("cooling", "no_quota", "capacity")
        )
    error: ProxyError = RateLimited(message) if busy else NoAccountAvailable(message)
    error.retry_after = retry_after if retry_after is not None else BUSY_DEFAULT_RETRY_S if busy else None
    return error


def _retry_after(
    decision: Wait | NoneAvailable | None, cooldowns: Sequence[Cooldown | None], now: float
) -> float | None:
    if isinstance(decision, Wait):
        return decision.seconds
    if isinstance(decision, NoneAvailable) and decision.retry_after_s is not None:
        return decision.retry_after_s if math.isfinite(decision.retry_after_s) else None
    if not cooldowns or any(c is None for c in cooldowns):
        return None  # some account is free: it failed for another reason; no wait is known
    ends = [c.until - now for c in cooldowns if c is not None and math.isfinite(c.until)]
    return max(0.0, min(ends)) if ends else None
