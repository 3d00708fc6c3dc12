"""Masking of secrets and emails in text that may reach a log, a terminal or the request monitor."""

from __future__ import annotations

import functools
import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Proxy keys: keep a recognisable prefix and tail.
    (re.compile(r"\bsk-([A-Za-z0-9_-]{2})[A-Za-z0-9_-]{4,}([A-Za-z0-9_-]{4})\b"), r"sk-\1…\2"),
    # Google access tokens (ya29.…) and refresh tokens (1//…).
    (re.compile(r"\bya29\.[A-Za-z0-9_.-]+"), "ya29.…"),
    (re.compile(r"(?<![A-Za-z0-9])1//[A-Za-z0-9_.-]+"), "1//…"),
    # Any bearer credential.
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9_.~+/=-]{8,}"), r"\1 …"),
    # "token": "…", refresh_token=…, client_secret: … in JSON, forms or YAML.
    (
        re.compile(
            r"(?i)((?:access_token|refresh_token|id_token|client_secret|api_key|password|secret)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
        ),
        r"\1…",
    ),
    # Emails: first two characters of each side.
    (
        re.compile(r"\b([A-Za-z0-9._%+-]{1,2})[A-Za-z0-9._%+-]*@([A-Za-z0-9-]{1,2})[A-Za-z0-9.-]*\.[A-Za-z]{2,}\b"),
        r"\1***@\2***",
    ),
)


# Short texts (an account's email masked for every proxied request, short log lines) repeat: remember
# their masked form. Bounded in count and length, so at most ~128 KiB whatever the traffic.
_MEMO_MAX_LENGTH = 256


def redact(text: str) -> str:
    if len(text) <= _MEMO_MAX_LENGTH:
        return _redact_short(text)
    return _redact(text)


@functools.lru_cache(maxsize=512)
def _redact_short(text: str) -> str:
    return _redact(text)


def _redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
