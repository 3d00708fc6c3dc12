"""Pool policy on a fake clock: candidates, order, stickiness, P2C, fixed mode, cooldown scopes, waiting."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
import pytest

from trayagent.accounts.pool import AccountPool, NoneAvailable, Pick, Wait
from trayagent.accounts.poolstate import InMemoryPoolState
from trayagent.accounts.ratelimit import Failure
from trayagent.accounts.record import Account, ModelQuota, Tier
from trayagent.config import SchedulingMode, SchedulingSettings
from trayagent.translate.hub import session_key

NOW = 1_800_000_000.0
MODEL = "gemini-3-pro-high"
OTHER = "claude-sonnet-4-6"


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def account(
    name: str,
    tier: Tier = "pro",
    quota: dict[str, float] | None = None,
    *,
    enabled: bool = True,
    reset_at: float | None = None,
    reason: str | None = None,
) -> Account:
    return Account(
        id=f"id-{name}",
        email=f"{name}@gmail.com",
        created_at=NOW - 86400,
        tier=tier,
        enabled=enabled,
        disabled_reason=reason,
        quota={m: ModelQuota(r, reset_at) for m, r in (quota or {}).items()},
    )


def make_pool(
    mode: SchedulingMode = "balance",
    *,
    seed: int = 1,
    fixed: str | None = None,
    cap: float = 300.0,
    max_attempts: int = 3,
    state: InMemoryPoolState | None = None,
) -> tuple[AccountPool, Clock]:
    clock = Clock()
    settings = SchedulingSettings(mode=mode, fixed_account=fixed, max_attempts=max_attempts, cooldown_cap_s=cap)
    return AccountPool(settings, now=clock, rng=random.Random(seed), state=state), clock


def picked(result: Pick | Wait | NoneAvailable) -> str:
    assert isinstance(result, Pick), result
    return result.account.email.split("@")[0]


def error(code: int, reason: str | None = None, retry: str | None = None) -> bytes:
    details: list[dict[str, Any]] = []
    if reason:
        details.append({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason})
    if retry:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry})
    return orjson.dumps({"error": {"code": code, "message": "m", "details": details}})


def fail(pool: AccountPool, who: Account, model: str, status: int, body: bytes = b"") -> Failure:
    failure = pool.classify(who, model, status, body)
    pool.record_failure(who, model, failure)
    return failure


def spread(
    pool: AccountPool, clock: Clock, accounts: Sequence[Account], n: int = 400, model: str = MODEL
) -> Counter[str]:
    """Who gets picked over `n` picks, one second apart (the clock moves, so LRU can act)."""
    counts: Counter[str] = Counter()
    for _ in range(n):
        counts[picked(pool.pick(accounts, model))] += 1
        clock.advance(1)
    return counts


# Candidates


def test_no_accounts() -> None:
    pool, _ = make_pool()
    result = pool.pick([], MODEL)
    assert isinstance(result, NoneAvailable) and result.reason == "no_accounts" and result.retry_after_s is None


def test_disabled_accounts_are_never_picked() -> None:
    pool, clock = make_pool("performance")
    accounts = [account("off", "ultra", enabled=False), account("on", "free")]
    assert set(spread(pool, clock, accounts, 50)) == {"on"}
    result = pool.pick([accounts[0], account("off2", enabled=False)], MODEL)
    assert isinstance(result, NoneAvailable) and result.reason == "disabled"
    assert result.message == "all 2 accounts are disabled; enable or sign in to one again"


def test_a_fresh_account_without_quota_data_is_a_candidate() -> None:
    pool, _ = make_pool()
    assert picked(pool.pick([account("fresh")], MODEL)) == "fresh"


def test_quota_listing_the_model_at_zero_excludes_until_its_reset() -> None:
    pool, clock = make_pool()
    empty = account("empty", "ultra", {MODEL: 0.0}, reset_at=NOW + 600)
    other = account("other", "free")
    assert picked(pool.pick([empty, other], MODEL)) == "other"
    assert picked(pool.pick([empty], OTHER)) == "empty"  # only that model is out
    alone = pool.pick([empty], MODEL)
    assert isinstance(alone, NoneAvailable) and alone.reason == "no_quota"
    assert alone.retry_after_s == 600
    assert alone.message == f"the only enabled account is out of quota for {MODEL}; next free in 10 min"
    clock.advance(600)  # the reset time passed: the cached 0 is stale, try it again
    assert picked(pool.pick([empty], MODEL)) == "empty"


def test_zero_quota_without_a_reset_time_has_no_retry_hint() -> None:
    pool, _ = make_pool()
    result = pool.pick([account("a", quota={MODEL: 0.0}), account("b", quota={MODEL: 0.0})], MODEL)
    assert isinstance(result, NoneAvailable) and result.reason == "no_quota" and result.retry_after_s is None
    assert result.message == f"all 2 accounts out of quota for {MODEL}"


def test_quota_data_that_does_not_list_the_model_still_makes_a_candidate_ranked_after_known_quota() -> None:
    pool, clock = make_pool("performance")
    unlisted = account("unlisted", quota={OTHER: 1.0})
    listed = account("listed", quota={MODEL: 0.05})
    assert picked(pool.pick([unlisted], MODEL)) == "unlisted"
    assert set(spread(pool, clock, [unlisted, listed], 50)) == {"listed"}  # P2C over two keeps the better one


# Order


@pytest.mark.parametrize(
    ("tiers", "winner"),
    [
        (["free", "pro", "ultra", "unknown"], "ultra"),
        (["free", "pro", "unknown"], "pro"),
        (["unknown", "free"], "free"),
        (["unknown"], "unknown"),
    ],
)
def test_tier_order_is_strict(tiers: list[Tier], winner: str) -> None:
    pool, clock = make_pool("performance", seed=3)
    # Lower tiers get more quota so that only the tier can explain the result.
    accounts = [account(t, t, {MODEL: 1.0 if t != winner else 0.01}) for t in tiers]
    assert set(spread(pool, clock, accounts, 100)) == {winner}


def test_within_a_tier_more_remaining_quota_wins_a_p2c_duel() -> None:
    pool, clock = make_pool("performance")
    accounts = [account("low", quota={MODEL: 0.2}), account("high", quota={MODEL: 0.9})]
    assert set(spread(pool, clock, accounts, 100)) == {"high"}
    assert set(spread(pool, clock, accounts, 100, model=OTHER)) == {"low", "high"}  # unknown for OTHER: LRU alternates


def test_fewer_recent_failures_win_on_equal_quota() -> None:
    pool, clock = make_pool("performance")
    shaky, steady = account("shaky", quota={MODEL: 0.5}), account("steady", quota={MODEL: 0.5})
    pool.record_failure(shaky, OTHER, pool.classify(shaky, OTHER, 500))  # a failure on another model counts
    assert set(spread(pool, clock, [shaky, steady], 50)) == {"steady"}
    pool.record_success(shaky, OTHER)
    assert set(spread(pool, clock, [shaky, steady], 50)) == {"shaky", "steady"}


def test_p2c_draws_from_the_top_five_and_never_keeps_the_worst_of_them() -> None:
    pool, clock = make_pool("performance", seed=11)
    # The same remaining quota for each would let LRU reorder them; distinct fractions fix the ranking.
    accounts = [account(f"a{i}", quota={MODEL: 0.9 - i / 10}) for i in range(7)]
    counts = spread(pool, clock, accounts, 2000)
    assert set(counts) == {"a0", "a1", "a2", "a3"}  # a4 always loses its duel; a5, a6 are outside the window
    # P(best of a random pair from 5 is rank k) = (4 - k) / 10: 40 %, 30 %, 20 %, 10 %.
    assert counts["a0"] > counts["a1"] > counts["a2"] > counts["a3"] > 100


def test_p2c_is_deterministic_with_a_seeded_rng() -> None:
    accounts = [account(f"a{i}", quota={MODEL: 0.9 - i / 10}) for i in range(5)]

    def run(seed: int) -> list[str]:
        pool, clock = make_pool("performance", seed=seed)
        return list(spread(pool, clock, accounts, 1).elements()) + [
            picked(pool.pick(accounts, MODEL)) for _ in range(30)
        ]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_least_recently_used_breaks_ties() -> None:
    pool, clock = make_pool("performance")
    history = []
    for _ in range(6):
        history.append(picked(pool.pick([account("a"), account("b")], MODEL)))
        clock.advance(1)
    assert history == ["a", "b", "a", "b", "a", "b"]
    # With three, the one just used ranks last in the window and always loses its duel.
    three = [account("x"), account("y"), account("z")]
    history = []
    for _ in range(200):
        history.append(picked(pool.pick(three, MODEL)))
        clock.advance(1)
    assert all(one != two for one, two in zip(history, history[1:], strict=False))
    assert set(history) == {"x", "y", "z"}


# Stickiness


def test_balance_sticks_a_session_to_its_account() -> None:
    pool, _ = make_pool("balance")
    accounts = [account("a", quota={MODEL: 0.6}), account("b", quota={MODEL: 0.5})]
    first = pool.pick(accounts, MODEL, "sid-1")
    assert isinstance(first, Pick) and not first.sticky
    # Even after the other account becomes the better one, the session stays.
    accounts = [account("a", quota={MODEL: 0.1}), account("b", quota={MODEL: 0.9})]
    again = pool.pick(accounts, MODEL, "sid-1")
    assert isinstance(again, Pick) and again.sticky and again.account.id == first.account.id
    assert picked(pool.pick(accounts, MODEL, "sid-2")) == "b"  # a new session goes to the best


def test_the_session_is_released_when_its_account_cools_down() -> None:
    pool, clock = make_pool("balance")
    a, b = account("a", quota={MODEL: 0.9}), account("b", quota={MODEL: 0.5})
    assert picked(pool.pick([a, b], MODEL, "sid")) == "a"
    fail(pool, a, MODEL, 429, error(429, "RATE_LIMIT_EXCEEDED"))
    moved = pool.pick([a, b], MODEL, "sid")
    assert isinstance(moved, Pick) and picked(moved) == "b" and not moved.sticky
    clock.advance(60)  # a is healthy again, but the conversation now lives on b
    stay = pool.pick([a, b], MODEL, "sid")
    assert isinstance(stay, Pick) and picked(stay) == "b" and stay.sticky


@pytest.mark.parametrize(
    "change",
    ["disabled", "gone", "no quota", "tried"],
)
def test_the_session_moves_when_its_account_is_unusable(change: str) -> None:
    pool, _ = make_pool("balance")
    a, b = account("a", quota={MODEL: 0.9}), account("b", quota={MODEL: 0.5})
    assert picked(pool.pick([a, b], MODEL, "sid")) == "a"
    exclude: set[str] = set()
    accounts = [a, b]
    if change == "disabled":
        accounts = [account("a", enabled=False), b]
    elif change == "gone":
        accounts = [b]
    elif change == "no quota":
        accounts = [account("a", quota={MODEL: 0.0}, reset_at=NOW + 99), b]
    else:
        exclude = {a.id}
    assert picked(pool.pick(accounts, MODEL, "sid", exclude=exclude)) == "b"
    assert picked(pool.pick([a, b], MODEL, "sid")) == "b"


def test_performance_mode_never_sticks() -> None:
    pool, clock = make_pool("performance")
    accounts = [account("a"), account("b")]
    results = []
    for _ in range(4):
        results.append(pool.pick(accounts, MODEL, "sid"))
        clock.advance(1)
    assert [picked(r) for r in results] == ["a", "b", "a", "b"]
    assert not any(isinstance(r, Pick) and r.sticky for r in results)
    assert pool.state.session("sid", NOW) is None


def test_a_session_expires_after_its_ttl_without_use() -> None:
    pool, clock = make_pool("balance")
    accounts = [account("a"), account("b")]
    assert picked(pool.pick(accounts, MODEL, "sid")) == "a"
    clock.advance(3599)
    assert picked(pool.pick(accounts, MODEL, "sid")) == "a"  # use slides the expiry
    clock.advance(3599)
    assert picked(pool.pick(accounts, MODEL, "sid")) == "a"
    clock.advance(3601)
    assert pool.state.session("sid", clock()) is None


def test_sessions_are_bounded() -> None:
    state = InMemoryPoolState(max_sessions=2)
    pool, _ = make_pool("balance", state=state)
    accounts = [account("a")]
    for key in ("s1", "s2", "s3"):
        pool.pick(accounts, MODEL, key)
    assert state.session_count() == 2
    assert state.session("s1", NOW) is None and state.session("s3", NOW) == "id-a"


# Fixed mode


def test_fixed_mode_uses_only_the_configured_account() -> None:
    pool, clock = make_pool("fixed", fixed="  Chosen@GMAIL.com ")
    accounts = [account("best", "ultra", {MODEL: 1.0}), account("chosen", "free", {MODEL: 0.1})]
    assert set(spread(pool, clock, accounts, 30)) == {"chosen"}
    assert pool.max_attempts(accounts) == 2


def test_fixed_mode_does_not_fall_back_to_other_accounts() -> None:
    pool, _ = make_pool("fixed", fixed="chosen@gmail.com")
    chosen, other = account("chosen"), account("other")
    fail(pool, chosen, MODEL, 403, error(403))
    result = pool.pick([chosen, other], MODEL)
    assert isinstance(result, NoneAvailable) and result.reason == "cooling" and result.retry_after_s == 300
    missing = pool.pick([other], MODEL)
    assert isinstance(missing, NoneAvailable) and missing.reason == "fixed_missing"
    assert "chosen@gmail.com" in missing.message
    off = pool.pick([account("chosen", enabled=False, reason="invalid_grant"), other], MODEL)
    assert isinstance(off, NoneAvailable) and off.reason == "disabled"
    assert off.message == "account chosen@gmail.com is disabled: invalid_grant"


# Cooldown scopes


def test_quota_cools_one_model_on_one_account() -> None:
    pool, _ = make_pool("performance")
    a, b = account("a", "ultra"), account("b", "free")
    failure = fail(pool, a, MODEL, 429, error(429, "QUOTA_EXHAUSTED"))
    assert (failure.scope, failure.cooldown_s) == ("account_model", 60)
    assert picked(pool.pick([a, b], MODEL)) == "b"
    assert picked(pool.pick([a, b], OTHER)) == "a"


def test_rate_limit_cools_the_whole_account() -> None:
    pool, _ = make_pool("performance")
    a, b = account("a", "ultra"), account("b", "free")
    fail(pool, a, MODEL, 429, error(429, "RATE_LIMIT_EXCEEDED"))
    assert picked(pool.pick([a, b], MODEL)) == "b"
    assert picked(pool.pick([a, b], OTHER)) == "b"
    cooldown = pool.cooldown_of(a.id, OTHER)
    assert cooldown is not None and cooldown.kind == "rate" and cooldown.until == NOW + 5


def test_capacity_cools_the_model_everywhere_without_blaming_any_account() -> None:
    pool, clock = make_pool("performance")
    accounts = [account("a"), account("b"), account("c")]
    failure = fail(pool, accounts[0], MODEL, 429, error(429, "MODEL_CAPACITY_EXHAUSTED"))
    assert failure.step == "rotate"
    result = pool.pick(accounts, MODEL, exclude={"id-a"})
    assert isinstance(result, NoneAvailable) and result.reason == "capacity" and result.retry_after_s == 5
    assert result.message == f"{MODEL} is out of capacity upstream; retry in 5 s"
    assert all(pool.state.failures(x.id) == 0 for x in accounts)
    assert all(pool.cooldown_of(x.id) is None for x in accounts)  # no account burned
    assert isinstance(pool.pick(accounts, OTHER), Pick)
    clock.advance(5)
    assert isinstance(pool.pick(accounts, MODEL), Pick)
    # The next capacity failure waits longer, a success resets the steps.
    assert fail(pool, accounts[1], MODEL, 429, error(429, "MODEL_CAPACITY_EXHAUSTED")).cooldown_s == 10
    clock.advance(10)
    assert fail(pool, accounts[2], MODEL, 429, error(429, "MODEL_CAPACITY_EXHAUSTED")).cooldown_s == 15
    pool.record_success(accounts[0], MODEL)  # a request already in flight got through: capacity is back
    assert isinstance(pool.pick(accounts, MODEL), Pick)
    assert fail(pool, accounts[2], MODEL, 429, error(429, "MODEL_CAPACITY_EXHAUSTED")).cooldown_s == 5


def test_cooldowns_are_capped_by_settings() -> None:
    pool, clock = make_pool(cap=100)
    a = account("a")
    body = orjson.dumps(
        {
            "error": {
                "code": 429,
                "details": [{"reason": "QUOTA_EXHAUSTED", "metadata": {"quotaResetDelay": "1h16m0.667s"}}],
            }
        }
    )
    assert fail(pool, a, MODEL, 429, body).cooldown_s == 100
    clock.advance(99)
    assert not isinstance(pool.pick([a], MODEL), Pick)
    clock.advance(1)
    assert isinstance(pool.pick([a], MODEL), Pick)


def test_needs_user_blocks_until_released() -> None:
    pool, clock = make_pool()
    a = account("a")
    failure = fail(pool, a, MODEL, 403, error(403, "VALIDATION_REQUIRED"))
    assert failure.disable and failure.cooldown_s == math.inf
    clock.advance(10 * 86400)
    result = pool.pick([a], MODEL)
    assert isinstance(result, NoneAvailable) and result.retry_after_s is None
    pool.release(a.id)
    assert isinstance(pool.pick([a], MODEL), Pick)


def test_a_shorter_cooldown_never_shortens_a_longer_one() -> None:
    pool, _ = make_pool()
    a = account("a")
    fail(pool, a, MODEL, 403, error(403))  # 300 s (capped 10 min)
    fail(pool, a, MODEL, 429, error(429, "RATE_LIMIT_EXCEEDED"))  # 5 s... would be
    cooldown = pool.cooldown_of(a.id)
    assert cooldown is not None and cooldown.until == NOW + 300 and cooldown.kind == "forbidden"


def test_the_quota_reset_time_bounds_a_quota_cooldown() -> None:
    pool, _ = make_pool(cap=10_000)
    a = account("a", quota={MODEL: 0.3}, reset_at=NOW + 30)
    pool.state.set_failures(a.id, 3)  # backoff alone would say 2 h
    assert fail(pool, a, MODEL, 429, error(429, "QUOTA_EXHAUSTED")).cooldown_s == 30


def test_quota_backoff_grows_with_consecutive_failures_and_a_success_resets_it() -> None:
    pool, clock = make_pool(cap=10_000)
    a = account("a")
    steps = []
    for _ in range(5):
        steps.append(fail(pool, a, MODEL, 429, error(429, "QUOTA_EXHAUSTED")).cooldown_s)
        clock.advance(10_000)
    assert steps == [60, 300, 1800, 7200, 7200]
    assert pool.state.failures(a.id) == 5
    pool.record_success(a, OTHER)
    assert pool.state.failures(a.id) == 0
    assert fail(pool, a, MODEL, 429, error(429, "QUOTA_EXHAUSTED")).cooldown_s == 60


def test_client_errors_change_nothing() -> None:
    pool, _ = make_pool()
    a = account("a")
    fail(pool, a, MODEL, 400, b'{"error":{"message":"Unknown name foo"}}')
    fail(pool, a, MODEL, 400, b'{"error":{"message":"Corrupted thought signature."}}')
    assert pool.state.failures(a.id) == 0 and pool.cooldown_of(a.id, MODEL) is None


def test_success_lifts_the_accounts_cooldowns_for_that_model() -> None:
    pool, _ = make_pool()
    a = account("a")
    fail(pool, a, MODEL, 429, error(429, "RATE_LIMIT_EXCEEDED", retry="1.5s"))
    assert pool.cooldown_of(a.id, MODEL) is not None
    pool.record_success(a, MODEL)  # the grace retry on the same account worked
    assert pool.cooldown_of(a.id, MODEL) is None and pool.state.failures(a.id) == 0
    fail(pool, a, MODEL, 404)  # per (account, model)
    fail(pool, a, OTHER, 404)
    pool.record_success(a, MODEL)  # the project lookup fixed it
    assert pool.cooldown_of(a.id, MODEL) is None
    assert pool.cooldown_of(a.id, OTHER) is not None  # other models keep theirs


# Nothing available


def test_a_cooldown_ending_within_two_seconds_is_waited_for() -> None:
    pool, clock = make_pool()
    a = account("a")
    failure = fail(pool, a, MODEL, 429, error(429, "RATE_LIMIT_EXCEEDED", retry="1.5s"))
    assert failure.step == "retry_same" and failure.retry_in_s == 1.5
    result = pool.pick([a], MODEL)
    assert isinstance(result, Wait) and result.seconds == pytest.approx(1.5)
    clock.advance(1.5)
    assert isinstance(pool.pick([a], MODEL), Pick)


def test_a_longer_cooldown_fails_fast_naming_the_first_free_account() -> None:
    pool, clock = make_pool()
    accounts = [account("a"), account("b"), account("c")]
    for who, delay in zip(accounts, ("41s", "90s", "200s"), strict=True):
        fail(pool, who, MODEL, 429, error(429, "RATE_LIMIT_EXCEEDED", retry=delay))
    result = pool.pick(accounts, MODEL)
    assert isinstance(result, NoneAvailable)
    assert (result.reason, result.retry_after_s) == ("cooling", 41)
    assert result.message == f"all 3 accounts cooling down for {MODEL}; next free in 41 s"
    clock.advance(39)
    waiting = pool.pick(accounts, MODEL)
    assert isinstance(waiting, Wait) and waiting.seconds == 2
    clock.advance(2)
    assert picked(pool.pick(accounts, MODEL)) == "a"


def test_quota_resets_count_as_free_times_too() -> None:
    pool, _ = make_pool()
    a = account("a", quota={MODEL: 0.0}, reset_at=NOW + 1)
    b = account("b")
    fail(pool, b, MODEL, 429, error(429, "RATE_LIMIT_EXCEEDED", retry="30s"))
    result = pool.pick([a, b], MODEL)
    assert isinstance(result, Wait) and result.seconds == 1
    assert "cooling down or out of quota" in result.message


def test_tried_accounts_are_skipped_and_named() -> None:
    pool, _ = make_pool()
    a, b, c = account("a"), account("b"), account("c")
    assert picked(pool.pick([a, b], MODEL, exclude={a.id})) == "b"
    result = pool.pick([a, b], MODEL, exclude={a.id, b.id})
    assert isinstance(result, NoneAvailable) and result.reason == "tried_all" and result.retry_after_s is None
    fail(pool, c, MODEL, 429, error(429, "RATE_LIMIT_EXCEEDED", retry="20s"))
    mixed = pool.pick([a, b, c], MODEL, exclude={a.id, b.id})
    assert isinstance(mixed, NoneAvailable) and mixed.retry_after_s == 20
    assert mixed.message == f"1 account cooling down and 2 already tried for {MODEL}; next free in 20 s"


# Attempts, settings, state


@pytest.mark.parametrize(
    ("setting", "enabled", "disabled", "attempts"),
    [(3, 0, 0, 1), (3, 1, 0, 2), (3, 2, 0, 3), (3, 5, 0, 3), (10, 4, 0, 5), (1, 5, 0, 1), (3, 1, 4, 2)],
)
def test_max_attempts(setting: int, enabled: int, disabled: int, attempts: int) -> None:
    pool, _ = make_pool(max_attempts=setting)
    accounts = [account(f"e{i}") for i in range(enabled)] + [account(f"d{i}", enabled=False) for i in range(disabled)]
    assert pool.max_attempts(accounts) == attempts


def test_with_settings_keeps_the_state() -> None:
    pool, _ = make_pool("balance")
    a, b = account("a"), account("b")
    fail(pool, a, MODEL, 429, error(429, "RATE_LIMIT_EXCEEDED", retry="60s"))
    fixed = pool.with_settings(SchedulingSettings(mode="fixed", fixed_account="a@gmail.com"))
    assert fixed.state is pool.state
    result = fixed.pick([a, b], MODEL)
    assert isinstance(result, NoneAvailable) and result.retry_after_s == 60


def test_picking_records_last_use() -> None:
    pool, clock = make_pool()
    a = account("a")
    clock.advance(12)
    pool.pick([a], MODEL)
    assert pool.state.last_used(a.id) == NOW + 12


def test_forgetting_an_account_drops_its_state() -> None:
    state = InMemoryPoolState()
    pool, _ = make_pool(state=state)
    a = account("a")
    pool.pick([a], MODEL, "sid")
    fail(pool, a, MODEL, 429, error(429, "QUOTA_EXHAUSTED"))
    fail(pool, a, MODEL, 403, error(403))
    pool.release(a.id)
    assert state.active_cooldowns(NOW) == [] and state.failures(a.id) == 0
    assert state.session("sid", NOW) is None and state.last_used(a.id) is None


def test_session_key() -> None:
    by_text = session_key("Write a haiku about rain")
    assert by_text is not None and by_text.startswith("sid-") and len(by_text) == 20
    assert session_key("  Write a haiku about rain\n") == by_text
    assert session_key("Write a haiku about snow") != by_text
    assert session_key("Write a haiku about rain", "conv-123") == session_key(None, "conv-123") != by_text
    assert session_key("conv-123") != session_key(None, "conv-123")  # text and ids never collide
    assert session_key(None, None) is None and session_key("  ", " ") is None
    assert session_key("\ud800 lone surrogate") is not None
