"""The pure parts of "a failure that follows the request": held failures and how a streamed reply must end."""

from __future__ import annotations

from typing import Any

import pytest

from trayagent.accounts.ratelimit import classify
from trayagent.accounts.record import Account
from trayagent.proxy.heldfailures import HeldFailures
from trayagent.upstream.generation import ReplyEnd

MODEL = "gemini-2.5-flash"


def account(name: str) -> Account:
    return Account(id=f"id-{name}", email=f"{name}@gmail.com", created_at=0.0)


def error(status: int | None, message: str = "Internal error encountered.") -> Any:
    body = {"error": {"code": status, "message": message, "status": "INTERNAL"}} if status else message
    return classify(status, body, model=MODEL, now=0.0)


def test_the_same_transient_failure_on_a_second_account_follows_the_request() -> None:
    held = HeldFailures()
    alice, bob = account("alice"), account("bob")
    first = error(500)
    held.hold(alice, MODEL, first)
    held.hold(alice, MODEL, first)  # its retry on the same account proves nothing
    assert not held.same_elsewhere(alice, first)
    assert held.count(alice.id) == 2
    assert held.same_elsewhere(bob, error(500))
    assert not held.same_elsewhere(bob, error(503))
    assert not held.same_elsewhere(bob, error(500, "Another message."))
    held.drop()
    assert held.release() == []


def test_only_transient_failures_are_held() -> None:
    assert HeldFailures.holds(error(500)) and HeldFailures.holds(error(None, "Connection reset by peer"))
    assert not HeldFailures.holds(error(429, "Resource has been exhausted (e.g. check quota)."))
    assert not HeldFailures.holds(error(403, "The caller does not have permission"))
    assert not HeldFailures.holds(error(400, "Invalid argument"))


def test_a_success_releases_what_came_before_the_first_chunk_but_not_a_broken_stream() -> None:
    held = HeldFailures()
    alice, bob, carol = account("alice"), account("bob"), account("carol")
    held.hold(alice, MODEL, error(500))
    held.hold(bob, MODEL, error(502), part_way=True)
    held.hold(carol, MODEL, error(503))
    held.forget(carol.id)  # carol answered on her retry
    assert [h.account.id for h in held.release(part_way=False)] == [alice.id]
    assert [h.account.id for h in held.release()] == [bob.id]


def candidate(index: int | None = 0, finish: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": "x"}]}}
    if index is not None:
        found["index"] = index
    if finish:
        found["finishReason"] = finish
    return found


@pytest.mark.parametrize(
    ("chunks", "complete"),
    [
        ([{"candidates": [candidate()]}, {"candidates": [candidate(finish="STOP")]}], True),
        ([{"candidates": [candidate(None)]}, {"candidates": [candidate(None, "MAX_TOKENS")]}], True),
        ([{"candidates": [candidate()]}, {"candidates": [candidate()]}], False),
        ([{"candidates": [candidate()]}, {"usageMetadata": {"totalTokenCount": 3}}], False),
        ([{"candidates": [candidate(0), candidate(1)]}, {"candidates": [candidate(0, "STOP")]}], False),
        ([{"candidates": [candidate(0, "STOP"), candidate(1, "STOP")]}], True),
        ([{"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {}}], True),
        ([{"usageMetadata": {"totalTokenCount": 3}}], False),
    ],
    ids=["stop", "no-index", "cut", "usage-only-end", "one-of-two", "two", "blocked", "nothing"],
)
def test_a_reply_is_complete_with_every_finish_reason_or_a_blocked_prompt(
    chunks: list[dict[str, Any]], complete: bool
) -> None:
    end = ReplyEnd()
    for chunk in chunks:
        end.see(chunk)
    assert end.complete is complete
