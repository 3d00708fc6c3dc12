"""The loopback end of Google sign-in: a one-shot HTTP server that receives the browser's redirect.

    async with LoginSession.open(oauth_settings) as login:
        show(login.url)                  # the system browser opens it; print it too
        code = await login.wait(300)     # LoginFailed: denied, wrong state, timeout, cancel()
        ...exchange the code...
        login.finish(True, "alice@example.com was added")   # the browser tab shows this

The server listens on 127.0.0.1 and, when possible, the same port on ::1, so `localhost` works
whichever address the browser picks. Sign-in must happen in the system browser: Google refuses
embedded web views.
"""

from __future__ import annotations

import asyncio
import html
import socket
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.web_request import BaseRequest

from trayagent.accounts.oauth import CALLBACK_PATH, Pkce, authorization_url, code_from_callback, new_state
from trayagent.config import OAuthSettings
from trayagent.errors import LoginFailed

LOGIN_TIMEOUT_S = 300.0
_FINISH_WAIT_S = 60.0  # how long the browser tab waits to learn whether the account was added


@dataclass
class LoginSession:
    url: str
    redirect_uri: str
    pkce: Pkce
    state: str
    _code: asyncio.Future[str] = field(repr=False)
    _finished: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _outcome: tuple[bool, str] = (False, "")

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: OAuthSettings) -> AsyncIterator[LoginSession]:
        sockets = _bind_loopback()
        port = sockets[0].getsockname()[1]
        host = "localhost" if len(sockets) == 2 else "127.0.0.1"
        redirect_uri = f"http://{host}:{port}{CALLBACK_PATH}"
        pkce, state = Pkce.generate(), new_state()
        loop = asyncio.get_running_loop()
        session = cls(
            url=authorization_url(settings, redirect_uri, state, pkce),
            redirect_uri=redirect_uri,
            pkce=pkce,
            state=state,
            _code=loop.create_future(),
        )
        server = web.Server(session._handle, access_log=None)
        listeners = [await loop.create_server(server, sock=s) for s in sockets]
        try:
            yield session
        finally:
            session.cancel()
            session._finished.set()
            for listener in listeners:
                listener.close()
            with suppress(Exception):
                await server.shutdown(1.0)

    async def wait(self, timeout: float = LOGIN_TIMEOUT_S) -> str:
        """The authorization code, once the browser comes back. LoginFailed otherwise."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._code), timeout)
        except TimeoutError:
            minutes = f"{timeout / 60:g} minutes" if timeout >= 60 else f"{timeout:g} seconds"
            raise LoginFailed(
                f"no answer from the browser within {minutes}; run `trayagent accounts login` again"
            ) from None
        except asyncio.CancelledError:
            if self._code.cancelled():
                raise LoginFailed("sign-in cancelled") from None
            raise

    def cancel(self) -> None:
        if not self._code.done():
            self._code.cancel()

    def finish(self, ok: bool, message: str) -> None:
        """Tell the waiting browser tab how it ended."""
        self._outcome = (ok, message)
        self._finished.set()

    async def _handle(self, request: BaseRequest) -> web.StreamResponse:
        if request.path != CALLBACK_PATH or request.method != "GET":
            return web.Response(status=404, text="not found")
        if self._code.done():
            return _page(False, "This sign-in link was already used. Start again from trayagent.")
        try:
            code = code_from_callback(dict(request.query), self.state)
        except LoginFailed as exc:
            self._code.set_exception(exc)
            return _page(False, str(exc))
        self._code.set_result(code)
        with suppress(TimeoutError):
            await asyncio.wait_for(self._finished.wait(), _FINISH_WAIT_S)
        ok, message = self._outcome
        if not self._finished.is_set() or not message:
            return _page(True, "Signed in. trayagent is finishing adding the account; you can close this tab.")
        return _page(ok, message)


def callback_port(consent_url: str) -> int | None:
    """The loopback port a consent link sends the browser back to (its `redirect_uri`)."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(consent_url).query)
    redirect = (query.get("redirect_uri") or [""])[0]
    try:
        return urllib.parse.urlsplit(redirect).port
    except ValueError:
        return None


def ssh_tunnel(port: int, host: str | None = None) -> str:
    """The command that lets a browser on another computer finish the sign-in: Google sends it to
    localhost:<port>, which the tunnel carries to this machine's loopback."""
    return f"ssh -L {port}:127.0.0.1:{port} {host or socket.gethostname()}"


def elsewhere_help(port: int | None, host: str | None = None) -> list[str]:
    """What works when the browser is not on this machine (lines for a terminal)."""
    where = f"http://localhost:{port}" if port else "a localhost address"
    lines = [f"Google sends the browser back to {where} on this machine, so finish in a browser here, or:"]
    if port:
        lines.append(f"  - on the computer with the browser, first run: {ssh_tunnel(port, host)}")
        lines.append("    then open the link there (keep the ssh session open until the sign-in ends);")
    lines.append("  - or add the account where a browser works, then `trayagent accounts export` there and")
    lines.append("    `trayagent accounts import FILE` here (or `trayagent accounts add --refresh-token -`).")
    return lines


def _bind_loopback() -> list[socket.socket]:
    first = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    first.bind(("127.0.0.1", 0))
    first.listen(8)
    first.setblocking(False)
    sockets = [first]
    if socket.has_ipv6:
        second = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            second.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            second.bind(("::1", first.getsockname()[1]))
            second.listen(8)
            second.setblocking(False)
            sockets.append(second)
        except OSError:
            second.close()  # no IPv6 loopback here: the redirect names 127.0.0.1 instead of localhost
    return sockets


def _page(ok: bool, message: str) -> web.Response:
    title = "You are signed in" if ok else "Sign-in did not work"
    colour = "#1a7f37" if ok else "#b42318"
    hint = "You can close this tab." if ok else "Nothing was changed. You can close this tab."
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trayagent · {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body {{ font: 16px/1.5 system-ui, sans-serif; background: #f6f7f9; color: #1f2328; margin: 0;
        display: flex; min-height: 100vh; align-items: center; justify-content: center; }}
 main {{ background: #fff; border-radius: 12px; padding: 2rem 2.5rem; max-width: 32rem;
        box-shadow: 0 2px 12px rgba(0,0,0,.08); }}
 h1 {{ font-size: 1.3rem; margin: 0 0 .5rem; color: {colour}; }}
 p {{ margin: .25rem 0; }} .hint {{ color: #59636e; font-size: .9rem; margin-top: 1rem; }}
</style></head>
<body><main><h1>{title}</h1><p>{html.escape(message)}</p>
<p class="hint">{hint}</p></main></body></html>
"""
    return web.Response(status=200 if ok else 400, text=body, content_type="text/html")
