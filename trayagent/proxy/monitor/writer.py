"""The request monitor: every finished AI exchange logged to `<data_dir>/monitor.sqlite3`, off the request path.

`record()` is an Exchange observer: it only appends to a bounded queue (the oldest entry goes, counted in
`dropped`, when writing falls behind). One writer thread turns entries into redacted rows and writes them
in batches, a transaction each, every `flush_s` or sooner when `batch_rows` are waiting; it also applies
`monitor.retention_days` at start and every hour. With `monitor.enabled: false` nothing is opened; turning
it on in a running proxy starts the writer on the next request. Reads (`logs`, `stats`, `counts`) block:
call them through `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from trayagent.config import MonitorSettings
from trayagent.proxy.exchange import Exchange
from trayagent.proxy.monitor import db as monitordb
from trayagent.proxy.monitor.query import LogFilter, StatsQuery
from trayagent.proxy.monitor.row import BODY_CAP, LogRow, row_from_exchange

log = logging.getLogger(__name__)

FILE_NAME = "monitor.sqlite3"
_T = TypeVar("_T")


class Monitor:
    def __init__(
        self,
        path: Path,
        settings: Callable[[], MonitorSettings],
        *,
        now: Callable[[], float] = time.time,
        flush_s: float = 0.5,
        batch_rows: int = 500,
        capacity: int = 10_000,
        prune_every_s: float = 3600.0,
        body_cap: int = BODY_CAP,
    ) -> None:
        self.path = path
        self._settings = settings
        self._now = now
        self._flush_s = flush_s
        self._batch_rows = batch_rows
        self._prune_every_s = prune_every_s
        self._body_cap = body_cap
        # (exchange, log its bodies?) — the flag is read when the request ends, as the config was then.
        self._queue: deque[tuple[Exchange, bool]] = deque(maxlen=capacity)
        self.dropped = 0  # entries lost to a full queue or a failed write
        self.written = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._ready = threading.Event()  # the file is open and its schema in place
        self._idle = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._launch_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._last_prune = float("-inf")
        self.error: str | None = None  # why the file could not be opened, while it cannot

    @property
    def enabled(self) -> bool:
        return self._settings().enabled

    @property
    def open(self) -> bool:
        return self._ready.is_set() and self.error is None and not self._stop.is_set()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Open the file and start writing when the monitor is enabled; blocks until the file is ready."""
        if self.enabled:
            self._launch()
            self._ready.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then close the file. Blocking."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("monitor: the writer did not finish within %g s", timeout)
        with self._read_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def record(self, exchange: Exchange) -> None:
        """The Exchange observer: O(1), never blocks, never raises for a full queue."""
        settings = self._settings()
        if not settings.enabled or self._stop.is_set():
            return
        if self._thread is None:
            self._launch()
        queue = self._queue
        if len(queue) == queue.maxlen:
            self.dropped += 1  # the append below pushes the oldest out
        queue.append((exchange, settings.log_bodies))
        if len(queue) >= self._batch_rows:
            self._wake.set()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until everything recorded so far is written (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._idle:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or (self._thread is None or not self._thread.is_alive()):
                    return not self._queue and not self._busy
                self._wake.set()
                self._idle.wait(min(left, 0.05))
        return True

    def _launch(self) -> None:
        with self._launch_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="monitor-writer", daemon=True)
                self._thread.start()

    # -- the writer thread ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._writer = monitordb.open_db(self.path)
        except (sqlite3.Error, OSError) as exc:
            self.error = f"cannot open {self.path}: {exc}"
            log.error("monitor: %s; requests are not being logged", self.error)
            self._ready.set()
            return
        self._prune_if_due()
        self._ready.set()
        try:
            while not self._stop.is_set():
                self._wake.wait(self._flush_s)
                self._wake.clear()
                self._flush()
                self._prune_if_due()
            self._flush()  # what came in while stopping
        finally:
            self._writer.close()
            self._writer = None
            with self._idle:
                self._idle.notify_all()

    def _flush(self) -> None:
        queue = self._queue
        while queue:
            with self._idle:
                self._busy = True
            batch: list[tuple[Exchange, bool]] = []
            try:
                while queue and len(batch) < self._batch_rows:
                    batch.append(queue.popleft())
            except IndexError:  # emptied under us: nothing else takes from it, but be safe
                pass
            self._write(batch)
            with self._idle:
                self._busy = False
                self._idle.notify_all()

    def _write(self, batch: list[tuple[Exchange, bool]]) -> None:
        rows: list[LogRow] = []
        for exchange, log_bodies in batch:
            try:
                rows.append(row_from_exchange(exchange, log_bodies=log_bodies, body_cap=self._body_cap))
            except Exception:  # one odd exchange must not cost the batch
                log.exception("monitor: could not turn an exchange into a row")
                self.dropped += 1
        assert self._writer is not None
        try:
            monitordb.write_rows(self._writer, rows)
        except sqlite3.Error as exc:
            self.dropped += len(rows)
            log.error("monitor: could not write %d request(s): %s", len(rows), exc)
        else:
            self.written += len(rows)

    def _prune_if_due(self) -> None:
        """Apply the retention when an hour (on the injected clock) has passed since the last time."""
        now = self._now()
        if now - self._last_prune < self._prune_every_s or self._writer is None:
            return
        self._last_prune = now
        before = now - self._settings().retention_days * 86400
        try:
            removed = monitordb.prune(self._writer, before)
        except sqlite3.Error as exc:
            log.error("monitor: could not apply the retention: %s", exc)
            return
        if removed:
            log.info("monitor: forgot %d request(s) older than %d days", removed, self._settings().retention_days)

    # -- reading (blocking) ---------------------------------------------------------------------

    def logs(self, query: LogFilter) -> list[dict[str, Any]]:
        return self._read(lambda conn: monitordb.recent_logs(conn, query), [])

    def stats(self, query: StatsQuery) -> list[dict[str, Any]]:
        empty = monitordb.time_buckets(query, self._now(), {})
        return self._read(lambda conn: monitordb.statistics(conn, query, self._now()), empty)

    def counts(self, seconds: float) -> tuple[int, int]:
        """(requests, failed requests) of the last `seconds`."""
        return self._read(lambda conn: monitordb.request_counts(conn, self._now() - seconds), (0, 0))

    def entry(self, request_id: int) -> dict[str, Any] | None:
        return self._read(lambda conn: monitordb.log_entry(conn, request_id), None)

    def bodies(self, request_id: int) -> tuple[str | None, str | None] | None:
        return self._read(lambda conn: monitordb.bodies(conn, request_id), None)

    def _read(self, query: Callable[[sqlite3.Connection], _T], default: _T) -> _T:
        if not self.open:
            return default
        with self._read_lock:
            if self._reader is None:
                self._reader = monitordb.connect(self.path)
            try:
                return query(self._reader)
            except sqlite3.Error as exc:
                log.error("monitor: a query failed: %s", exc)
                return default
