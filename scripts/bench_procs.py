"""What the bench reads of processes and CPUs in /proc: a process's children, CPU time spent by processes,
and one CPU's busy and stolen time (shared by scripts/bench.py and the load generator's sliced runs)."""

from __future__ import annotations

import os
from pathlib import Path


def children(pid: int) -> list[int]:
    found: list[int] = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes `pids` have spent (one that is gone counts nothing)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return total


def cpu_times(cpu: int | None) -> tuple[float, float]:
    """(busy, steal) seconds of one CPU (all CPUs when None) from /proc/stat. Busy is time in processes (user,
    nice, system); interrupt time is left out, as most of it on a server's CPU is the loopback network work of
    the server's own replies, which no process's run time counts."""
    label = "cpu" if cpu is None else f"cpu{cpu}"
    for line in Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        if fields[0] == label:
            user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(f) for f in fields[1:9])
            tick = os.sysconf("SC_CLK_TCK")
            return (user + nice + system) / tick, steal / tick
    return 0.0, 0.0


def run_seconds(pids: list[int]) -> float:
    """Seconds every thread of the processes `pids` has run on a CPU, to the nanosecond (schedstat): for
    windows too short for the clock-tick counts of `cpu_seconds`."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
            except (OSError, IndexError, ValueError):
                pass
    return total / 1e9
