"""The request monitor's SQLite file survives a writer killed mid-transaction: whole, consistent, writable again."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.polling import eventually
from tests.serverproc import REPO
from trayagent.config import MonitorSettings
from trayagent.proxy.exchange import Exchange
from trayagent.proxy.monitor.query import LogFilter
from trayagent.proxy.monitor.writer import FILE_NAME, Monitor

HOUR = 3600.0


def exchange(at: float) -> Exchange:
    ex = Exchange(
        "gemini", "/v1beta/models/gemini-2.5-flash:generateContent", "gemini-2.5-flash", stream=False, started_at=at
    )
    ex.mark_first_byte()
    ex.close(200, None)
    return ex


@pytest.mark.timeout(90)
def test_a_writer_killed_mid_transaction_leaves_a_whole_file(tmp_path: Path):
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.monitorwriter", str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        path = tmp_path / FILE_NAME

        def rows() -> int:
            with closing(sqlite3.connect(path, timeout=10)) as conn:
                return int(conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0])

        assert eventually(lambda: rows() > 3000, timeout=30)
        writer.send_signal(signal.SIGKILL)  # it is almost always inside a transaction: batches are long
        writer.wait(10)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(10)
        if writer.stdout is not None:
            writer.stdout.close()

    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
        # Rows, bodies and statistics were committed together or not at all.
        assert conn.execute("SELECT SUM(requests) FROM hourly").fetchone()[0] == count
        assert conn.execute("SELECT COUNT(*) FROM bodies").fetchone()[0] == count
    # And it opens and takes new rows again.
    monitor = Monitor(path, lambda: MonitorSettings(), flush_s=0.05)
    try:
        monitor.start()
        monitor.record(exchange(time.time()))
        assert monitor.drain() and monitor.counts(HOUR)[0] >= 1
        assert len(monitor.logs(LogFilter(limit=500))) == 500
    finally:
        monitor.close()
