"""The status API the CLI, tray and status page use: `/api/status` and `/api/key/reload`."""

from __future__ import annotations

import asyncio
import time

from sanic.response import HTTPResponse

from trayagent.proxy.context import ProxyApp, ProxyContext, ProxyRequest
from trayagent.proxy.replies import json_reply


async def status(request: ProxyRequest) -> HTTPResponse:
    ctx = request.app.ctx
    proxy = ctx.config.proxy
    return json_reply(
        {
            "state": "running",
            "version": ctx.version,
            "address": ctx.address(),
            "port": proxy.port,
            "allow_lan_access": proxy.allow_lan_access,
            "auth_mode": proxy.auth_mode,
            "effective_auth_mode": proxy.effective_auth_mode,
            "api_key_source": ctx.api_key.source,
            "config_path": str(ctx.config.source) if ctx.config.source else None,
            "config_error": ctx.config_error,
            "config_warnings": list(ctx.config.warnings),
            "uptime_s": round(time.time() - ctx.started_at, 1),
            "accounts": _account_counts(ctx),
        }
    )


def _account_counts(ctx: ProxyContext) -> dict[str, object]:
    registry = ctx.accounts
    if registry is None:
        return {"total": 0, "available": 0, "disabled": 0, "needs_verification": 0, "error": None}
    return {**registry.counts(), "error": registry.error}


async def reload_key(request: ProxyRequest) -> HTTPResponse:
    # Keyring calls may block (D-Bus); keep them off the event loop.
    key = await asyncio.to_thread(request.app.ctx.reload_api_key)
    return json_reply({"reloaded": True, "api_key_source": key.source})


def register(app: ProxyApp) -> None:
    app.add_route(status, "/api/status", methods=["GET"], name="api_status")
    app.add_route(reload_key, "/api/key/reload", methods=["POST"], name="api_key_reload")
