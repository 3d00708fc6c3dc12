"""The request monitor's SQLite file: schema, batched writes, retention and the queries of the status API.

Blocking functions over one `sqlite3.Connection`; the monitor calls them from its writer thread or through
`asyncio.to_thread`, never on the event loop. WAL journal and one transaction per batch: a crash (even
SIGKILL mid-write) loses at most the batch in flight, never the file. Token statistics live in `hourly`
(hour × account × model), updated in the same transaction as the rows, so the two never disagree.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from trayagent.proxy.monitor.query import LogFilter, StatsQuery
from trayagent.proxy.monitor.row import LogRow, hour_of, iso

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
NO_ACCOUNT = "(no account)"  # the `hourly.account` of requests that never reached one
_OK = "status BETWEEN 100 AND 399"
_SPAN = {"hour": 3600, "day": 86400}
_TOKENS = ("input_tokens", "output_tokens", "cached_tokens", "thinking_tokens")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    protocol TEXT NOT NULL,
    path TEXT NOT NULL,
    client_model TEXT NOT NULL,
    upstream_model TEXT,
    account TEXT,
    status INTEGER NOT NULL,
    duration_ms REAL,
    ttfb_ms REAL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    thinking_tokens INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    stream INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    upstream_failures TEXT
);
CREATE INDEX IF NOT EXISTS requests_time ON requests(time);
-- Bodies apart, so listing requests never reads them.
CREATE TABLE IF NOT EXISTS bodies (
    id INTEGER PRIMARY KEY,
    request TEXT,
    response TEXT
);
CREATE TABLE IF NOT EXISTS hourly (
    hour INTEGER NOT NULL,
    account TEXT NOT NULL,
    model TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    thinking_tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, account, model)
) WITHOUT ROWID;
PRAGMA user_version = {SCHEMA_VERSION};
"""

_INSERT_ROW = """
INSERT INTO requests (time, protocol, path, client_model, upstream_model, account, status, duration_ms, ttfb_ms,
    input_tokens, output_tokens, cached_tokens, thinking_tokens, error, stream, attempts, upstream_failures)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_UPSERT_HOUR = """
INSERT INTO hourly (hour, account, model, requests, errors, input_tokens, output_tokens, cached_tokens, thinking_tokens)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (hour, account, model) DO UPDATE SET
    requests = requests + excluded.requests,
    errors = errors + excluded.errors,
    input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    cached_tokens = cached_tokens + excluded.cached_tokens,
    thinking_tokens = thinking_tokens + excluded.thinking_tokens
