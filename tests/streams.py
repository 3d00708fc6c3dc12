"""A slow streaming request held open in a background thread (the proxy's test-only /api/test/slow-stream)."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable


class SlowStream:
    """GET /api/test/slow-stream?chunks=N&delay=S on `port`, read line by line as the chunks arrive."""

    def __init__(self, port: int, chunks: int = 10, delay: float = 0.2, headers: dict[str, str] | None = None) -> None:
        self.port, self.chunks = port, chunks
        self.lines: list[str] = []
        self.status: int | None = None
        self.error: BaseException | None = None
        self.first_chunk = threading.Event()
        self._path = f"/api/test/slow-stream?chunks={chunks}&delay={delay}"
        self._headers = headers or {}
        self._thread = threading.Thread(target=self._read, daemon=True)

    def start(self, wait_first: float = 10) -> SlowStream:
        self._thread.start()
        assert self.first_chunk.wait(wait_first), f"no first chunk: {self.error!r}"
        return self

    def _read(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", self._path, headers=self._headers)
            resp = conn.getresponse()
            self.status = resp.status
            while True:
                line = resp.readline()
                if not line:
                    break
                self.lines.append(line.decode().strip())
                self.first_chunk.set()
        except BaseException as exc:  # recorded for the assertion, not swallowed
            self.error = exc
        finally:
            self.first_chunk.set()
            conn.close()

    def finish(self, timeout: float = 30) -> list[str]:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "stream still open"
        return self.lines

    @property
    def complete(self) -> bool:
        return self.lines == [f"chunk {i}/{self.chunks}" for i in range(1, self.chunks + 1)]


def wait_until(predicate: Callable[[], object], timeout: float = 10, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True
