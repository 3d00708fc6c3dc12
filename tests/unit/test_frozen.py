"""`@frozen` (trayagent/frozen.py): read-only to the type checker, a plain slotted dataclass at run time."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from trayagent.frozen import frozen

REPO = Path(__file__).resolve().parents[2]

ASSIGNMENTS = """\
from trayagent.accounts.pool import Pick
from trayagent.frozen import frozen
from trayagent.proxy.crossorigin import BrowserSignals, Policy
from trayagent.proxy.hostname import Host
from trayagent.proxy.monitor.row import LogRow
from trayagent.translate.hub import ClientCall, ClientTarget, HubRequest
from trayagent.upstream.sse import SSEEvent


@frozen
class Point:
    x: int


def mutate(point: Point, hub: HubRequest, call: ClientCall, target: ClientTarget, row: LogRow, pick: Pick) -> int:
    point.x = 2
    hub.model = "other"
    call.stream = True
    target.path = "/elsewhere"
    row.status = 500
    pick.sticky = True
    return point.x  # reading is fine


def mutate_edges(event: SSEEvent, signals: BrowserSignals, policy: Policy, host: Host) -> None:
    event.data = "{}"
    signals.origin = "https://elsewhere.example"
    policy.key_needed = False
    host.port = 80
"""


def test_mypy_refuses_every_assignment_to_a_frozen_field(tmp_path: Path) -> None:
    source = tmp_path / "mutate.py"
    source.write_text(ASSIGNMENTS)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent", str(source)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    flagged = sorted(int(line.split(":")[1]) for line in errors)
    assignments = [
        number for number, line in enumerate(ASSIGNMENTS.splitlines(), 1) if line.startswith("    ") and " = " in line
    ]
    assert len(assignments) == 10 and flagged == assignments, done.stdout
    assert all("is read-only" in line for line in errors), done.stdout


@frozen
class _Sample:
    name: str
    tags: list[str] = dataclasses.field(default_factory=list)
    count: int = 0


def test_at_run_time_it_is_a_slotted_dataclass_with_defaults_and_equality() -> None:
    sample = _Sample("a")
    assert dataclasses.is_dataclass(sample) and not hasattr(sample, "__dict__")
    assert sample == _Sample("a", [], 0) == _Sample(name="a")
    assert sample.tags is not _Sample("a").tags  # a factory's default, fresh per instance
    assert dataclasses.replace(sample, count=2) == _Sample("a", count=2)
    with pytest.raises(AttributeError):
        sample.colour = "red"  # type: ignore[attr-defined]  # slots: no field of another name
