"""When to restart a crashed proxy, and when to stop trying: exponential backoff with a crash-loop limit.

Pure: the supervisor hands in the times (from its own clock) and acts on the decision.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    first_delay: float = 1.0  # seconds before the first restart; doubles with each crash in a streak
    max_delay: float = 30.0
    give_up_after: int = 5  # this many crashes within `window` seconds → stop restarting
    window: float = 60.0
    stable_after: float = 60.0  # a child up this long ends the streak: the next crash waits first_delay again


@dataclass(frozen=True, slots=True)
class RestartDecision:
    restart: bool
    delay: float  # seconds to wait before restarting (0 when giving up)
    reason: str  # in words, for the status line and the log


@dataclass(frozen=True, slots=True)
class CrashHistory:
    """Crash times (monotonic seconds) and the current streak length; a new history per crash."""

    times: tuple[float, ...] = ()
    streak: int = 0

    def record(self, policy: RestartPolicy, now: float, uptime: float) -> CrashHistory:
        recent = tuple(t for t in self.times if now - t < policy.window)
        streak = 1 if uptime >= policy.stable_after else self.streak + 1
        return CrashHistory(times=(*recent, now), streak=streak)

    def decide(self, policy: RestartPolicy, now: float, what: str) -> RestartDecision:
        """`what` describes the last exit ("killed by signal 9"); the history must already include it."""
        recent = [t for t in self.times if now - t < policy.window]
        if len(recent) >= policy.give_up_after:
            return RestartDecision(
                restart=False,
                delay=0.0,
                reason=(
                    f"the proxy crashed {len(recent)} times within {policy.window:g} s (last: {what}); "
                    "stopped restarting it — see the log, then choose Start"
                ),
            )
        delay = min(policy.max_delay, policy.first_delay * 2 ** max(0, self.streak - 1))
        return RestartDecision(restart=True, delay=delay, reason=f"the proxy {what}; restarting in {delay:g} s")


def describe_exit(exitcode: int | None) -> str:
    """A child's exit code in words: `exited with code 1`, `was killed by signal 9 (SIGKILL)`."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        import signal

        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown"
        return f"was killed by signal {-exitcode} ({name})"
    return f"exited with code {exitcode}"
