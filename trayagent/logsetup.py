"""Logging for every trayagent process: one format, one level, secrets masked on the way out.

The agent (tray or `serve`) owns the log file; its proxy child relays its records up the supervisor
pipe, so one process writes and rotates `<data>/logs/trayagent.log`.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from trayagent.redact import redact

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
FILE_FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(name)s: %(message)s"
LOG_FILE_NAME = "trayagent.log"
LOG_FILE_BYTES = 1_000_000
LOG_FILE_BACKUPS = 3
_SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets")


class LogOnce:
    """Which texts were logged already, so each distinct one reaches the log once: a client retrying in a loop
    must not flood it. Past `limit` distinct texts it stays quiet (the memory stays bounded)."""

    __slots__ = ("_limit", "_seen")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def first(self, text: str) -> bool:
        """True the first time `text` comes (and there is room to remember it), False after."""
        if text in self._seen or len(self._seen) >= self._limit:
            return False
        self._seen.add(text)
        return True


class RedactingFormatter(logging.Formatter):
    """Masks tokens, keys and emails in the final text, whatever the message or traceback held."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


CLI_FORMAT = "trayagent: %(levelname)s: %(message)s"


class _CliFormatter(RedactingFormatter):
    """`trayagent: warning: …`, like the CLI's own messages: a level in capitals reads like an internal error."""

    def format(self, record: logging.LogRecord) -> str:
        quiet = logging.makeLogRecord(record.__dict__)
        quiet.levelname = record.levelname.lower()
        return super().format(quiet)


def terminal_handler(fmt: str = FORMAT) -> logging.Handler | None:
    """A stderr handler, or None where there is no stderr (pythonw on Windows)."""
    if sys.stderr is None:
        return None
    handler = logging.StreamHandler(sys.stderr)
    formatter = _CliFormatter if fmt == CLI_FORMAT else RedactingFormatter
    handler.setFormatter(formatter(fmt, datefmt="%H:%M:%S"))
    return handler


def file_handler(data_dir: Path) -> logging.Handler:
    """The rotating log file in the data directory (created 0700 by the caller)."""
    log_dir = data_dir / "logs"
    log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        log_dir / LOG_FILE_NAME, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(RedactingFormatter(FILE_FORMAT))
    return handler


def log_file_path(data_dir: Path) -> Path:
    return data_dir / "logs" / LOG_FILE_NAME


def configure_logging(
    level: str = "info", *, fmt: str = FORMAT, handlers: list[logging.Handler | None] | None = None
) -> None:
    """Route every record (Sanic's included) to `handlers` (default: stderr) at `level`."""
    chosen = [h for h in (handlers if handlers is not None else [terminal_handler(fmt)]) if h is not None]
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        if old not in chosen:
            old.close()
    for handler in chosen:
        root.addHandler(handler)
    set_level(level)
    logging.getLogger("PIL").setLevel(logging.INFO)  # Pillow's chunk-by-chunk PNG debug lines are noise
    # watchfiles says "1 change detected" at INFO on every save; the config watcher logs what the save did.
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    # Sanic installs its own handlers on its loggers; route them through ours so masking applies.
    for name in _SANIC_LOGGERS:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True


def relay_record(*, name: str, level: int, text: str, pid: int | None) -> None:
    """Log a line another process formatted (the proxy child's), under its logger name and pid."""
    record = logging.makeLogRecord({"name": name, "levelno": level, "levelname": logging.getLevelName(level)})
    record.msg, record.process = text, pid
    logging.getLogger(name).handle(record)


def set_level(level: str) -> None:
    """Change the level live (a `log_level` edit in config.yaml)."""
    logging.getLogger().setLevel(level.upper())
    for name in _SANIC_LOGGERS:
        # Sanic's worker chatter ("Starting worker …") only when debugging; trayagent logs its own start line.
        logging.getLogger(name).setLevel(logging.NOTSET if level.lower() == "debug" else logging.WARNING)
