"""An advisory lock shared between processes: the proxy, the tray and CLI commands edit the same files.

It is an OS lock on an open file (flock on POSIX, msvcrt on Windows), so a crashed holder never
leaves a stale lock behind. Blocking: call it from a thread when on an event loop.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for ~10 s, then raises OSError

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


# flock is per open file description, so threads of one process also need a process-local lock.
_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


def _local_lock(path: Path) -> threading.Lock:
    with _local_guard:
        return _local_locks.setdefault(str(path), threading.Lock())


class FileLock:
    """The lock as an object, for holders that take and release it from different threads (asyncio code)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        local = _local_lock(self.path)
        local.acquire()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                _lock(fd)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            local.release()
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)
            _local_lock(self.path).release()


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock named by `path` (the file is created, 0600, and left in place)."""
    lock = FileLock(path)
    lock.acquire()
    try:
        yield
    finally:
        lock.release()
