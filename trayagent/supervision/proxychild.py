"""The proxy child: what runs inside the process the supervisor spawns (Sanic, single process, own socket).

It talks to its supervisor over one duplex pipe — up: ready / error / log records; down: config,
config error, stop — and dies with its parent: PR_SET_PDEATHSIG on Linux, pipe EOF and a parent-pid
check everywhere. Stops are requested through a switch the event loop awaits, so a stop that arrives
during Sanic's start-up is never lost (Sanic's own SIGTERM handler can drop one there).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from trayagent import translate
from trayagent.apikey import ApiKey, resolve_api_key
from trayagent.config import Config, parse_config_text
from trayagent.errors import PortInUse, TrayAgentError
from trayagent.logsetup import configure_logging
from trayagent.proxy.app import create_app
from trayagent.proxy.backend import close_backend, open_backend, reconfigured, registry_settings
from trayagent.proxy.context import ProxyApp, ProxyContext, Runtime
from trayagent.secrets import open_secret_store
from trayagent.supervision.childlink import ParentLink, PipeLogHandler, die_with_parent
from trayagent.supervision.collector import settle_heap
from trayagent.supervision.messages import ConfigProblem, Failed, MoveProblem, Ready, Reconfigure, Stop

log = logging.getLogger("trayagent")

SIGTERM_GRACE = 3.0  # a SIGTERM comes after the supervisor's own grace ran out (or from the OS): be quick
ORPHAN_GRACE = 5.0  # parent gone: let streams finish briefly, then leave for sure


@dataclass(frozen=True, slots=True)
class ChildLaunch:
    """Everything a proxy child needs, picklable for the spawn start method. The config travels as text."""

    config_text: str
    config_source: str | None
    data_dir: str
    host: str
    port: int
    log_level: str
    parent_pid: int
    config_error: str | None = None
    bind_wait: float = 0.0  # keep retrying a busy address this long: a predecessor is releasing it
    test_routes: bool = False
    tray_menu: bool | None = None  # None: no tray supervises it (`trayagent serve`); else whether its icon has a menu

    @property
    def address(self) -> str:
        return f"http://{self.host}:{self.port}"

    def but(self, **changes: Any) -> ChildLaunch:
        return replace(self, **changes)


def bind_listener(host: str, port: int) -> socket.socket:
    """Bind before Sanic starts, so a busy port is one clear error instead of a traceback."""
    from trayagent.errors import ServeError

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
    return sock


def bind_when_free(host: str, port: int, wait: float) -> socket.socket:
    deadline = time.monotonic() + wait
    while True:
        try:
            return bind_listener(host, port)
        except PortInUse:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def describe_auth(runtime: Runtime) -> str:
    proxy = runtime.config.proxy
    if proxy.auth_mode == "auto":
        lan = "on" if proxy.allow_lan_access else "off"
        return f"{proxy.effective_auth_mode} (auto, LAN access {lan})"
    return proxy.effective_auth_mode


class _StopSwitch:
    """One stop request, from any thread or signal, delivered to the event loop once it runs."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.grace = SIGTERM_GRACE
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> asyncio.Event:
        self._loop, self._event = loop, asyncio.Event()
        if self.requested.is_set():
            self._event.set()
        return self._event

    def request(self, grace: float) -> None:
        if not self.requested.is_set():
            self.grace = grace
        self.requested.set()
        if self._loop is not None and self._event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed: we are on the way out anyway
                self._loop.call_soon_threadsafe(self._event.set)


