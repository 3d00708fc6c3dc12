"""The status API the CLI, tray and status page use: `/api/status`, `/api/logs`, `/api/stats`, `/metrics`,
and `/api/key/reload`. Accounts are in routes/accounts.py. Access control is the app's `_guard`."""

from __future__ import annotations

import asyncio
import time

from sanic.response import HTTPResponse

from trayagent import SERVICE_NAME
from trayagent.errors import RouteNotFound
from trayagent.proxy.context import ProxyApp, ProxyContext, ProxyRequest, Runtime
from trayagent.proxy.metrics import CONTENT_TYPE
from trayagent.proxy.monitor import db as monitordb
from trayagent.proxy.monitor.query import parse_log_filter, parse_request_id, parse_stats_query
from trayagent.proxy.replies import json_reply


async def status(request: ProxyRequest) -> HTTPResponse:
    ctx = request.app.ctx
    runtime = ctx.runtime
    config, proxy = runtime.config, runtime.config.proxy
    requests, errors = await _last_hour(ctx)
    return json_reply(
        {
            "service": SERVICE_NAME,
            "state": "running",
            "version": ctx.version,
            "address": runtime.address(),
            "port": proxy.port,
            "allow_lan_access": proxy.allow_lan_access,
            "auth_mode": proxy.auth_mode,
            "effective_auth_mode": proxy.effective_auth_mode,
            "api_key_source": runtime.api_key.source,
            "api_key_masked": runtime.api_key.masked,
            "config_path": str(config.source) if config.source else None,
            "config_error": runtime.config_error,
            "move_error": runtime.move_error,
            # config.yaml is invalid, or its new address was taken: what runs is the config from before.
            "serving_previous_config": bool(runtime.config_error or runtime.move_error),
            "secrets": ctx.secrets.location,
            "config_warnings": list(config.warnings),
            "uptime_s": round(time.time() - ctx.started_at, 1),
            "accounts": _account_counts(ctx),
            "requests": {"last_hour": requests, "errors_last_hour": errors},
            "base_urls": base_urls(runtime),
            "monitor": _monitor_state(ctx),
            "tray": None if ctx.tray_menu is None else {"menu": ctx.tray_menu},
        }
    )


def base_urls(runtime: Runtime) -> dict[str, str]:
    """What each kind of client puts in its base URL setting (on this machine)."""
    proxy = runtime.config.proxy
    host = "127.0.0.1" if proxy.bind_host in ("0.0.0.0", "::", "") else proxy.bind_host
    base = f"http://{host}:{proxy.port}"
    return {"openai": f"{base}/v1", "anthropic": base, "gemini": base}


def _account_counts(ctx: ProxyContext) -> dict[str, object]:
    registry = ctx.registry
    if registry is None:
        return {"total": 0, "available": 0, "disabled": 0, "needs_verification": 0, "error": None}
    return {**registry.counts(), "error": registry.error}


async def _last_hour(ctx: ProxyContext) -> tuple[int, int]:
    monitor = ctx.monitor
    if monitor is None or not monitor.open:
        return 0, 0
    return await asyncio.to_thread(monitor.counts, 3600.0)


def _monitor_state(ctx: ProxyContext) -> dict[str, object]:
    monitor = ctx.monitor
    return {
        "enabled": monitor is not None and monitor.enabled,
        "file": str(monitor.path) if monitor is not None and monitor.open else None,
        "error": monitor.error if monitor is not None else None,
        "dropped": monitor.dropped if monitor is not None else 0,
    }


async def logs(request: ProxyRequest) -> HTTPResponse:
    query = parse_log_filter(request.args.get)
    monitor = request.app.ctx.monitor
    rows = await asyncio.to_thread(monitor.logs, query) if monitor is not None else []
    return json_reply({"requests": rows, "monitor_enabled": monitor is not None and monitor.enabled})


async def log_entry(request: ProxyRequest, request_id: str) -> HTTPResponse:
    """One logged request with its bodies (when `monitor.log_bodies` was on for it)."""
    number = parse_request_id(request_id)
    monitor = request.app.ctx.monitor
    found = await asyncio.to_thread(monitor.entry, number) if monitor is not None else None
    if found is None:
        raise RouteNotFound(f"request {number} is not in the log (never logged, or past retention)")
    return json_reply(found)


async def stats(request: ProxyRequest) -> HTTPResponse:
    query = parse_stats_query(request.args.get)
    monitor = request.app.ctx.monitor
    if monitor is not None:
        rows = await asyncio.to_thread(monitor.stats, query)
    else:
        rows = monitordb.time_buckets(query, time.time(), {})
    return json_reply(
        {"by": query.by, "hours": query.hours, "rows": rows, "monitor_enabled": monitor is not None and monitor.enabled}
    )


async def metrics(request: ProxyRequest) -> HTTPResponse:
    registry = request.app.ctx.metrics
    body = registry.render() if registry is not None else b""
    return HTTPResponse(body, content_type=CONTENT_TYPE)


async def reload_key(request: ProxyRequest) -> HTTPResponse:
    # Keyring calls may block (D-Bus); keep them off the event loop.
    key = await asyncio.to_thread(request.app.ctx.reload_api_key)
    return json_reply({"service": SERVICE_NAME, "reloaded": True, "api_key_source": key.source})


def register(app: ProxyApp) -> None:
    app.add_route(status, "/api/status", methods=["GET"], name="api_status")
    app.add_route(logs, "/api/logs", methods=["GET"], name="api_logs")
    app.add_route(log_entry, "/api/logs/<request_id:str>", methods=["GET"], name="api_log_entry")
    app.add_route(stats, "/api/stats", methods=["GET"], name="api_stats")
    app.add_route(metrics, "/metrics", methods=["GET"], name="metrics")
    app.add_route(reload_key, "/api/key/reload", methods=["POST"], name="api_key_reload")
