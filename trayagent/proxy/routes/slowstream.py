"""TEST-ONLY route: `GET /api/test/slow-stream?chunks=N&delay=S` streams N numbered lines, one every S seconds.

Registered only when the proxy process starts with TRAYAGENT_TEST_ROUTES=1 (the test suite sets it), so
tests can hold a real streaming request open across a stop, restart or rebind. Never on by default; it
sits under /api/, so it is admin-class and needs the API key whenever the status API does.
"""

from __future__ import annotations

import asyncio

from sanic.response import HTTPResponse

from trayagent.errors import BadRequest
from trayagent.proxy.context import ProxyApp, ProxyRequest

ENV_FLAG = "TRAYAGENT_TEST_ROUTES"


def _number(request: ProxyRequest, name: str, default: float, limit: float) -> float:
    raw = request.args.get(name)
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        raise BadRequest(f"{name} must be a number") from None
    if not 0 <= value <= limit:
        raise BadRequest(f"{name} must be between 0 and {limit:g}")
    return value


async def slow_stream(request: ProxyRequest) -> HTTPResponse | None:
    chunks = int(_number(request, "chunks", 10, 1000))
    delay = _number(request, "delay", 0.2, 60)
    response = await request.respond(content_type="text/plain")
    for i in range(chunks):
        await response.send(f"chunk {i + 1}/{chunks}\n")
        if i + 1 < chunks:
            await asyncio.sleep(delay)
    await response.eof()
    return None


def register(app: ProxyApp) -> None:
    app.add_route(slow_stream, "/api/test/slow-stream", methods=["GET"], name="test_slow_stream")
