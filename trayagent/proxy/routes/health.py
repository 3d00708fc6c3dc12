"""Liveness: `/healthz` and `/health` answer as long as the server accepts requests, and say they are trayagent
(`service`), so a CLI that finds another program on the port never takes it for the proxy."""

from __future__ import annotations

from sanic.response import HTTPResponse

from trayagent import SERVICE_NAME
from trayagent.proxy.context import ProxyApp, ProxyRequest
from trayagent.proxy.replies import json_reply


async def healthz(request: ProxyRequest) -> HTTPResponse:
    return json_reply({"status": "ok", "service": SERVICE_NAME, "version": request.app.ctx.version})


def register(app: ProxyApp) -> None:
    app.add_route(healthz, "/healthz", methods=["GET", "HEAD"], name="healthz")
    app.add_route(healthz, "/health", methods=["GET", "HEAD"], name="health")
