"""Misbehaving proxy children for supervisor tests (spawn needs importable top-level functions)."""

from __future__ import annotations

import signal
import time
from multiprocessing.connection import Connection

from trayagent.supervision.messages import Ready
from trayagent.supervision.proxychild import ChildLaunch


def stubborn_child(conn: Connection, launch: ChildLaunch) -> None:
    """Says ready, then ignores stop requests and SIGTERM: only a kill ends it."""
    import os

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send(Ready(os.getpid(), launch.host, launch.port))
    while True:
        time.sleep(1)
