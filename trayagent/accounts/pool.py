"""The account pool's policy: which account serves a (model, session), and what a success or failure changes.

Implements "Picking an account" of spec/scheduling.md. Pure: the clock, the random source and the state
are injected; the dispatcher does the waiting, the I/O and the retries.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from trayagent.accounts.poolstate import Cooldown, CooldownKey, InMemoryPoolState, PoolState
from trayagent.accounts.ratelimit import Failure, classify, format_duration
from trayagent.accounts.record import TIERS, Account, same_email
from trayagent.config import SchedulingSettings
from trayagent.frozen import frozen

WAIT_LIMIT_S = 2.0  # a cooldown ending this soon is waited out rather than failed fast
P2C_WINDOW = 5  # "the top few" candidates power-of-two-choices draws from
SESSION_TTL_S = 3600.0  # a conversation idle this long may land on another account

NoneReason = Literal["no_accounts", "fixed_missing", "disabled", "capacity", "cooling", "no_quota", "tried_all"]
_TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}
_UNKNOWN_QUOTA = -1.0  # ranks below any known remaining fraction, including 0 after a reset time passed


@frozen  # made for every request: see trayagent/frozen.py
class Pick:
    account: Account
    sticky: bool = False  # the session's bound account, reused


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing is free right now, but something will be within WAIT_LIMIT_S: sleep, then pick again."""

    seconds: float
    message: str


@dataclass(frozen=True, slots=True)
class NoneAvailable:
    """Fail fast: `retry_after_s` (for a Retry-After header) is None when no wait would help."""

    reason: NoneReason
    retry_after_s: float | None
    message: str


