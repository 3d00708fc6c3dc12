"""Atomic replacement: a reader, or a crash, never sees half a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trayagent.files.atomicfile import write_atomic

REPO = Path(__file__).resolve().parents[2]


def test_replaces_content_with_the_given_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomic(target, b"one", mode=0o600)
    write_atomic(target, b"two", mode=0o644)
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomic(target, b"old")
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


WRITER = """
import sys
from pathlib import Path
from trayagent.files.atomicfile import write_atomic
target = Path(sys.argv[1])
payloads = [b"A" * 3_000_000, b"B" * 2_000_000]
print("ready", flush=True)
i = 0
while True:
    write_atomic(target, payloads[i % 2])
    i += 1
"""


@pytest.mark.timeout(60)
def test_killing_the_writer_mid_write_never_leaves_a_torn_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    write_atomic(target, b"A" * 3_000_000)
    for delay in (0.05, 0.13, 0.21, 0.37):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target)],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        data = target.read_bytes()
        assert data in (b"A" * 3_000_000, b"B" * 2_000_000)
