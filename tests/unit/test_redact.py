"""Secrets and emails never reach logs in clear."""

from __future__ import annotations

import logging

import pytest

from trayagent.logsetup import RedactingFormatter
from trayagent.redact import redact


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ("key sk-0123456789abcdef0123456789abcdef used", "456789abcdef0123", "sk-01…cdef"),
        ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop", "Bearer …"),
        ("token ya29.a0AfH6SMBx-yz_123", "a0AfH6SMBx", "ya29.…"),
        ("refresh 1//0gAbc-DEF_ghi", "0gAbc-DEF", "1//…"),
        ('{"refresh_token": "opaque-value-1"}', "opaque-value-1", '"refresh_token": "…"'),
        ("client_secret=GOCSPX-abcdef&x=1", "GOCSPX-abcdef", "client_secret=…"),
        ("account john.doe@gmail.com failed", "john.doe@gmail.com", "jo***@gm***"),
    ],
)
def test_redact(text: str, secret: str, kept: str) -> None:
    out = redact(text)
    assert secret not in out
    assert kept in out


def test_log_records_are_redacted_including_arguments_and_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s")
    try:
        raise ValueError("bad key sk-0123456789abcdef0123456789abcdef")
    except ValueError as exc:
        record = logging.LogRecord(
            "t",
            logging.ERROR,
            __file__,
            1,
            "user %s",
            ("someone@example.org",),
            (type(exc), exc, exc.__traceback__),
        )
    out = formatter.format(record)
    assert "someone@example.org" not in out
    assert "0123456789abcdef0123456789" not in out
    assert "so***@ex***" in out and "ValueError" in out
