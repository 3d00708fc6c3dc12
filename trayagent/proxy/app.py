"""The Sanic application factory: access control, CORS, error rendering and routes around a ProxyContext."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import MethodNotAllowed as SanicMethodNotAllowed
from sanic.exceptions import NotFound as SanicNotFound
from sanic.exceptions import PayloadTooLarge as SanicPayloadTooLarge
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.response import BaseHTTPResponse, HTTPResponse

from trayagent.errors import (
    BadRequest,
    InternalError,
    MethodNotAllowed,
    PayloadTooLarge,
    ProxyError,
    RouteNotFound,
)
from trayagent.logsetup import LogOnce
from trayagent.proxy import auth, crossorigin, httpedge, routetable
from trayagent.proxy.backend import close_backend, open_backend
from trayagent.proxy.context import ProxyApp, ProxyContext, ProxyRequest
from trayagent.proxy.crossorigin import Policy
from trayagent.proxy.logins import Logins
from trayagent.proxy.metrics import Metrics
from trayagent.proxy.monitor.writer import FILE_NAME as MONITOR_FILE
from trayagent.proxy.monitor.writer import Monitor
from trayagent.proxy.replies import json_reply
from trayagent.proxy.routes import accounts, admin, gemini, health, openai, slowstream, ui
from trayagent.proxy.routetable import AI_ROUTES, AiRoute
from trayagent.proxy.surface import PathClass, base_url_hint, classify_path, protocol_for_path
from trayagent.proxy.uisession import COOKIE
from trayagent.translate.error_shapes import render_error
from trayagent.translate.hub import ClientProtocol

log = logging.getLogger(__name__)


def create_app(
    ctx: ProxyContext,
    name: str | None = None,
    *,
    test_routes: bool = False,
    ai_routes: Iterable[AiRoute] = AI_ROUTES,
) -> ProxyApp:
    """`test_routes` adds the test-only slow stream (see proxy/routes/slowstream.py); never on by default.
    `ai_routes` is the AI route table (tests plug a test-only front end in through it)."""
    app: ProxyApp = Sanic(
        name or f"trayagent_{id(ctx):x}", ctx=ctx, configure_logging=False, request_class=httpedge.EdgeRequest
    )
    proxy = ctx.runtime.config.proxy
    # Backstop for routes that let Sanic buffer the body; AI routes enforce the live limit themselves.
    app.config.REQUEST_MAX_SIZE = proxy.max_body_bytes
    # A generation may legitimately stream for as long as the upstream timeout allows.
    app.config.RESPONSE_TIMEOUT = int(proxy.request_timeout) + 30
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 10
    app.config.NOISY_EXCEPTIONS = False
    app.error_handler = _ProtocolErrorHandler()
    app.register_middleware(_guard, "request")
    app.register_middleware(_add_cors_headers, "response")
    for routes in (health, admin, accounts, ui, openai, gemini):
        routes.register(app)
    routetable.register(app, ai_routes)
    if test_routes:
        slowstream.register(app)
    ctx.metrics = Metrics(ctx)
    ctx.logins = Logins()
    if ctx.data_dir is not None:
        data_dir = ctx.data_dir
        ctx.monitor = Monitor(data_dir / MONITOR_FILE, lambda: ctx.runtime.config.monitor)
        app.register_listener(_open_accounts, "before_server_start")
        app.register_listener(_close_accounts, "after_server_stop")
    app.register_listener(_start_observers, "before_server_start")
    # Shutdown listeners run in reverse: this one goes first, while the accounts are still open.
    app.register_listener(_stop_observers, "after_server_stop")
    return app


async def _start_observers(app: ProxyApp) -> None:
    """The request monitor and the metrics start seeing exchanges (the monitor's file opens off the loop)."""
    ctx = app.ctx
    if ctx.monitor is not None:
        await asyncio.to_thread(ctx.monitor.start)
        ctx.observers.append(ctx.monitor.record)
    if ctx.metrics is not None:
        ctx.observers.append(ctx.metrics.observe)


async def _stop_observers(app: ProxyApp) -> None:
    """Cancel a sign-in still waiting, write what the monitor has queued and close its file."""
    ctx = app.ctx
    if ctx.logins is not None:
        await ctx.logins.close()
    if ctx.monitor is not None:
        monitor = ctx.monitor
        ctx.observers[:] = [observe for observe in ctx.observers if observe != monitor.record]
        await asyncio.to_thread(monitor.close)


async def _open_accounts(app: ProxyApp) -> None:
    ctx = app.ctx
    assert ctx.data_dir is not None
    ctx.backend = await open_backend(ctx, ctx.runtime.config, ctx.data_dir)


async def _close_accounts(app: ProxyApp) -> None:
    backend, app.ctx.backend = app.ctx.backend, None
    if backend is not None:
        await close_backend(backend, drain_timeout=0)


async def _guard(request: ProxyRequest) -> HTTPResponse | None:
    ctx = request.app.ctx
    runtime = ctx.runtime
    proxy = runtime.config.proxy
    if httpedge.unparsed(request):
        return None  # the HTTP layer could not read it: its own error is the answer (httpedge.edge_error)
    path = request.path
    if request.method == "OPTIONS":
        return _preflight(request)
    auth.check_host(request.headers.getall("host", []), proxy.allow_lan_access)
    path_class = classify_path(path)
    key_needed = auth.key_required(path_class, proxy.effective_auth_mode, auth.is_loopback(request.ip))
    candidates = _presented_keys(request, path)
    key_valid = _key_valid(request, candidates)
    if key_needed and not key_valid and not _ui_session(request, path_class):
        if ui.wants_page(request):
            return ui.sign_in_page(status=401)  # a browser gets a way in, not a JSON error
        auth.check_key(candidates, runtime.api_key.value, request.ip)  # raises: the key missing, wrong or unreadable
    # Admitted without the key (a cookie, or a mode that needs none): what a web page may not do through the
    # user's browser (proxy/crossorigin.py).
    signals, policy = _signals(request), _policy(request, path_class, key_needed)
    request.ctx.browser = signals, policy  # the response's CORS headers decide on the same facts
    try:
        crossorigin.check_request(signals, policy, key_valid=key_valid)
    except ProxyError as refusal:
        _log_refusal(refusal)
        raise
    return None


_REFUSALS_LOGGED = LogOnce(200)


def _log_refusal(refusal: ProxyError) -> None:
    """A web page refused by the origin rule is worth one line in the log (the user may have to trust it in
    proxy.cors_origins), once per distinct refusal: a page retrying in a loop must not flood the log."""
    if _REFUSALS_LOGGED.first(refusal.message):
        log.warning("refused a browser request (%d): %s", refusal.status_code, refusal.message)


def _ui_session(request: ProxyRequest, path_class: PathClass) -> bool:
    """The status page's cookie (never for AI routes), or the ticket exchange that sets it."""
    if path_class != "admin":
        return False
    return request.path in ui.OPEN_PATHS or request.app.ctx.ui_sessions.valid(request.cookies.get(COOKIE))


def _presented_keys(request: ProxyRequest, path: str) -> list[str]:
    # `?key=` only where the Gemini SDK puts it; elsewhere a key in a URL would leak into logs.
    query_key = request.args.get("key") if _protocol(request, path) == "gemini" else None
    return auth.presented_keys(
        request.headers.get("authorization"),
        request.headers.get("x-api-key"),
        request.headers.get("x-goog-api-key"),
        query_key,
    )


# -- browsers: the status API's origin rule and CORS (decisions in proxy/crossorigin.py) -----------------------


def _key_valid(request: ProxyRequest, candidates: list[str]) -> bool:
    return bool(candidates) and auth.key_matches(candidates, request.app.ctx.runtime.api_key.value)


def _signals(request: ProxyRequest) -> crossorigin.BrowserSignals:
    return crossorigin.BrowserSignals.of(request.method, request.path, request.headers)


def _policy(request: ProxyRequest, path_class: PathClass | None = None, key_needed: bool | None = None) -> Policy:
    proxy = request.app.ctx.runtime.config.proxy
    if path_class is None:
        path_class = classify_path(request.path)
    if key_needed is None:
        key_needed = auth.key_required(path_class, proxy.effective_auth_mode, auth.is_loopback(request.ip))
    return Policy(path_class, key_needed, proxy.cors, proxy.cors_origins, proxy.allow_lan_access)


def _preflight(request: ProxyRequest) -> HTTPResponse:
    headers = crossorigin.preflight_headers(_signals(request), _policy(request), request.headers)
    return HTTPResponse(status=204, headers=headers)


async def _add_cors_headers(request: ProxyRequest, response: BaseHTTPResponse) -> None:
    if request.method != "OPTIONS":
        # Worked out by the guard; a request it refused before that (Host, key) is judged here.
        signals, policy = getattr(request.ctx, "browser", None) or (_signals(request), _policy(request))
        response.headers.update(crossorigin.cors_headers(signals, policy))


# ---------------------------------------------------------------------------------------------------------------


class _ProtocolErrorHandler(ErrorHandler):
    """Every error leaves in the shape of the client's protocol; never a traceback, never Sanic's HTML."""

    def default(self, request: Request[Any, Any], exception: Exception) -> HTTPResponse:
        path = httpedge.client_path(request)
        error = httpedge.edge_error(request, exception) or self._as_proxy_error(request, path, exception)
        body = render_error(_protocol(request, path), error)
        return json_reply(body, error.status_code, error.headers())

    @staticmethod
    def _as_proxy_error(request: Request[Any, Any], path: str, exc: Exception) -> ProxyError:
        if isinstance(exc, ProxyError):
            return exc
        if isinstance(exc, SanicNotFound):
            base = f"http://{request.host}" if request is not None and request.host else "http://127.0.0.1:8045"
            return RouteNotFound(f"no route for {request.method} {path} on trayagent; {base_url_hint(path, base)}")
        if isinstance(exc, SanicMethodNotAllowed):
            return MethodNotAllowed(f"{request.method} is not allowed on {path}")
        if isinstance(exc, SanicPayloadTooLarge):
            return PayloadTooLarge("the request is larger than proxy.max_body_mb allows")
        if isinstance(exc, SanicException) and 400 <= exc.status_code < 500:
            error: ProxyError = BadRequest(str(exc) or "bad request")
            error.status_code = exc.status_code
            return error
        log.error("unexpected error on %s %s", getattr(request, "method", "?"), path, exc_info=exc)
        return InternalError("trayagent hit an internal error; the details are in its log")


def _protocol(request: Request[Any, Any] | None, path: str) -> ClientProtocol:
    """The protocol the matched route declares; a guess from the path only where no route matched."""
    route = getattr(request, "route", None) if request is not None else None
    declared: ClientProtocol | None = getattr(route.ctx, "protocol", None) if route is not None else None
    return declared or protocol_for_path(path)
