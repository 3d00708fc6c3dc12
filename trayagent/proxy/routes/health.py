"""Liveness: `/healthz` and `/health` answer as long as the server accepts requests."""

from __future__ import annotations

from sanic.response import HTTPResponse

from trayagent.proxy.context import ProxyApp, ProxyRequest
from trayagent.proxy.replies import json_reply


async def healthz(request: ProxyRequest) -> HTTPResponse:
    return json_reply({"status": "ok", "version": request.app.ctx.version})


def register(app: ProxyApp) -> None:
    app.add_route(healthz, "/healthz", methods=["GET", "HEAD"], name="healthz")
    app.add_route(healthz, "/health", methods=["GET", "HEAD"], name="health")
