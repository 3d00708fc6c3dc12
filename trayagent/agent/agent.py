"""The tray agent: composition root of the tray process — proxy service, tray icon, autostart, one instance.

The main thread belongs to pystray; every menu action hands its work to the service (which answers
with futures) or to a small worker thread, so the GUI thread never waits on a process, the keyring,
the clipboard or the network. Without a display, `trayagent` says so and runs `serve` instead.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any

from trayagent.agent import autostart as autostart_mod
from trayagent.agent.clipboard import ClipboardUnavailable, copy_text
from trayagent.agent.iconart import asset_path
from trayagent.agent.menu import ActionName, TrayState, problem_lines
from trayagent.agent.opener import OpenFailed, open_path
from trayagent.agent.tray import TrayIcon
from trayagent.agent.traybackend import choose_backend
from trayagent.apikey import CachedKey, resolve_api_key
from trayagent.errors import ConfigError, SecretError, ServeError
from trayagent.files.instancelock import InstanceLock
from trayagent.logsetup import configure_logging, file_handler, log_file_path, terminal_handler
from trayagent.paths import Paths, ensure_private_dir
from trayagent.secrets import open_secret_store
from trayagent.supervision.serve import serve_foreground, test_routes_enabled
from trayagent.supervision.service import ProxyService, ServiceState
from trayagent.supervision.watcher import ConfigEvent, read_snapshot
from trayagent.window.statuswindow import STOPPED_HINT, NotServing, StatusWindow
from trayagent.window.uilink import ADD_ACCOUNT_PATH, STATUS_PATH, ProxyEndpoint

log = logging.getLogger("trayagent.agent")

STATUS_POLL_S = 10.0  # how often the tooltip's account count is refreshed from /api/status
REVEAL_KEY_S = 120.0  # how long a key shown in the menu (no clipboard) stays there
QUIT_GRACE_S = 10.0


def display_problem(environ: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """Why no tray icon can be shown here, or None. Only X11/Wayland desktops can lack a display."""
    if platform in ("win32", "darwin"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return "no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set)"


def run_agent(paths: Paths, *, verbose: bool, config_override: Path | None = None) -> int:
    """`trayagent` with no command. Raises ServeError when another agent already runs here."""
    problem = display_problem(os.environ)
    tray_menu = True
    if problem is None:
        choose_backend(os.environ)  # before pystray reads PYSTRAY_BACKEND
        try:
            import pystray  # chooses the backend and connects to the display, or fails here

            tray_menu = bool(getattr(pystray.Icon, "HAS_MENU", True))
        except Exception as exc:
            problem = f"no tray is available ({type(exc).__name__}: {exc})"
    if problem is not None:
        print(f"trayagent: {problem}; running the proxy in the foreground instead (trayagent serve)", file=sys.stderr)
        return serve_foreground(paths, verbose=verbose)
    ensure_private_dir(paths.data_dir)
    lock = InstanceLock(paths.data_dir)
    if not lock.acquire("tray"):
        raise ServeError(f"trayagent is already running ({lock.holder()}); look for its icon in the tray")
    try:
        handlers = [file_handler(paths.data_dir), terminal_handler() if verbose else None]
        initial: ConfigEvent
        try:
            initial = read_snapshot(paths.config_file)
            level = initial.config.log_level
        except ConfigError as exc:
            initial, level = exc, "info"
        configure_logging("debug" if verbose else level, handlers=handlers)
        service = ProxyService(
            paths,
            initial,
            log_level="debug" if verbose else None,
            test_routes=test_routes_enabled(),
            tray_menu=tray_menu,
        )
        return TrayAgent(paths, service, config_override=config_override).run()
    finally:
        lock.release()


class TrayAgent:
    def __init__(self, paths: Paths, service: ProxyService, *, config_override: Path | None = None) -> None:
        self.paths = paths
        self.service = service
        self.autostart = autostart_mod.for_platform(asset_path(), log_file_path(paths.data_dir))
        self._config_override = config_override
        self._store = open_secret_store(paths.data_dir)
        self._key = CachedKey(self._store)  # the tooltip poll must not read the keyring every 10 s
        self._work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tray-task")
        self._accounts: tuple[int, int] | None = None
        self._revealed_key: str | None = None
        self._last: ServiceState = service.state
        self._quitting = threading.Event()
        self._close_lock = threading.Lock()
        self._closed = False
        self._poll_now = threading.Event()
        self.tray: TrayIcon | None = None
        self.window = StatusWindow(self._ui_endpoint, notify=self._notify)

    # -- state --------------------------------------------------------------------------------------

    def state(self) -> TrayState:
        service = self.service.state
        return TrayState(
            proxy=service.proxy,
            config_error=service.config_error,
            config_path=service.config_path,
            autostart=self.autostart.is_enabled(),
            accounts_total=self._accounts[0] if self._accounts else None,
            accounts_available=self._accounts[1] if self._accounts else None,
            revealed_key=self._revealed_key,
            has_config=service.has_config,
        )

    def _on_service(self, new: ServiceState) -> None:
        old, self._last = self._last, new
        name = new.config_path.name
        if new.config_error and new.config_error != old.config_error:
            then = "the proxy keeps the previous config" if new.has_config else "the proxy starts once it is valid"
            self._notify(f"{name} has an error; {then}.\n{new.config_error}")
        if new.proxy.state == "error" and new.proxy != old.proxy:
            where = f"\nStill serving on {new.proxy.address}." if new.move_error else ""
            self._notify(f"Proxy error: {new.proxy.reason}{where}")
        if new.proxy.serving and not old.proxy.serving or new.proxy.pid != old.proxy.pid:
            self._poll_now.set()
        if _window_view(new) != _window_view(old):
            self.window.refresh()  # an open window follows: the new proxy's page, or why none runs
        self._refresh()

    def _refresh(self) -> None:
        if self.tray is not None:
            self.tray.show(self.state())

    def _notify(self, message: str) -> None:
        if self.tray is not None:
            self.tray.notify(message)

    # -- actions (called on the GUI thread: hand off, never wait) --------------------------------------

    def actions(self) -> dict[ActionName, Callable[[], None]]:
        return {
            "open_status": lambda: self.open_window(STATUS_PATH),
            "add_account": lambda: self.open_window(ADD_ACCOUNT_PATH),
            "start": lambda: self._later(lambda: self.service.start()),
            "stop": lambda: self._later(lambda: self.service.stop()),
            "restart": lambda: self._later(lambda: self.service.restart()),
            "copy_key": lambda: self._later(self.copy_key),
            "open_config": lambda: self._later(lambda: self._open(self.paths.config_file, edit=True)),
            "open_folder": lambda: self._later(lambda: self._open(self.paths.config_file.parent, edit=False)),
            "toggle_autostart": lambda: self._later(self.toggle_autostart),
            "quit": self.quit,
        }

    def _later(self, job: Callable[[], Any]) -> None:
        if not self._quitting.is_set():
            self._work.submit(self._guarded, job)

    @staticmethod
    def _guarded(job: Callable[[], Any]) -> None:
        try:
            job()
        except Exception:
            log.exception("a tray action failed")

    def open_window(self, path: str) -> None:
        """The status window at `path`: raised if open, else started (its own worker does the waiting)."""
        if not self._quitting.is_set():
            self.window.open(path)

    def _ui_endpoint(self) -> ProxyEndpoint | NotServing:
        """The proxy answering on this machine now, and its key (read on the window's worker thread); or why none."""
        state = self.service.state
        address = state.proxy.address
        if address is None or state.proxy.state not in ("running", "error"):
            return self._not_serving()
        port = urllib.parse.urlsplit(address).port or state.config.proxy.port
        try:
            key: str | None = resolve_api_key(state.config, self._store).value
        except SecretError as exc:
            log.warning("the status window opens without signing in: %s", exc)
            key = None
        return ProxyEndpoint(port, key)

    def _not_serving(self) -> NotServing:
        """What the window says while no proxy runs: the menu's own sentences, and what to do."""
        state = self.state()
        lines = tuple(problem_lines(state))
        if not state.has_config:
            return NotServing("The proxy is not running", (*lines, f"The file: {state.config_path}"), problem=True)
        if state.proxy.state == "error":
            again = "Start it again from the tray icon (Start proxy)."
            return NotServing("The proxy is not running", (*lines, again), problem=True)
        if state.proxy.state == "starting":
            return NotServing("The proxy is starting…", lines)
        return NotServing("The proxy is stopped", (*lines, STOPPED_HINT), problem=bool(lines))

    def copy_key(self) -> None:
        try:
            key = resolve_api_key(self.service.state.config, self._store).value
        except SecretError as exc:
            self._notify(f"Cannot read the API key: {exc}")
            return
        try:
            copy_text(key)
        except ClipboardUnavailable as exc:
            log.warning("no clipboard (%s); showing the API key in the tray menu for %g s", exc, REVEAL_KEY_S)
            self._revealed_key = key
            self._refresh()
            self._notify(f"No clipboard here. Your API key:\n{key}")
            timer = threading.Timer(REVEAL_KEY_S, self._hide_key)
            timer.daemon = True
            timer.start()
            return
        log.info("API key copied to the clipboard")
        self._notify("API key copied to the clipboard")

    def _hide_key(self) -> None:
        self._revealed_key = None
        self._refresh()

    def _open(self, path: Path, *, edit: bool) -> None:
        try:
            open_path(path, edit=edit)
        except OpenFailed as exc:
            log.warning("%s", exc)
            self._notify(str(exc))

    def toggle_autostart(self) -> None:
        if self.autostart.is_enabled():
            self.autostart.disable()
            log.info("start at login disabled (%s)", self.autostart.location)
        else:
            self.autostart.enable(autostart_mod.launch_command(config_override=self._config_override))
            log.info("start at login enabled (%s)", self.autostart.location)
        self._refresh()

    def quit(self) -> None:
        """Stop the proxy (in-flight requests get a grace period), free the port, end the tray loop."""
        if not self._quitting.is_set():
            threading.Thread(target=self.close, name="tray-quit").start()

    def close(self) -> None:
        """Quit, synchronously: stop the proxy and the agent's threads, then end the tray loop. Once only."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._quitting.set()
        self._poll_now.set()  # wakes the status poll so it sees the quit
        self._work.shutdown(wait=False, cancel_futures=True)
        self.window.close()
        self.service.close(QUIT_GRACE_S)
        log.info("trayagent quit; the proxy is stopped")
        if self.tray is not None:
            self.tray.stop()

    # -- the loop -------------------------------------------------------------------------------------

    def attach(self, tray: TrayIcon) -> None:
        """Show the agent's state on `tray` from now on."""
        self.tray = tray
        self.service.add_listener(self._on_service)
        self._refresh()

    def begin(self) -> None:
        """Start the proxy, the config watcher and the account poll (the tray loop is up)."""
        self.service.start()
        self.service.watch()
        threading.Thread(target=self._poll_status, name="status-poll", daemon=True).start()
        self._refresh()

    def run(self) -> int:
        tray = TrayIcon(self.state(), self.actions())
        if not tray.has_menu:
            log.warning(
                "the %s tray backend has no menu: a click on the icon opens the status page; "
                "install trayagent[linux-gui] (PyGObject) for the full menu",
                tray.backend,
            )
        self.attach(tray)
        previous = signal.signal(signal.SIGTERM, self._on_signal)
        try:
            tray.run(self._setup)
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.close()  # a no-op after Quit; stops the proxy if the loop ended some other way
        return 0

    def _setup(self) -> None:
        """Runs once the tray loop is up, on pystray's setup thread."""
        _reclaim_sigint(self._on_signal)
        assert self.tray is not None
        log.info("tray icon up (%s backend); log file %s", self.tray.backend, log_file_path(self.paths.data_dir))
        self.begin()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: quitting", signum)
        self.quit()

    def _poll_status(self) -> None:
        """Account counts for the tooltip and menu, from the proxy's own /api/status."""
        while not self._quitting.is_set():
            self._poll_now.wait(STATUS_POLL_S)
            self._poll_now.clear()
            state = self.service.state
            if self._quitting.is_set() or not state.proxy.serving:
                continue
            counts = _fetch_account_counts(state, self._key)
            if counts is not None and counts != self._accounts:
                self._accounts = counts
                self._refresh()


def _window_view(state: ServiceState) -> object:
    """What an open window shows: which proxy process answers, and where (a change means a new process:
    sessions live in its memory); with none, why not."""
    proxy = state.proxy
    if proxy.address is not None:
        return (proxy.address, proxy.pid)
    return (proxy.state, proxy.reason, state.config_error, state.has_config)


def _fetch_account_counts(state: ServiceState, cached: CachedKey) -> tuple[int, int] | None:
    # The port the proxy really serves on: after a failed move the file names another (someone else's).
    port = urllib.parse.urlsplit(state.proxy.address or "").port
    if port is None:
        return None
    try:
        key = cached.value(state.config)
    except SecretError:
        return None
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            accounts = json.loads(reply.read()).get("accounts", {})
        return int(accounts.get("total", 0)), int(accounts.get("available", 0))
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            cached.forget()  # rotated (`trayagent key rotate`): read it again next time
        return None
    except (OSError, ValueError, urllib.error.URLError, AttributeError, TypeError):
        return None


def _reclaim_sigint(handler: Callable[[int, FrameType | None], None]) -> None:
    """pystray's GTK backends reset SIGINT to "die at once"; take it back so Ctrl-C stops the proxy too."""
    if "gi" not in sys.modules:
        return
    from gi.repository import GLib

    def install() -> bool:
        signal.signal(signal.SIGINT, handler)
        return False  # run once

    GLib.idle_add(install)  # the GLib loop runs on the main thread, where signal handlers must be set
