"""Building JSON responses with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from sanic.response import HTTPResponse


def json_reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    return HTTPResponse(orjson.dumps(data), status=status, headers=headers, content_type="application/json")
