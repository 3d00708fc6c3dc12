"""A spawned child's link to the process that started it: one pipe up (messages, log records), death with the parent.

Shared by the proxy child and the status window child; imports nothing heavy, so a child pays only for
what it runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection

from trayagent.supervision.messages import LogLine


class ParentLink:
    """The child's end of the pipe; sends may come from several threads, so they are serialised."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()
        self.broken = False

    def send(self, message: object) -> None:
        """One message (supervision/messages.py); dropped once the pipe is broken."""
        if self.broken:
            return
        with self._lock:
            try:
                self.conn.send(message)
            except (OSError, ValueError):
                self.broken = True

    def receive(self, parent_pid: int) -> Iterator[object]:
        """The parent's messages, until its end of the pipe closes or it dies (checked every half second)."""
        while True:
            try:
                if not self.conn.poll(0.5):
                    if os.getppid() != parent_pid:
                        return
                    continue
                message = self.conn.recv()
            except (EOFError, OSError):
                return
            yield message


class PipeLogHandler(logging.Handler):
    """Relays records to the parent, which owns the terminal and the log file."""

    def __init__(self, link: ParentLink) -> None:
        super().__init__()
        self.link = link
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a bad format string must not kill the child
            text = str(record.msg)
        if self.link.broken:
            if sys.stderr is not None:
                sys.stderr.write(f"{record.levelname} {record.name}: {text}\n")
            return
        self.link.send(LogLine(record.levelno, record.name, text))


def die_with_parent(parent_pid: int) -> None:
    """SIGTERM when the parent dies (Linux: PR_SET_PDEATHSIG); leave now if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)
