"""The single-instance lock: one trayagent agent (tray or `serve`) per data directory.

An OS lock on `<data>/agent.lock` (flock on POSIX, msvcrt on Windows), not the file's existence: the
OS drops the lock when the holder dies, so a stale file left by a crash never blocks the next start.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

LOCK_FILE_NAME = "agent.lock"


class InstanceLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE_NAME
        self._file: IO[str] | None = None

    def acquire(self, role: str) -> bool:
        """Take the lock for this process (`role` is "tray" or "serve"); False if another process has it."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Opened without truncating: the holder's pid must stay readable for the refused process.
        handle = open(self.path, "a+", encoding="utf-8")  # held open for the process lifetime
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        # A lock file is rewritten in place, not atomically: renaming it would separate lock and name.
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {role}\n")
        handle.flush()
        self._file = handle
        return True

    def holder(self) -> str:
        """Who holds the lock, in words ("the tray agent, pid 1234"), from what it wrote."""
        try:
            pid, _, role = self.path.read_text(encoding="utf-8").strip().partition(" ")
        except OSError:
            return "another trayagent"
        what = {"tray": "the tray agent", "serve": "trayagent serve"}.get(role, "another trayagent")
        return f"{what}, pid {pid}" if pid.isdigit() else what

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the OS lock
            self._file = None


def _lock(handle: IO[str]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
