"""The pool's runtime state: cooldowns, failure counts, sticky sessions, last use — behind one small interface.

The policy (`pool.py`) only talks to `PoolState`, so several gateways can later share one state (Redis)
without touching it. `InMemoryPoolState` is the one-process implementation; it forgets everything on exit.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from trayagent.accounts.ratelimit import FailureKind

# (account id, model): (id, model) one model on one account, (id, None) the whole account,
# (None, model) that model on every account (upstream capacity).
CooldownKey = tuple[str | None, str | None]


@dataclass(frozen=True, slots=True)
class Cooldown:
    until: float  # epoch seconds on the pool's clock; math.inf = until the user acts
    kind: FailureKind
    message: str


class PoolState(Protocol):
    """Shared, mutable pool state. Expiry is judged against the `now` the caller passes."""

    def cooldown(self, key: CooldownKey, now: float) -> Cooldown | None: ...
    def set_cooldown(self, key: CooldownKey, cooldown: Cooldown) -> None: ...
    def clear_cooldown(self, key: CooldownKey) -> None: ...
    def active_cooldowns(self, now: float) -> list[tuple[CooldownKey, Cooldown]]: ...
    def failures(self, account_id: str) -> int: ...
    def set_failures(self, account_id: str, count: int) -> None: ...
    def capacity_strikes(self, model: str) -> int: ...
    def set_capacity_strikes(self, model: str, count: int) -> None: ...
    def session(self, key: str, now: float) -> str | None: ...
    def bind_session(self, key: str, account_id: str, expires_at: float) -> None: ...
    def release_session(self, key: str) -> None: ...
    def last_used(self, account_id: str) -> float | None: ...
    def set_last_used(self, account_id: str, when: float) -> None: ...
    def forget_account(self, account_id: str) -> None: ...


class InMemoryPoolState:
    """PoolState for one process. Sessions are bounded: past `max_sessions` the least recently used go."""

    def __init__(self, max_sessions: int = 10_000) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self._max_sessions = max_sessions
        self._cooldowns: dict[CooldownKey, Cooldown] = {}
        self._failures: dict[str, int] = {}
        self._strikes: dict[str, int] = {}
        self._sessions: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._last_used: dict[str, float] = {}

    def cooldown(self, key: CooldownKey, now: float) -> Cooldown | None:
        found = self._cooldowns.get(key)
        if found is None:
            return None
        if found.until <= now:
            del self._cooldowns[key]
            return None
        return found

    def set_cooldown(self, key: CooldownKey, cooldown: Cooldown) -> None:
        self._cooldowns[key] = cooldown

    def clear_cooldown(self, key: CooldownKey) -> None:
        self._cooldowns.pop(key, None)

    def active_cooldowns(self, now: float) -> list[tuple[CooldownKey, Cooldown]]:
        expired = [key for key, found in self._cooldowns.items() if found.until <= now]
        for key in expired:
            del self._cooldowns[key]
        return list(self._cooldowns.items())

    def failures(self, account_id: str) -> int:
        return self._failures.get(account_id, 0)

    def set_failures(self, account_id: str, count: int) -> None:
        if count > 0:
            self._failures[account_id] = count
        else:
            self._failures.pop(account_id, None)

    def capacity_strikes(self, model: str) -> int:
        return self._strikes.get(model, 0)

    def set_capacity_strikes(self, model: str, count: int) -> None:
        if count > 0:
            self._strikes[model] = count
        else:
            self._strikes.pop(model, None)

    def session(self, key: str, now: float) -> str | None:
        entry = self._sessions.get(key)
        if entry is None:
            return None
        account_id, expires_at = entry
        if expires_at <= now:
            del self._sessions[key]
            return None
        self._sessions.move_to_end(key)
        return account_id

    def bind_session(self, key: str, account_id: str, expires_at: float) -> None:
        self._sessions[key] = (account_id, expires_at)
        self._sessions.move_to_end(key)
        while len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)

    def release_session(self, key: str) -> None:
        self._sessions.pop(key, None)

    def session_count(self) -> int:
        return len(self._sessions)

    def last_used(self, account_id: str) -> float | None:
        return self._last_used.get(account_id)

    def set_last_used(self, account_id: str, when: float) -> None:
        self._last_used[account_id] = when

    def forget_account(self, account_id: str) -> None:
        """Drop everything about a removed account (O(state); removal is rare)."""
        for key in [key for key in self._cooldowns if key[0] == account_id]:
            del self._cooldowns[key]
        self._failures.pop(account_id, None)
        self._last_used.pop(account_id, None)
        for session in [session for session, (bound, _) in self._sessions.items() if bound == account_id]:
            del self._sessions[session]
