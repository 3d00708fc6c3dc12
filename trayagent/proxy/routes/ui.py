"""The status page: static files shipped in `trayagent/ui/`, the ticket → cookie sign-in, and the key.

`/ui/` needs the key like the rest of the admin surface; a browser proves it with the session cookie
(see proxy/uisession.py). Without one, page requests get a small sign-in page instead of a JSON 401.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from trayagent.errors import RouteNotFound
from trayagent.proxy.context import ProxyApp, ProxyRequest
from trayagent.proxy.replies import json_reply
from trayagent.proxy.uisession import COOKIE, SESSION_TTL_S, TICKET_TTL_S

LOGIN_PATH = "/ui/login"
# What the sign-in page itself needs; shipped files with no data in them. The rest of /ui/ needs a session.
OPEN_PATHS = frozenset({LOGIN_PATH, "/ui/app.css", "/ui/signin.js"})
_FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*\.(html|css|js|svg|png)$")
_TYPES = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
}
# The page and its files come from this proxy only; no CDN, no inline script.
_SECURITY = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def wants_page(request: Request[Any, Any]) -> bool:
    """A browser navigating to the page (not a script calling the API)."""
    return request.method == "GET" and request.path in ("/ui", "/ui/", "/ui/index.html")


def sign_in_page(status: int = 200, problem: str | None = None) -> HTTPResponse:
    body = _read("signin.html").replace("{{problem}}", _escape(problem or ""))
    return HTTPResponse(body, status=status, headers=dict(_SECURITY), content_type=_TYPES["html"])


async def index(request: ProxyRequest) -> HTTPResponse:
    return _file("index.html")


async def asset(request: ProxyRequest, name: str) -> HTTPResponse:
    if not _FILE_NAME.match(name):
        raise RouteNotFound(f"no file {name!r} in the status page")
    return _file(name)


async def login(request: ProxyRequest) -> HTTPResponse:
    """Trade a one-time ticket for the session cookie, then go to the page (or `next` within it)."""
    session = request.app.ctx.ui_sessions.redeem(request.args.get("ticket") or "")
    if session is None:
        return sign_in_page(401, "That sign-in link has expired or was already used; paste the API key instead.")
    target = request.args.get("next") or "/ui/"
    if not target.startswith("/ui/") or target.startswith("//") or "\\" in target:
        target = "/ui/"
    cookie = f"{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={int(SESSION_TTL_S)}"
    headers = {"Location": target, "Set-Cookie": cookie, "Cache-Control": "no-store"}
    return HTTPResponse("", status=303, headers=headers, content_type="text/plain; charset=utf-8")


async def new_ticket(request: ProxyRequest) -> HTTPResponse:
    """A one-time ticket for `/ui/login` (the caller already proved the key, or holds a session)."""
    return json_reply({"ticket": request.app.ctx.ui_sessions.ticket(), "expires_in": int(TICKET_TTL_S)})


async def logout(request: ProxyRequest) -> HTTPResponse:
    request.app.ctx.ui_sessions.end(request.cookies.get(COOKIE))
    expired = f"{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    return json_reply({"signed_out": True}, headers={"Set-Cookie": expired})


async def api_key(request: ProxyRequest) -> HTTPResponse:
    """The key itself, for the page's copy button (asked for only on click)."""
    return json_reply({"api_key": request.app.ctx.runtime.api_key.value}, headers={"Cache-Control": "no-store"})


def _file(name: str) -> HTTPResponse:
    try:
        data = _read_bytes(name)
    except FileNotFoundError:
        raise RouteNotFound(f"no file {name!r} in the status page") from None
    return HTTPResponse(data, headers=dict(_SECURITY), content_type=_TYPES[name.rsplit(".", 1)[1]])


@functools.cache
def _read_bytes(name: str) -> bytes:
    """A shipped file, read once (never on the event loop per request); names are checked before they get here."""
    return resources.files("trayagent.ui").joinpath(name).read_bytes()


def _read(name: str) -> str:
    return _read_bytes(name).decode("utf-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def register(app: ProxyApp) -> None:
    app.add_route(index, "/ui/", methods=["GET"], name="ui_index")  # also answers /ui (Sanic: slashes loose)
    app.add_route(login, LOGIN_PATH, methods=["GET"], name="ui_login")
    app.add_route(asset, "/ui/<name:str>", methods=["GET"], name="ui_asset")
    app.add_route(new_ticket, "/api/ui-session", methods=["POST"], name="ui_ticket")
    app.add_route(logout, "/api/ui-logout", methods=["POST"], name="ui_logout")
    app.add_route(api_key, "/api/key", methods=["GET"], name="api_key")
