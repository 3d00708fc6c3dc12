"""Restart backoff and the crash-loop limit, on a clock the test controls."""

from __future__ import annotations

from trayagent.supervision.restartpolicy import CrashHistory, RestartPolicy, describe_exit

POLICY = RestartPolicy(first_delay=1, max_delay=30, give_up_after=5, window=60, stable_after=60)


def crash_at(history: CrashHistory, now: float, uptime: float = 0.0) -> tuple[CrashHistory, float | None]:
    history = history.record(POLICY, now, uptime)
    decision = history.decide(POLICY, now, "exited with code 1")
    return history, decision.delay if decision.restart else None


def test_delays_double_up_to_the_cap_for_crashes_spread_out() -> None:
    history, delays, now = CrashHistory(), [], 0.0
    for _ in range(8):
        history, delay = crash_at(history, now, uptime=20)  # each run lasted 20 s: not stable yet
        assert delay is not None
        delays.append(delay)
        now += 25  # at most three crashes inside any minute
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]


def test_five_quick_crashes_within_a_minute_give_up_with_the_reason() -> None:
    history = CrashHistory()
    for now in (0, 1, 3, 7, 15):
        history, delay = crash_at(history, now)
    assert delay is None
    decision = history.decide(POLICY, 15, "was killed by signal 9 (SIGKILL)")
    assert not decision.restart
    assert decision.reason.startswith("the proxy crashed 5 times within 60 s (last: was killed by signal 9 (SIGKILL))")


def test_crashes_older_than_the_window_are_forgotten() -> None:
    history = CrashHistory()
    for now in (0, 1, 3, 7):
        history, _ = crash_at(history, now)
    history, delay = crash_at(history, 100)
    assert delay is not None  # the four early crashes fell out of the window


def test_a_stable_run_resets_the_backoff() -> None:
    history = CrashHistory()
    for now in (0, 1, 3):
        history, _ = crash_at(history, now)
    history, delay = crash_at(history, 500, uptime=300)
    assert delay == 1


def test_exit_codes_in_words() -> None:
    assert describe_exit(1) == "exited with code 1"
    assert describe_exit(-9) == "was killed by signal 9 (SIGKILL)"
    assert describe_exit(-15) == "was killed by signal 15 (SIGTERM)"
    assert describe_exit(None) == "stopped answering"
