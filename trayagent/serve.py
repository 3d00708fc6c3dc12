"""`trayagent serve`: bind the listening socket, build the app, run it single-process until a signal."""

from __future__ import annotations

import errno
import logging
import os
import socket

from trayagent.errors import PortInUse, ServeError
from trayagent.proxy.app import create_app
from trayagent.proxy.context import ProxyApp, ProxyContext

log = logging.getLogger("trayagent")


def bind_listener(host: str, port: int) -> socket.socket:
    """Bind before Sanic starts, so a busy port is one clear error instead of a traceback."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if os.name == "nt":
            # On Windows SO_REUSEADDR would let us steal a port another program listens on.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined]
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            raise PortInUse(host, port) from None
        if exc.errno == errno.EACCES:
            raise ServeError(f"not allowed to listen on {host}:{port} (ports below 1024 need privileges)") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def describe_auth(ctx: ProxyContext) -> str:
    proxy = ctx.config.proxy
    if proxy.auth_mode == "auto":
        lan = "on" if proxy.allow_lan_access else "off"
        return f"{proxy.effective_auth_mode} (auto, LAN access {lan})"
    return proxy.effective_auth_mode


def run_proxy(ctx: ProxyContext) -> None:
    """Serve until SIGINT/SIGTERM. Raises ServeError when the address cannot be bound."""
    proxy = ctx.config.proxy
    sock = bind_listener(proxy.bind_host, proxy.port)
    app = create_app(ctx, name="trayagent")

    @app.after_server_start
    async def announce(app: ProxyApp) -> None:
        log.info(
            "trayagent %s listening on %s · auth %s · API key in %s · config %s",
            ctx.version,
            ctx.address(),
            describe_auth(ctx),
            ctx.api_key.source,
            ctx.config.source or "(defaults)",
        )
        if proxy.allow_lan_access and proxy.effective_auth_mode == "off":
            log.warning("LAN access is on and auth_mode is off: anyone on your network can use your accounts")
        for warning in ctx.config.warnings:
            log.warning("config: %s", warning)

    @app.after_server_stop
    async def farewell(app: ProxyApp) -> None:
        log.info("trayagent stopped; %s is free", ctx.address())

    app.run(sock=sock, single_process=True, access_log=False, motd=False, debug=False, auto_reload=False)
