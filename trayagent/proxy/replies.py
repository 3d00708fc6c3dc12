"""Building responses: JSON via orjson, and errors in the protocol of the request's path."""

from __future__ import annotations

from typing import Any

import orjson
from sanic.response import HTTPResponse

from trayagent.errors import ProxyError
from trayagent.proxy.surface import protocol_for_path
from trayagent.translate.error_shapes import render_error


def json_reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    return HTTPResponse(orjson.dumps(data), status=status, headers=headers, content_type="application/json")


def error_reply(path: str, error: ProxyError) -> HTTPResponse:
    return json_reply(render_error(protocol_for_path(path), error), error.status_code, error.headers())
