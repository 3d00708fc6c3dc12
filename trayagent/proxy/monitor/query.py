"""What `/api/logs` and `/api/stats` may ask the request monitor, checked before any query runs. Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from trayagent.errors import BadRequest

MAX_LOG_LIMIT = 500
DEFAULT_LOG_LIMIT = 50
MAX_STATS_HOURS = 24 * 366
StatsBy = Literal["hour", "day", "account", "model"]
_STATS_BY: tuple[StatsBy, ...] = ("hour", "day", "account", "model")
MODEL_FILTER_CAP = 200
MAX_REQUEST_ID = 2**63 - 1  # SQLite's largest INTEGER; a larger one cannot even be looked up

# `request.args.get`: the first value of a query parameter, or None.
ArgGetter = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class LogFilter:
    limit: int = DEFAULT_LOG_LIMIT
    status: Literal["ok", "error"] | int | None = None  # an int: exactly that HTTP status
    model: str | None = None  # a substring of the client's or the upstream model name, any case


@dataclass(frozen=True, slots=True)
class StatsQuery:
    by: StatsBy = "hour"
    hours: int = 24  # how far back, from now


def parse_log_filter(arg: ArgGetter) -> LogFilter:
    limit = _integer(arg("limit"), "limit", 1, None, DEFAULT_LOG_LIMIT)  # above the cap: the cap
    status_text = (arg("status") or "").strip().lower()
    status: Literal["ok", "error"] | int | None
    if not status_text:
        status = None
    elif status_text in ("ok", "error"):
        status = "ok" if status_text == "ok" else "error"
    elif _digits(status_text) and len(status_text) <= 12 and 100 <= int(status_text) <= 599:
        status = int(status_text)
    else:
        raise BadRequest(f"status must be ok, error or an HTTP status code 100-599, got {status_text!r}")
    model = (arg("model") or "").strip() or None
    if model is not None and len(model) > MODEL_FILTER_CAP:
        raise BadRequest(f"model must be at most {MODEL_FILTER_CAP} characters")
    return LogFilter(min(limit, MAX_LOG_LIMIT), status, model)


def parse_stats_query(arg: ArgGetter) -> StatsQuery:
    by_text = (arg("by") or "hour").strip().lower()
    if by_text not in _STATS_BY:
        raise BadRequest(f"by must be one of {', '.join(_STATS_BY)}, got {by_text!r}")
    by = next(choice for choice in _STATS_BY if choice == by_text)
    return StatsQuery(by, _integer(arg("hours"), "hours", 1, MAX_STATS_HOURS, 24))


def parse_request_id(text: str) -> int:
    """The id in `/api/logs/<id>`: a whole number SQLite can hold (a larger one cannot even be looked up)."""
    return _whole_number(text.strip(), "the request id", 1, MAX_REQUEST_ID)


def _integer(text: str | None, name: str, low: int, high: int | None, default: int) -> int:
    if text is None or not text.strip():
        return default
    return _whole_number(text.strip(), name, low, high)


def _whole_number(value: str, name: str, low: int, high: int | None) -> int:
    wanted = f"a whole number from {low} to {high}" if high is not None else f"a whole number of at least {low}"
    # ASCII 0-9 only: str.isdigit() also says yes to '²' (which int() refuses) and '٣' (which it reads).
    if not _digits(value):
        raise BadRequest(f"{name} must be {wanted}, got {value[:40]!r}")
    number = int(value) if len(value) <= 20 else 10**20  # any longer is past every bound; int() of it is costly
    if number < low or (high is not None and number > high):
        raise BadRequest(f"{name} must be {wanted}, got {value[:40]}")
    return number


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
