"""What a client hears when no account could answer: status, Retry-After and words, on a fixed clock."""

from __future__ import annotations

import math

import pytest

from trayagent.accounts.pool import NoneAvailable, Wait
from trayagent.accounts.poolstate import Cooldown
from trayagent.accounts.ratelimit import Failure
from trayagent.errors import NoAccountAvailable, RateLimited, UpstreamRejected
from trayagent.proxy.exhaustion import NO_ACCOUNT_MESSAGE, exhaustion_error

NOW = 1_000_000.0
MODEL = "gemini-2.5-flash"


def failure(kind: str, message: str = "boom", status: int = 429) -> Failure:
    return Failure(kind, "account", 10.0, "rotate", message, status)  # type: ignore[arg-type]


def cooling(seconds: float, kind: str = "rate") -> Cooldown:
    return Cooldown(NOW + seconds, kind, "cooling")  # type: ignore[arg-type]


def test_no_accounts_says_how_to_add_one() -> None:
    error = exhaustion_error(NoneAvailable("no_accounts", None, "none"), None, MODEL, [], NOW)
    assert isinstance(error, NoAccountAvailable) and error.message == NO_ACCOUNT_MESSAGE
    assert error.status_code == 424 and error.retry_after is None


def test_all_disabled_points_at_the_accounts_list_and_masks_the_email() -> None:
    decision = NoneAvailable("disabled", None, "account alice@example.com is disabled: verify it")
    error = exhaustion_error(decision, None, MODEL, [], NOW)
    assert error.status_code == 424 and "trayagent accounts list" in error.message
    assert "alice@example.com" not in error.message and "al***@ex***" in error.message


def test_quota_and_rate_failures_are_429_with_the_next_free_time() -> None:
    error = exhaustion_error(None, failure("quota", "quota for m exhausted"), MODEL, [cooling(41), cooling(90)], NOW)
    assert isinstance(error, RateLimited) and error.status_code == 429
    assert error.retry_after == pytest.approx(41)
    assert error.message.startswith(f"every account tried failed for {MODEL}; an account frees up in 41 s")
    assert error.message.endswith("Last upstream error: quota for m exhausted")
    assert error.headers()["Retry-After"] == "41"


def test_the_pools_own_message_and_wait_win_when_it_stopped_the_search() -> None:
    decision = NoneAvailable("cooling", 38.2, f"all 2 accounts cooling down for {MODEL}; next free in 39 s")
    error = exhaustion_error(decision, None, MODEL, [cooling(38.2), cooling(50)], NOW)
    assert error.status_code == 429 and error.message == decision.message
    assert error.headers()["Retry-After"] == "38"


def test_a_short_wait_beyond_the_budget_is_still_a_429() -> None:
    error = exhaustion_error(Wait(1.5, "busy"), None, MODEL, [cooling(1.5)], NOW)
    assert error.status_code == 429 and error.retry_after == 1.5


def test_transient_failures_are_503_and_say_the_last_error() -> None:
    error = exhaustion_error(
        None, failure("transient", "upstream error 500", 500), MODEL, [cooling(5), cooling(8)], NOW
    )
    assert isinstance(error, NoAccountAvailable) and error.status_code == 503
    assert error.retry_after == pytest.approx(5) and "upstream error 500" in error.message


def test_a_free_account_means_no_known_wait() -> None:
    error = exhaustion_error(None, failure("transient", status=500), MODEL, [cooling(5), None], NOW)
    assert error.retry_after is None and "Retry-After" not in error.headers()


def test_a_busy_pool_with_no_known_end_still_tells_the_client_to_wait() -> None:
    error = exhaustion_error(None, failure("quota"), MODEL, [cooling(math.inf, "needs_user")], NOW)
    assert error.status_code == 429 and error.retry_after == 60.0


def test_a_model_google_does_not_know_is_a_404() -> None:
    error = exhaustion_error(None, failure("not_found", "model or project not found (404)", 404), MODEL, [], NOW)
    assert isinstance(error, UpstreamRejected) and error.status_code == 404 and error.kind == "not_found"
    assert f"model {MODEL} was not found upstream" in error.message

    # Later requests fail fast on what the pool learnt, and still hear 404, not "try later".
    decision = NoneAvailable("cooling", 4.0, "all cooling")
    again = exhaustion_error(decision, None, MODEL, [cooling(4, "not_found"), cooling(3, "not_found")], NOW)
    assert again.status_code == 404
    mixed = exhaustion_error(decision, None, MODEL, [cooling(4, "not_found"), cooling(3, "rate")], NOW)
    assert mixed.status_code == 429


def test_the_last_account_set_aside_for_the_user_is_424_from_the_first_request_on() -> None:
    url = "https://accounts.google.com/signin/continue?verify=alice"
    verify = Failure("needs_user", "account", math.inf, "rotate", f"verify your account: {url}", 403, disable=True)
    error = exhaustion_error(None, verify, MODEL, [], NOW)  # no enabled account is left
    assert error.status_code == 424 and error.retry_after is None
    assert url in error.message and "trayagent accounts list" in error.message
    # While another account is still enabled (cooling), it stays the temporary answer.
    busy = exhaustion_error(None, verify, MODEL, [cooling(30)], NOW)
    assert busy.status_code != 424
