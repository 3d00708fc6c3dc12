"""The transient failures of one client request, held back from the pool until it is clear whom they blame.

A 5xx, a timeout or a stream cut short may be the account's trouble or the request's: some requests make
Google fail whichever account sends them. Cooling an account at once for such a failure would set every
account aside, one after another, for everybody, because of one request. So a transient failure is held
while the request goes on: it goes to the pool (a cooldown, a failure count) when the request ends
otherwise, and is dropped when the request fails the same way on a second account, since then it
follows the request and not the account (spec/scheduling.md "Classifying upstream failures").

Pure: the dispatcher records what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trayagent.accounts.ratelimit import Failure, FailureKind
from trayagent.accounts.record import Account

HELD_KINDS: frozenset[FailureKind] = frozenset({"transient"})


@dataclass(frozen=True, slots=True)
class Held:
    account: Account
    model: str
    failure: Failure
    part_way: bool  # the stream broke after its first chunk: another account's first chunk proves nothing yet


@dataclass(slots=True)
class HeldFailures:
    """One request's attempts: the accounts it tried (`tried`) and its transient failures, not yet recorded."""

    tried: set[str] = field(default_factory=set)
    _held: list[Held] = field(default_factory=list)

    @staticmethod
    def holds(failure: Failure) -> bool:
        return failure.kind in HELD_KINDS

    def hold(self, account: Account, model: str, failure: Failure, *, part_way: bool = False) -> None:
        self._held.append(Held(account, model, failure, part_way))

    def count(self, account_id: str) -> int:
        """How many failures of this account are held (they escalate its next backoff as recorded ones do)."""
        return sum(1 for held in self._held if held.account.id == account_id)

    def same_elsewhere(self, account: Account, failure: Failure) -> bool:
        """Whether another account already failed this request in exactly this way."""
        if not self.holds(failure):
            return False
        return any(held.account.id != account.id and _same(held.failure, failure) for held in self._held)

    def forget(self, account_id: str) -> None:
        """The account answered after all (a retry on it worked): its held failures blame nobody."""
        self._held = [held for held in self._held if held.account.id != account_id]

    def drop(self) -> None:
        """The failure follows the request: nothing held is any account's fault."""
        self._held = []

    def release(self, *, part_way: bool = True) -> list[Held]:
        """What is held, to record now: everything (the request ended), or with `part_way=False` only the
        failures before a first chunk (another account has just sent one: the request works there)."""
        released = [held for held in self._held if part_way or not held.part_way]
        self._held = [held for held in self._held if not (part_way or not held.part_way)]
        return released


def _same(a: Failure, b: Failure) -> bool:
    return (a.kind, a.status, a.message) == (b.kind, b.status, b.message)