"""


def connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode; autocommit off is handled by `with conn:` transactions."""
    conn = sqlite3.connect(path, timeout=10.0, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL is crash-safe in WAL mode: an app crash loses nothing committed; a power cut may lose the last
    # transactions, never the file's consistency.
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def open_db(path: Path) -> sqlite3.Connection:
    """Open (creating) the monitor file. An unreadable one is moved aside and started afresh: the log is
    worth less than a monitor that works."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _prepare(connect(path))
    except sqlite3.DatabaseError as exc:
        aside = path.with_name(f"{path.name}.broken-{int(time.time())}")
        log.error("monitor: %s is unreadable (%s); moved it to %s and starting a new one", path, exc, aside.name)
        for suffix in ("", "-wal", "-shm"):
            source = path.with_name(path.name + suffix)
            if source.exists():
                source.replace(aside.with_name(aside.name + suffix))
        return _prepare(connect(path))


def _prepare(conn: sqlite3.Connection) -> sqlite3.Connection:
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"written by a newer trayagent (schema {version})")
        conn.executescript(_SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


# -- writing ----------------------------------------------------------------------------------------


def write_rows(conn: sqlite3.Connection, rows: Sequence[LogRow]) -> None:
    """Insert the rows and add them to the hourly statistics, all in one transaction."""
    if not rows:
        return
    with conn:
        for row in rows:
            cursor = conn.execute(_INSERT_ROW, _row_values(row))
            if row.request_body is not None or row.response_body is not None:
                conn.execute(
                    "INSERT INTO bodies (id, request, response) VALUES (?, ?, ?)",
                    (cursor.lastrowid, row.request_body, row.response_body),
                )
        conn.executemany(_UPSERT_HOUR, _hour_totals(rows))


def _row_values(row: LogRow) -> tuple[Any, ...]:
    return (
        row.time,
        row.protocol,
        row.path,
        row.client_model,
        row.upstream_model,
        row.account,
        row.status,
        row.duration_ms,
        row.ttfb_ms,
        row.input_tokens,
        row.output_tokens,
        row.cached_tokens,
        row.thinking_tokens,
        row.error,
        int(row.stream),
        row.attempts,
        row.upstream_failures,
    )


def _hour_totals(rows: Iterable[LogRow]) -> list[tuple[Any, ...]]:
    totals: dict[tuple[int, str, str], list[int]] = {}
    for row in rows:
        key = (hour_of(row.time), row.account or NO_ACCOUNT, row.model)
        sums = totals.setdefault(key, [0] * 6)
        for index, value in enumerate(
            (1, int(row.failed), row.input_tokens, row.output_tokens, row.cached_tokens, row.thinking_tokens)
        ):
            sums[index] += value
    return [(*key, *sums) for key, sums in totals.items()]


def prune(conn: sqlite3.Connection, before: float) -> int:
    """Forget requests older than `before` (epoch seconds) and the hours that ended by then; rows removed."""
    with conn:
        conn.execute("DELETE FROM bodies WHERE id IN (SELECT id FROM requests WHERE time < ?)", (before,))
        removed = conn.execute("DELETE FROM requests WHERE time < ?", (before,)).rowcount
        conn.execute("DELETE FROM hourly WHERE hour + 3600 <= ?", (before,))
    return removed


# -- reading ----------------------------------------------------------------------------------------

_LOG_COLUMNS = (
    "id, time, protocol, path, client_model, upstream_model, account, status, duration_ms, ttfb_ms, "
    "input_tokens, output_tokens, cached_tokens, thinking_tokens, error, stream, attempts, upstream_failures"
)


def recent_logs(conn: sqlite3.Connection, query: LogFilter) -> list[dict[str, Any]]:
    """The newest requests matching the filter, newest first, as the status API shows them."""
    where: list[str] = []
    params: list[Any] = []
    if query.status == "ok":
        where.append(_OK)
    elif query.status == "error":
        where.append(f"NOT ({_OK})")
    elif isinstance(query.status, int):
        where.append("status = ?")
        params.append(query.status)
    if query.model:
        pattern = "%" + query.model.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("(client_model LIKE ? ESCAPE '\\' OR upstream_model LIKE ? ESCAPE '\\')")
        params += [pattern, pattern]
    sql = f"SELECT {_LOG_COLUMNS} FROM requests"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY time DESC, id DESC LIMIT ?"
    params.append(query.limit)
    return [_log_entry(row) for row in conn.execute(sql, params)]


def _log_entry(row: Sequence[Any]) -> dict[str, Any]:
    (id_, moment, protocol, path, client_model, upstream_model, account, status, duration_ms, ttfb_ms) = row[:10]
    inputs, outputs, cached, thinking, error, stream, attempts, failures = row[10:]
    return {
        "id": id_,
        "time": iso(moment),
        "protocol": protocol,
        "path": path,
        "client_model": client_model,
        "upstream_model": upstream_model,
        "account": account,
        "status": status,
        "duration_ms": duration_ms,
        "ttfb_ms": ttfb_ms,
        "input_tokens": inputs,
        "output_tokens": outputs,
        "cached_tokens": cached,
        "thinking_tokens": thinking,
        "error": error,
        "stream": bool(stream),
        "attempts": attempts,
        "upstream_failures": failures.split(",") if failures else [],
    }


def log_entry(conn: sqlite3.Connection, request_id: int) -> dict[str, Any] | None:
    """One request with its bodies (None when they were not logged)."""
    found = conn.execute(f"SELECT {_LOG_COLUMNS} FROM requests WHERE id = ?", (request_id,)).fetchone()
    if found is None:
        return None
    request_body, response_body = bodies(conn, request_id) or (None, None)
    return {"request": _log_entry(found), "request_body": request_body, "response_body": response_body}


def bodies(conn: sqlite3.Connection, request_id: int) -> tuple[str | None, str | None] | None:
    found = conn.execute("SELECT request, response FROM bodies WHERE id = ?", (request_id,)).fetchone()
    return None if found is None else (found[0], found[1])


def request_counts(conn: sqlite3.Connection, since: float) -> tuple[int, int]:
    """(requests, failed requests) that started at or after `since`."""
    found = conn.execute(
        f"SELECT COUNT(*), COALESCE(SUM(NOT ({_OK})), 0) FROM requests WHERE time >= ?", (since,)
    ).fetchone()
    return int(found[0]), int(found[1])


def statistics(conn: sqlite3.Connection, query: StatsQuery, now: float) -> list[dict[str, Any]]:
    """Totals over the last `query.hours` hours grouped by hour, day, account or model.

    Hours and days come oldest first with the empty ones filled in (a chart needs them); accounts and
    models come by tokens used, most first.
    """
    first_hour = hour_of(now) - (query.hours - 1) * 3600
    sums = ", ".join(f"SUM({column})" for column in ("requests", "errors", *_TOKENS))
    if query.by in ("hour", "day"):
        span = _SPAN[query.by]
        found = {
            int(row[0]): row[1:]
            for row in conn.execute(
                f"SELECT (hour / {span}) * {span} AS bucket, {sums} FROM hourly WHERE hour >= ? "
                "GROUP BY bucket ORDER BY bucket",
                (first_hour,),
            )
        }
        return time_buckets(query, now, found)
    column = "account" if query.by == "account" else "model"
    rows = conn.execute(
        f"SELECT {column}, {sums} FROM hourly WHERE hour >= ? GROUP BY {column} "
        "ORDER BY SUM(input_tokens) + SUM(output_tokens) + SUM(thinking_tokens) DESC, SUM(requests) DESC, "
        f"{column}",
        (first_hour,),
    )
    return [_stats_entry(row[0], row[1:]) for row in rows]


def time_buckets(query: StatsQuery, now: float, found: Mapping[int, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every hour (or day) of the window, oldest first, zeros where nothing was found."""
    span = _SPAN.get(query.by)
    if span is None:
        return []
    first_hour = hour_of(now) - (query.hours - 1) * 3600
    start = first_hour // span * span
    return [_stats_entry(iso(bucket), found.get(bucket)) for bucket in range(start, hour_of(now) + 1, span)]


def _stats_entry(key: str | None, sums: Sequence[Any] | None) -> dict[str, Any]:
    values = [int(value or 0) for value in sums] if sums is not None else [0] * 6
    return {
        "key": key,
        "requests": values[0],
        "errors": values[1],
        "input_tokens": values[2],
        "output_tokens": values[3],
        "cached_tokens": values[4],
        "thinking_tokens": values[5],
    }
