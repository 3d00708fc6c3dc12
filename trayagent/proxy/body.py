"""Reading request bodies: the size limit, JSON parsing and its nesting bound, with errors in the caller's protocol."""

from __future__ import annotations

from typing import Any

import orjson
from sanic import Request

from trayagent.errors import BadRequest, PayloadTooLarge
from trayagent.translate.nesting import may_nest_too_deep, nesting_message, too_deep


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than proxy.max_body_mb ({limit / 1048576:g} MB)")


async def read_body(request: Request[Any, Any], limit: int) -> bytes:
    """The whole body of a `stream=True` route, refusing more than `limit` bytes without buffering it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    stream: Any = request.stream  # sanic's Http object; typed loosely upstream
    if stream is None:
        return request.body or b""
    chunks = bytearray()
    while (chunk := await stream.read()) is not None:
        chunks += chunk
        if len(chunks) > limit:
            raise _too_large(limit)
    return bytes(chunks)


async def read_json_object(request: Request[Any, Any], limit: int) -> dict[str, Any]:
    return parse_json_object(await read_body(request, limit))


def parse_json_object(raw: bytes, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object; 400 in words otherwise. `optional`: an empty body is `{}`."""
    if not raw.strip():
        if optional:
            return {}
        raise BadRequest("the request body is empty; expected a JSON object")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit"):  # orjson's own bound (1,024 levels)
            raise BadRequest(nesting_message("the request body")) from None
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    if may_nest_too_deep(raw) and too_deep(data):
        raise BadRequest(nesting_message("the request body"))
    return data
