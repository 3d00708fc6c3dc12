"""Logging for every trayagent process: one format, one level, secrets masked on the way out."""

from __future__ import annotations

import logging
import sys

from trayagent.redact import redact

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Masks tokens, keys and emails in the final text, whatever the message or traceback held."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


CLI_FORMAT = "trayagent: %(levelname)s: %(message)s"


def configure_logging(level: str = "info", *, fmt: str = FORMAT) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(fmt, datefmt="%H:%M:%S"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Sanic installs its own handlers on its loggers; route them through ours so masking applies.
    for name in ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True
        # Sanic's worker chatter ("Starting worker …") only when debugging; trayagent logs its own start line.
        logger.setLevel(logging.NOTSET if level.lower() == "debug" else logging.WARNING)
