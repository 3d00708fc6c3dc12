"""Reading Google's error replies: `{"error": {"code", "message", "status", "details": [...]}}`.

Pure. OAuth endpoints answer `{"error": "invalid_grant", "error_description": "..."}` instead; both
shapes, and bodies that are not JSON at all (a proxy's HTML page), become one GoogleError.
"""

from __future__ import annotations

from typing import Any

import orjson

from trayagent.errors import GoogleError
from trayagent.redact import redact

_MAX_MESSAGE = 300


def parse_error_body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def google_error(status: int, raw: bytes, what: str) -> GoogleError:
    """The error for an HTTP `status` reply with body `raw` to the call described by `what`."""
    body = parse_error_body(raw)
    error = body.get("error") if isinstance(body, dict) else None
    reason: str | None = None
    validation_url: str | None = None
    if isinstance(error, dict):
        message = str(error.get("message") or error.get("status") or "")
        for detail in error.get("details") or []:
            if not isinstance(detail, dict):
                continue
            if detail.get("reason") and reason is None:
                reason = str(detail["reason"])
            metadata = detail.get("metadata")
            if isinstance(metadata, dict):
                url = metadata.get("validation_url") or metadata.get("validationUrl")
                if isinstance(url, str) and url.startswith("https://"):
                    validation_url = url
    elif isinstance(error, str):  # OAuth token endpoint shape
        reason = error
        description = body.get("error_description") if isinstance(body, dict) else None
        message = f"{error}: {description}" if isinstance(description, str) and description else error
    else:
        message = raw.decode("utf-8", "replace").strip()
    message = _short(redact(message)) or f"HTTP {status}"
    return GoogleError(
        f"{what} failed: {message} (HTTP {status})",
        status=status,
        reason=reason,
        validation_url=validation_url,
        body=body,
    )


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
