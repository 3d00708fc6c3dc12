"""Atomic replacement under a crash: a writer process killed mid-write never leaves a torn file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.serverproc import REPO
from trayagent.files.atomicfile import write_atomic

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