class AccountPool:
    """Picks accounts and keeps their cooldowns. One per proxy; rebuild with `with_settings` on reload.

    Not thread-safe by design: it runs on the proxy's single event loop and never awaits.
    """

    def __init__(
        self,
        settings: SchedulingSettings,
        *,
        now: Callable[[], float],
        rng: random.Random,
        state: PoolState | None = None,
        session_ttl_s: float = SESSION_TTL_S,
    ) -> None:
        self.settings = settings
        self.state: PoolState = state if state is not None else InMemoryPoolState()
        self._now = now
        self._rng = rng
        self._session_ttl_s = session_ttl_s

    def now(self) -> float:
        """The pool's clock reading (cooldowns are stamped on it)."""
        return self._now()

    def with_settings(self, settings: SchedulingSettings) -> AccountPool:
        """The same state, clock and randomness under new settings (config hot reload)."""
        return AccountPool(settings, now=self._now, rng=self._rng, state=self.state, session_ttl_s=self._session_ttl_s)

    def pick(
        self,
        accounts: Sequence[Account],
        model: str,
        session_key: str | None = None,
        exclude: Collection[str] = (),
    ) -> Pick | Wait | NoneAvailable:
        """The account for one attempt. `exclude`: ids already tried by this request."""
        now = self._now()
        pool = self._scope(accounts)
        if isinstance(pool, NoneAvailable):
            return pool
        enabled = [account for account in pool if account.enabled]
        if not enabled:
            return NoneAvailable("disabled", None, _disabled_message(pool))
        capacity = self.state.cooldown((None, model), now)
        if capacity is not None:
            left = capacity.until - now
            return _blocked("capacity", left, f"{model} is out of capacity upstream; retry in {format_duration(left)}")

        candidates: dict[str, Account] = {}
        cooling = no_quota = tried = 0
        next_free = math.inf
        for account in enabled:
            if account.id in exclude:
                tried += 1
                continue
            until = self._blocked_until(account.id, model, now)
            if until is not None:
                cooling += 1
                next_free = min(next_free, until)
                continue
            # No quota data, or data that does not list this model, still makes a candidate (ranked after
            # accounts known to have quota): only a listed 0 excludes, and only until its reset time.
            quota = account.quota.get(model)
            if quota is not None and quota.remaining <= 0 and (quota.reset_at is None or quota.reset_at > now):
                no_quota += 1
                next_free = min(next_free, quota.reset_at or math.inf)
                continue
            candidates[account.id] = account
        if not candidates:
            return _nothing_free(model, cooling, no_quota, tried, next_free - now)

        bind = session_key if self.settings.mode == "balance" else None
        if bind is not None:
            bound = self.state.session(bind, now)
            if bound is not None:
                if bound in candidates:
                    return self._chosen(candidates[bound], bind, now, sticky=True)
                # The bound account is cooling, out of quota, disabled, gone or already tried: let go.
                self.state.release_session(bind)
        return self._chosen(self._p2c(list(candidates.values()), model), bind, now, sticky=False)

    def classify(
        self,
        account: Account,
        model: str,
        status: int | None,
        body: bytes | str | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        before_first_byte: bool = True,
        retries_here: int = 0,
        held_failures: int = 0,
    ) -> Failure:
        """`ratelimit.classify` with the counts, the cap and the quota reset time this pool knows.

        `held_failures`: the account's failures the request holds back from the pool for now; they count
        towards its backoff as recorded ones would."""
        quota = account.quota.get(model)
        return classify(
            status,
            body,
            headers,
            model=model,
            now=self._now(),
            cap_s=self.settings.cooldown_cap_s,
            before_first_byte=before_first_byte,
            account_failures=self.state.failures(account.id) + held_failures,
            capacity_strikes=self.state.capacity_strikes(model),
            retries_here=retries_here,
            quota_reset_at=quota.reset_at if quota is not None else None,
        )

    def record_success(self, account: Account, model: str) -> None:
        """It worked: the account's failure count and its cooldowns for this model go, and so does the
        model's capacity backoff."""
        self.state.set_failures(account.id, 0)
        self.state.clear_cooldown((account.id, model))
        self.state.clear_cooldown((account.id, None))
        self.state.clear_cooldown((None, model))
        self.state.set_capacity_strikes(model, 0)

    def record_failure(self, account: Account, model: str, failure: Failure) -> None:
        now = self._now()
        if failure.blames_account:
            self.state.set_failures(account.id, self.state.failures(account.id) + 1)
        if failure.kind == "capacity":
            self.state.set_capacity_strikes(model, self.state.capacity_strikes(model) + 1)
        if failure.cooldown_s is None or failure.cooldown_s <= 0 or failure.scope == "none":
            return
        key: CooldownKey = {
            "account_model": (account.id, model),
            "account": (account.id, None),
            "model": (None, model),
        }[failure.scope]
        until = now + failure.cooldown_s
        current = self.state.cooldown(key, now)
        if current is None or current.until < until:  # a new, shorter cooldown never shortens a longer one
            self.state.set_cooldown(key, Cooldown(until, failure.kind, failure.message))

    def release(self, account_id: str) -> None:
        """The user acted (verified, signed in again): lift every cooldown and count on the account."""
        self.state.forget_account(account_id)

    def cooldown_of(self, account_id: str, model: str | None = None) -> Cooldown | None:
        """The cooldown that keeps an account (for `model`, or as a whole) out longest, for status views."""
        now = self._now()
        found = [self.state.cooldown((account_id, None), now)]
        if model is not None:
            found += [self.state.cooldown((account_id, model), now), self.state.cooldown((None, model), now)]
        active = [cooldown for cooldown in found if cooldown is not None]
        return max(active, key=lambda cooldown: cooldown.until) if active else None

    def max_attempts(self, accounts: Sequence[Account]) -> int:
        """Accounts one request may try: `scheduling.max_attempts`, but not more than the pool size + 1."""
        pool = self._scope(accounts)
        size = 0 if isinstance(pool, NoneAvailable) else sum(1 for account in pool if account.enabled)
        return max(1, min(self.settings.max_attempts, size + 1))

    def _scope(self, accounts: Sequence[Account]) -> Sequence[Account] | NoneAvailable:
        if not accounts:
            return NoneAvailable("no_accounts", None, "no Google accounts yet; add one with `trayagent accounts login`")
        fixed = self.settings.fixed_account
        if self.settings.mode != "fixed" or not fixed:
            return accounts
        chosen = [account for account in accounts if same_email(account.email, fixed)]
        if not chosen:
            return NoneAvailable("fixed_missing", None, f"scheduling.fixed_account {fixed} is not in the account pool")
        return chosen

    def _blocked_until(self, account_id: str, model: str, now: float) -> float | None:
        whole = self.state.cooldown((account_id, None), now)
        this_model = self.state.cooldown((account_id, model), now)
        if whole is None and this_model is None:
            return None
        return max(cooldown.until for cooldown in (whole, this_model) if cooldown is not None)

    def _p2c(self, candidates: list[Account], model: str) -> Account:
        # Tier order is strict: draw only from the best tier present, so a free account never takes a new
        # session while a pro one is healthy. Within it, keep the better-ranked of two random top accounts.
        best = min(_TIER_RANK[account.tier] for account in candidates)
        same_tier = [account for account in candidates if _TIER_RANK[account.tier] == best]
        window = heapq.nsmallest(P2C_WINDOW, same_tier, key=lambda account: self._rank(account, model))
        if len(window) == 1:
            return window[0]
        first, second = self._rng.sample(range(len(window)), 2)
        return window[min(first, second)]

    def _rank(self, account: Account, model: str) -> tuple[float, float, float, str]:
        """Sort key within a tier, best first: more remaining quota, fewer failures, least recently used."""
        quota = account.quota.get(model)
        remaining = _UNKNOWN_QUOTA if quota is None or quota.remaining <= 0 else quota.remaining
        last_used = self.state.last_used(account.id)
        never = -math.inf if last_used is None else last_used
        return (-remaining, self.state.failures(account.id), never, account.id)

    def _chosen(self, account: Account, session_key: str | None, now: float, *, sticky: bool) -> Pick:
        self.state.set_last_used(account.id, now)
        if session_key is not None:
            self.state.bind_session(session_key, account.id, now + self._session_ttl_s)
        return Pick(account, sticky=sticky)


