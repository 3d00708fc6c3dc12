"""The request monitor on a real SQLite file: rows, hourly statistics, retention, a full queue, a damaged file.

A writer killed mid-transaction is tests/integration/test_monitor_crash.py (it needs a process to kill)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.polling import eventually
from trayagent.config import MonitorSettings
from trayagent.proxy.exchange import Exchange
from trayagent.proxy.monitor.query import LogFilter, StatsQuery
from trayagent.proxy.monitor.writer import FILE_NAME, Monitor

pytestmark = pytest.mark.timeout(60)

HOUR = 3600.0
T0 = 1_795_442_400.0  # 2026-11-23T14:00:00Z


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Settings:
    """The live `monitor.*` settings: tests flip them as a config reload would."""

    def __init__(self, **values: Any) -> None:
        self.value = MonitorSettings(**values)

    def __call__(self) -> MonitorSettings:
        return self.value


def exchange(
    at: float,
    *,
    model: str = "gemini-2.5-flash",
    account: str | None = "al***@ex***",
    status: int = 200,
    tokens: tuple[int, int, int, int] = (10, 20, 0, 0),
    error: str | None = None,
    body: bytes | None = None,
) -> Exchange:
    ex = Exchange("gemini", f"/v1beta/models/{model}:generateContent", model, stream=False, started_at=at)
    ex.upstream_model, ex.account = model, account
    inputs, outputs, cached, thinking = tokens
    ex.usage = {
        "promptTokenCount": inputs,
        "candidatesTokenCount": outputs,
        "cachedContentTokenCount": cached,
        "thoughtsTokenCount": thinking,
    }
    ex.request_body = ex.response_body = body
    ex.mark_first_byte()
    ex.close(status, error)
    return ex


@pytest.fixture
def make_monitor(tmp_path: Path) -> Iterator[Callable[..., Monitor]]:
    made: list[Monitor] = []

    def make(settings: Callable[[], MonitorSettings] | None = None, **kwargs: Any) -> Monitor:
        monitor = Monitor(tmp_path / FILE_NAME, settings or Settings(), **kwargs)
        made.append(monitor)
        return monitor

    yield make
    for monitor in made:
        monitor.close()


def test_rows_appear_after_the_exchange_is_recorded(make_monitor: Callable[..., Monitor]):
    clock = Clock(T0 + 600)
    monitor = make_monitor(now=clock, flush_s=0.05)
    monitor.start()
    assert monitor.open and monitor.logs(LogFilter()) == []

    for i in range(5):
        monitor.record(exchange(T0 + i, status=200 if i != 3 else 429, error="quota" if i == 3 else None))
    assert eventually(lambda: len(monitor.logs(LogFilter())) == 5)

    rows = monitor.logs(LogFilter())
    assert [row["time"] for row in rows] == [f"2026-11-23T14:00:0{i}Z" for i in (4, 3, 2, 1, 0)]  # newest first
    first = rows[-1]
    assert first["protocol"] == "gemini" and first["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert (first["client_model"], first["upstream_model"], first["account"]) == (
        "gemini-2.5-flash",
        "gemini-2.5-flash",
        "al***@ex***",
    )
    assert first["input_tokens"] == 10 and first["output_tokens"] == 20 and first["stream"] is False
    assert first["duration_ms"] is not None and first["ttfb_ms"] is not None
    assert [row["status"] for row in monitor.logs(LogFilter(status="error"))] == [429]
    assert len(monitor.logs(LogFilter(status="ok"))) == 4
    assert len(monitor.logs(LogFilter(status=429))) == 1 and monitor.logs(LogFilter(status=500)) == []
    assert len(monitor.logs(LogFilter(limit=2))) == 2
    assert monitor.counts(3600) == (5, 1)
    # The rows are readable once committed, a moment before the writer counts them: wait for it to be idle.
    assert monitor.drain()
    assert monitor.written == 5 and monitor.dropped == 0


def test_hourly_statistics(make_monitor: Callable[..., Monitor]):
    clock = Clock(T0 + 2 * HOUR + 60)  # 16:01
    monitor = make_monitor(now=clock, flush_s=0.05)
    monitor.start()
    batch = [
        exchange(T0 + 10, model="gemini-2.5-flash", account="aa", tokens=(100, 10, 5, 1)),
        exchange(T0 + 20, model="gemini-2.5-flash", account="aa", tokens=(100, 10, 5, 1)),
        exchange(T0 + 30, model="claude-sonnet-4-6", account="bb", tokens=(1000, 100, 0, 50)),
        exchange(T0 + HOUR * 2 + 5, model="gemini-2.5-flash", account="bb", tokens=(1, 2, 0, 0), status=503),
        exchange(T0 + HOUR * 2 + 6, model="gemini-2.5-flash", account=None, status=503, tokens=(0, 0, 0, 0)),
    ]
    for ex in batch:
        monitor.record(ex)
    assert monitor.drain()

    by_hour = monitor.stats(StatsQuery("hour", 3))
    assert [row["key"] for row in by_hour] == ["2026-11-23T14:00:00Z", "2026-11-23T15:00:00Z", "2026-11-23T16:00:00Z"]
    assert by_hour[0] == {
        "key": "2026-11-23T14:00:00Z",
        "requests": 3,
        "errors": 0,
        "input_tokens": 1200,
        "output_tokens": 120,
        "cached_tokens": 10,
        "thinking_tokens": 52,
    }
    assert by_hour[1]["requests"] == 0  # an empty hour is still there, for the chart
    assert (by_hour[2]["requests"], by_hour[2]["errors"], by_hour[2]["input_tokens"]) == (2, 2, 1)
    # The window: only the last hour.
    assert [row["requests"] for row in monitor.stats(StatsQuery("hour", 1))] == [2]

    by_model = monitor.stats(StatsQuery("model", 24))
    assert [(row["key"], row["requests"]) for row in by_model] == [("claude-sonnet-4-6", 1), ("gemini-2.5-flash", 4)]
    by_account = monitor.stats(StatsQuery("account", 24))
    assert [(row["key"], row["requests"]) for row in by_account] == [("bb", 2), ("aa", 2), ("(no account)", 1)]
    by_day = monitor.stats(StatsQuery("day", 24))  # the last 24 hours began yesterday
    assert [(row["key"], row["requests"], row["errors"]) for row in by_day] == [
        ("2026-11-22T00:00:00Z", 0, 0),
        ("2026-11-23T00:00:00Z", 5, 2),
    ]

    # The aggregates and the rows always agree (one transaction writes both).
    with closing(sqlite3.connect(monitor.path)) as conn:
        assert conn.execute("SELECT SUM(requests) FROM hourly").fetchone()[0] == 5
        assert conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 5


def test_redaction_and_body_caps(make_monitor: Callable[..., Monitor]):
    settings = Settings(log_bodies=False)
    monitor = make_monitor(settings, flush_s=0.05, body_cap=2048)
    monitor.start()
    secret_error = "Google said 401 for alice@example.com with Bearer ya29.a0SECRETtoken refresh_token=1//0gSECRET"
    body = b'{"refresh_token": "1//0gSECRET", "note": "mail bob@example.org", "pad": "' + b"p" * 10_000 + b'"}'
    monitor.record(exchange(T0, status=401, error=secret_error, body=body))
    settings.value = MonitorSettings(log_bodies=True)  # a config reload: applies to the next request
    monitor.record(exchange(T0 + 1, status=401, error=secret_error, body=body))
    assert monitor.drain()

    with closing(sqlite3.connect(monitor.path)) as conn:
        everything = "\n".join(
            str(row) for table in ("requests", "bodies", "hourly") for row in conn.execute(f"SELECT * FROM {table}")
        )
    for secret in ("alice@example.com", "SECRET", "bob@example.org", "ya29.a0"):
        assert secret not in everything
    newest, oldest = monitor.logs(LogFilter())
    assert "al***@ex***" in newest["error"] and "Bearer ya29.…" in newest["error"]
    assert monitor.bodies(oldest["id"]) is None  # bodies were off then
    found = monitor.bodies(newest["id"])
    assert found is not None
    request_body, response_body = found
    assert request_body is not None and response_body is not None
    assert "bo***@ex***" in request_body and request_body.endswith("…[truncated]")
    assert len(request_body.encode()) <= 2048 + len("…[truncated]".encode())


def test_retention_on_start_and_every_hour(make_monitor: Callable[..., Monitor]):
    clock = Clock(T0)
    settings = Settings(retention_days=2)
    first = make_monitor(settings, now=clock, flush_s=0.05)
    first.start()
    for age_days in (5, 3, 1.5, 0.5):
        first.record(exchange(T0 - age_days * 86400))
    assert first.drain()
    assert len(first.logs(LogFilter())) == 4  # pruning happened at start, before these came
    first.close()

    # A new start prunes what is past retention: the 5- and 3-day-old rows go, with their hours.
    second = make_monitor(settings, now=clock, flush_s=0.05)
    second.start()
    assert len(second.logs(LogFilter())) == 2
    assert [row["requests"] for row in second.stats(StatsQuery("day", 24 * 7)) if row["requests"]] == [1, 1]

    # An hour later on its clock, the running monitor prunes again (1.5 days + 13 h > 2 days).
    clock.now += 13 * HOUR
    second.record(exchange(clock.now))
    second.drain()
    assert eventually(lambda: len(second.logs(LogFilter())) == 2 and second.counts(HOUR)[0] == 1)
    ages = sorted(round((clock.now - _epoch(row["time"])) / 86400, 2) for row in second.logs(LogFilter()))
    assert ages == [0.0, round((0.5 * 86400 + 13 * HOUR) / 86400, 2)]


def _epoch(text: str) -> float:
    from trayagent.accounts.record import parse_time

    value = parse_time(text)
    assert value is not None
    return value


def test_a_full_queue_drops_the_oldest_and_counts(make_monitor: Callable[..., Monitor]):
    # The writer only wakes every minute and batches are bigger than the queue: nothing is written meanwhile.
    monitor = make_monitor(capacity=10, flush_s=60, batch_rows=100)
    monitor.start()
    for i in range(25):
        monitor.record(exchange(T0 + i))
    assert monitor.dropped == 15
    assert monitor.drain()
    rows = monitor.logs(LogFilter())
    assert len(rows) == 10 and monitor.written == 10
    assert rows[-1]["time"] == "2026-11-23T14:00:15Z"  # the oldest went


def test_a_disabled_monitor_opens_nothing_until_enabled(make_monitor: Callable[..., Monitor], tmp_path: Path):
    settings = Settings(enabled=False)
    monitor = make_monitor(settings, flush_s=0.05)
    monitor.start()
    monitor.record(exchange(T0))
    assert not (tmp_path / FILE_NAME).exists() and not monitor.open
    assert monitor.logs(LogFilter()) == [] and monitor.counts(HOUR) == (0, 0)
    assert len(monitor.stats(StatsQuery("hour", 3))) == 3  # zero hours, still

    settings.value = MonitorSettings(enabled=True)  # turned on in a running proxy: the next request opens it
    monitor.record(exchange(T0 + 1))
    assert eventually(lambda: monitor.open and len(monitor.logs(LogFilter())) == 1)


def test_an_unreadable_file_is_moved_aside(make_monitor: Callable[..., Monitor], tmp_path: Path):
    (tmp_path / FILE_NAME).write_bytes(b"this is not a database" * 100)
    monitor = make_monitor(flush_s=0.05)
    monitor.start()
    assert monitor.open
    monitor.record(exchange(T0))
    assert monitor.drain() and len(monitor.logs(LogFilter())) == 1
    assert [p.name for p in tmp_path.glob(f"{FILE_NAME}.broken-*")]
