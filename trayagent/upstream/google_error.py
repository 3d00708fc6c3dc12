"""Google's error replies as GoogleError, for the accounts layer (the details are read by `error_body`).

Pure. OAuth endpoints answer `{"error": "invalid_grant", "error_description": "..."}` instead; both
shapes, and bodies that are not JSON at all (a proxy's HTML page), become one GoogleError.
"""

from __future__ import annotations

from typing import Any

import orjson

from trayagent.errors import GoogleError
from trayagent.redact import redact
from trayagent.upstream.error_body import parse_error_body

_MAX_MESSAGE = 300


def google_error(status: int, raw: bytes, what: str) -> GoogleError:
    """The error for an HTTP `status` reply with body `raw` to the call described by `what`."""
    body = _json(raw)
    validation_url: str | None = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):  # OAuth token endpoint shape
        reason: str | None = body["error"]
        description = body.get("error_description")
        message = f"{reason}: {description}" if isinstance(description, str) and description else str(reason)
    else:
        parsed = parse_error_body(raw)
        reason = parsed.reason or None
        message = parsed.message or parsed.status or parsed.text
        url = parsed.validation_url
        validation_url = url if url and url.startswith("https://") else None
    message = _short(redact(message)) or f"HTTP {status}"
    return GoogleError(
        f"{what} failed: {message} (HTTP {status})",
        status=status,
        reason=reason,
        validation_url=validation_url,
        body=body,
    )


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def json_reply(status: int, raw: bytes, what: str) -> dict[str, Any]:
    """The JSON object of a reply to the call described by `what`; GoogleError for an error or a non-object."""
    if status != 200:
        raise google_error(status, raw, what)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise GoogleError(f"{what}: the reply is not JSON", status=status) from None
    if not isinstance(data, dict):
        raise GoogleError(f"{what}: unexpected reply (not a JSON object)", status=status)
    return data