def _blocked(reason: NoneReason, seconds: float, message: str) -> Wait | NoneAvailable:
    seconds = max(0.0, seconds)
    if seconds <= WAIT_LIMIT_S:
        return Wait(seconds, message)
    return NoneAvailable(reason, seconds, message)


def _nothing_free(model: str, cooling: int, no_quota: int, tried: int, seconds: float) -> Wait | NoneAvailable:
    blocked = cooling + no_quota
    if blocked == 0:
        return NoneAvailable("tried_all", None, f"every available account was already tried for {model}")
    what = "cooling down" if no_quota == 0 else "out of quota" if cooling == 0 else "cooling down or out of quota"
    who = f"the only enabled account is {what}" if blocked == 1 and tried == 0 else f"all {_accounts(blocked)} {what}"
    if tried:
        who = f"{_accounts(blocked)} {what} and {tried} already tried"
    if math.isinf(seconds):
        # Needs-verification blocks and quotas with no known reset: no point telling the client when to retry.
        return NoneAvailable("no_quota" if cooling == 0 else "cooling", None, f"{who} for {model}")
    reason: NoneReason = "no_quota" if cooling == 0 else "cooling"
    return _blocked(reason, seconds, f"{who} for {model}; next free in {format_duration(seconds)}")


def _accounts(count: int) -> str:
    return "1 account" if count == 1 else f"{count} accounts"


def _disabled_message(pool: Sequence[Account]) -> str:
    if len(pool) == 1:
        account = pool[0]
        return f"account {account.email} is disabled: {account.disabled_reason or 'no reason recorded'}"
    return f"all {len(pool)} accounts are disabled; enable or sign in to one again"