def child_main(conn: Connection, launch: ChildLaunch) -> None:
    """Entry point of the spawned process."""
    die_with_parent(launch.parent_pid)
    # Ctrl-C in a terminal reaches the whole process group; the supervisor decides how we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    link = ParentLink(conn)
    configure_logging(launch.log_level, handlers=[PipeLogHandler(link)])
    try:
        config = parse_config_text(launch.config_text, Path(launch.config_source) if launch.config_source else None)
        sock = bind_when_free(config.proxy.bind_host, config.proxy.port, launch.bind_wait)
        store = open_secret_store(Path(launch.data_dir))
        ctx = ProxyContext(
            Runtime(config, resolve_api_key(config, store), launch.config_error),
            secrets=store,
            data_dir=Path(launch.data_dir),  # the account registry lives in the proxy process
            tray_menu=launch.tray_menu,
        )
    except TrayAgentError as exc:
        link.send(Failed(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        conn.close()
        sys.exit(1)
    app = create_app(ctx, name="trayagent", test_routes=launch.test_routes)
    _ChildRun(app, ctx, link, launch).install()
    app.run(sock=sock, single_process=True, access_log=False, motd=False, debug=False, auto_reload=False)
    conn.close()


class _ChildRun:
    """Wires the running app to its supervisor: announce readiness, obey stop and config messages."""

    def __init__(self, app: ProxyApp, ctx: ProxyContext, link: ParentLink, launch: ChildLaunch) -> None:
        self.app, self.ctx, self.link, self.launch = app, ctx, link, launch
        self.stop = _StopSwitch()
        self.loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> None:
        self.app.after_server_start(self._started)
        self.app.after_server_stop(self._stopped)

    async def _started(self, app: ProxyApp) -> None:
        self.loop = asyncio.get_running_loop()
        event = self.stop.bind(self.loop)
        # Replace Sanic's handlers: SIGTERM becomes a request the loop honours even mid start-up.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            self.loop.add_signal_handler(signal.SIGTERM, self.stop.request, SIGTERM_GRACE)
            self.loop.remove_signal_handler(signal.SIGINT)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        app.add_task(self._stop_when_asked(event), name="trayagent-stop")
        threading.Thread(target=self._read_parent, name="supervisor-link", daemon=True).start()
        ctx, runtime = self.ctx, self.ctx.runtime
        proxy = runtime.config.proxy
        log.info(
            "trayagent %s listening on %s · auth %s · API key in %s · config %s · translators %s",
            ctx.version,
            runtime.address(),
            describe_auth(runtime),
            runtime.api_key.source,
            runtime.config.source or "(defaults)",
            translate.RUNS_AS,
        )
        if proxy.allow_lan_access and proxy.effective_auth_mode == "off":
            log.warning("LAN access is on and auth_mode is off: anyone on your network can use your accounts")
        self.link.send(Ready(os.getpid(), proxy.bind_host, proxy.port))
        settle_heap()  # what start-up loaded frozen, young collections rarer (collector.py)

    async def _stopped(self, app: ProxyApp) -> None:
        log.info("trayagent stopped; %s is free", self.ctx.runtime.address())

    async def _stop_when_asked(self, event: asyncio.Event) -> None:
        await event.wait()
        # Sanic reads this when it drains: in-flight requests get `grace` seconds to finish.
        self.app.config.GRACEFUL_SHUTDOWN_TIMEOUT = self.stop.grace
        self.app.stop(terminate=False)

    def _read_parent(self) -> None:
        for message in self.link.receive(self.launch.parent_pid):
            self._obey(message)
        self._orphaned()

    def _obey(self, message: object) -> None:
        if isinstance(message, Stop):
            self.stop.request(message.grace)
        elif isinstance(message, Reconfigure):
            source = message.config_source
            try:
                config = parse_config_text(message.config_text, Path(source) if source else None)
                key = resolve_api_key(config, self.ctx.secrets)  # may touch the keyring: not on the loop
            except TrayAgentError as exc:
                log.error("could not apply the new configuration: %s", exc)
                return
            self._on_loop(self._swap_config, config, key, message.config_error, message.log_level)
        elif isinstance(message, ConfigProblem):
            self._on_loop(self._note_config_error, message.error)
        elif isinstance(message, MoveProblem):
            self._on_loop(self._note_move_error, message.error)

    def _note_config_error(self, error: str | None) -> None:
        self.ctx.runtime = replace(self.ctx.runtime, config_error=error)

    def _note_move_error(self, error: str) -> None:
        self.ctx.runtime = replace(self.ctx.runtime, move_error=error)

    def _swap_config(self, config: Config, key: ApiKey, error: str | None, level: str) -> None:
        from trayagent.logsetup import set_level

        ctx = self.ctx
        ctx.runtime = Runtime(config, key, error)
        self.app.config.REQUEST_MAX_SIZE = config.proxy.max_body_bytes
        self.app.config.RESPONSE_TIMEOUT = int(config.proxy.request_timeout) + 30
        set_level(level)
        backend = ctx.backend
        if backend is None:
            pass
        elif registry_settings(backend.registry.config) != registry_settings(config):
            self.app.add_task(self._renew_backend(config), name="accounts-renew")
        else:
            ctx.backend = reconfigured(ctx, backend, config)
        log.debug("configuration applied in the running proxy")

    async def _renew_backend(self, config: Config) -> None:
        """The account registry copies its settings (upstream, oauth, scheduling) at start: open a new backend;
        requests already on the old one keep its connections until they finish."""
        ctx, data_dir = self.ctx, self.ctx.data_dir
        old = ctx.backend
        if old is None or data_dir is None:
            return
        ctx.backend = await open_backend(ctx, config, data_dir)
        await close_backend(old, config.proxy.request_timeout)
        log.info("account settings reloaded")

    def _on_loop(self, fn: Any, *args: Any) -> None:
        if self.loop is not None:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(fn, *args)

    def _orphaned(self) -> None:
        # The supervisor only closes its end after we exit, so EOF here means it is gone.
        self.link.broken = True
        self.stop.request(ORPHAN_GRACE)
        # If the loop cannot stop in time, leave anyway: an orphan must never hold the port.
        time.sleep(ORPHAN_GRACE + 5)
        os._exit(1)
