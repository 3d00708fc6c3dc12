"""A slow streaming request held open in a background thread (the proxy's test-only /api/test/slow-stream)."""

from __future__ import annotations

import http.client
import threading


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
