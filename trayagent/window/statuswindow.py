"""The status window, parent side: one pywebview window in its own spawned process, opened signed in.

Theory of operation. `open(path)` posts to a worker thread and returns a Future at once, so pystray's
thread never waits. The worker asks the running proxy for a one-time ticket (`POST /api/ui-session` with the
API key, over loopback) and gives the window `…/ui/login?ticket=…&next=<path>`, which the proxy trades for an
HttpOnly cookie: the key never leaves this process — not in a URL, not in the child's argv or environment.
- One window at most: while its child lives, `open` sends it the page over the pipe and the window raises
  itself (navigating only if it shows another view, or is no longer signed in). Closing it ends the child.
- The proxy stopped: the window shows a short local message instead of the page, and switches to the
  page when the proxy starts (`refresh`, called by the agent on every proxy state change).
- The window cannot start (no display, no WebKit): the page opens in the system browser, and a
  notification says why.
- `close()` (Quit) ends the child; the child also ends when this process dies (pipe EOF, parent pid,
  PR_SET_PDEATHSIG — which follows the *thread* that spawned it, hence one long-lived worker thread).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Literal

from trayagent.logsetup import relay_record
from trayagent.supervision.restartpolicy import describe_exit
from trayagent.window.uilink import (
    STATUS_PATH,
    ProxyEndpoint,
    TicketUnavailable,
    check_page_path,
    request_ticket,
    sign_in_url,
)
from trayagent.window.windowchild import GuiName, Page, WindowLaunch, window_main

log = logging.getLogger("trayagent.window")

READY_TIMEOUT_S = 30.0  # spawn → window on screen (a cold WebKit start takes a few seconds)
CLOSE_GRACE_S = 3.0  # asked to close → SIGTERM → SIGKILL

Locate = Callable[[], ProxyEndpoint | None]  # the running proxy, or None when it is not running
WindowTarget = Callable[[Connection, WindowLaunch], None]
Command = Callable[[], None]


@dataclass(frozen=True, slots=True)
class Opened:
    """How an `open` ended: in the window, in the system browser, or nowhere (then `detail` says why)."""

    how: Literal["window", "browser", "none"]
    pid: int | None = None  # the window's process
    detail: str | None = None


def default_gui(platform: str = sys.platform) -> GuiName | None:
    """pywebview's backend: GTK on Linux (light, and what the tray's PyGObject already needs); its default elsewhere."""
    return "gtk" if platform.startswith("linux") else None


DEFAULT_GUI = default_gui()

STOPPED_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trayagent</title>
<style>
  body { margin: 0; height: 100vh; display: flex; align-items: center; justify-content: center;
         font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; background: #f5f6f8; color: #1f2328; }
  main { max-width: 300px; padding: 24px; text-align: center; }
  h1 { font-size: 18px; margin: 0 0 8px; }
  .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; background: #8b949e; }
  p { color: #57606a; margin: 0; }
</style></head>
<body><main>
  <h1><span class="dot"></span> The proxy is stopped</h1>
  <p>Start it from the tray icon (<b>Start&nbsp;proxy</b>); this window then shows its status.</p>
</main></body></html>
"""


@dataclass(eq=False)
class _Child:
    process: BaseProcess
    conn: Connection
    spawned_at: float
    path: str
    ready: bool = False
    showing_stopped: bool = False  # the local "proxy stopped" message, not the page
    conn_open: bool = True
    failure: str | None = None  # why the window could not start, as the child put it
    close_at: float | None = None
    terms: int = 0
    waiting_ready: list[Future[Opened]] = field(default_factory=list)
    waiting_shown: list[Future[Opened]] = field(default_factory=list)  # answered in order
    deferred: list[tuple[str, Future[Opened]]] = field(default_factory=list)  # opens while it starts

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def pending(self) -> list[Future[Opened]]:
        return [*self.waiting_ready, *self.waiting_shown, *(f for _, f in self.deferred)]


class StatusWindow:
    def __init__(
        self,
        locate: Locate,
        *,
        notify: Callable[[str], None] = lambda _message: None,
        open_browser: Callable[[str], bool] = webbrowser.open,
        gui: GuiName | None = DEFAULT_GUI,
        ready_timeout: float = READY_TIMEOUT_S,
        target: WindowTarget = window_main,
    ) -> None:
        self._mp = multiprocessing.get_context("spawn")  # never fork: a GUI toolkit may be loaded here
        self._locate = locate
        self._notify = notify
        self._open_browser = open_browser
        self._gui = gui
        self._ready_timeout = ready_timeout
        self._target = target
        self._child: _Child | None = None
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._wake_r, self._wake_w = multiprocessing.Pipe(duplex=False)
        self._closing = False
        self._closed: Future[None] = Future()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- public API: posts to the worker, returns at once ------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The window process, while it runs."""
        child = self._child
        return child.pid if child is not None and child.process.is_alive() else None

    def open(self, path: str = STATUS_PATH) -> Future[Opened]:
        """Show the status page at `path` (`/ui/`, `/ui/#add`): raise the window, or start it."""
        check_page_path(path)
        future: Future[Opened] = Future()
        if not self._post(lambda: self._cmd_open(path, future)):
            future.set_result(Opened("none", detail="the agent is quitting"))
        return future

    def refresh(self) -> None:
        """The proxy started, stopped or was replaced: an open window follows (signs in again), unraised."""
        with self._lock:
            if self._thread is None or self._closing:
                return
        self._post(self._cmd_refresh)

    def close(self, timeout: float = CLOSE_GRACE_S + 5) -> None:
        """End the window and the worker. Blocks (shutdown paths only); a no-op if never opened."""
        with self._lock:
            thread, self._closing = self._thread, True
        if thread is None:
            self._wake_r.close()
            self._wake_w.close()
            return
        self._post(lambda: None, start=False)  # wakes the worker, which sees `_closing`
        try:
            self._closed.result(timeout)
        except TimeoutError:
            log.warning("the status window did not close within %g s", timeout)
        thread.join(timeout)

    # -- worker ------------------------------------------------------------------------------------------

    def _post(self, command: Command, *, start: bool = True) -> bool:
        with self._lock:
            if self._closing and start:
                return False
            if self._thread is None and start:
                self._thread = threading.Thread(target=self._run, name="status-window", daemon=True)
                self._thread.start()
        self._commands.put(command)
        try:
            self._wake_w.send_bytes(b"!")
        except OSError:
            return False  # the worker ended meanwhile
        return True

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            leftovers = self._child.pending() if self._child is not None else []
            for future in leftovers:
                if not future.done():
                    future.set_result(Opened("none", detail="the agent is quitting"))
            while not self._commands.empty():
                try:
                    self._commands.get_nowait()()  # posted while quitting: each answers "quitting" at once
                except Exception:
                    log.exception("status window command failed")
            self._wake_r.close()
            self._wake_w.close()
            self._closed.set_result(None)

    def _loop(self) -> None:
        while True:
            while True:
                try:
                    command = self._commands.get_nowait()
                except queue.Empty:
                    break
                try:
                    command()
                except Exception:  # a bug in one open must not end the window's worker
                    log.exception("status window command failed")
            if self._closing:
                if self._child is None:
                    return
                self._ask_close(self._child)
            self._timers()
            child = self._child
            objects: dict[Any, str] = {self._wake_r: "wake"}
            if child is not None:
                if child.conn_open:
                    objects[child.conn] = "conn"
                objects[child.process.sentinel] = "exit"
            for obj in wait(list(objects), timeout=0.5 if child is not None else None):
                kind = objects[obj]
                if kind == "wake":
                    while self._wake_r.poll():
                        self._wake_r.recv_bytes()
                elif child is not None and kind == "conn":
                    self._read(child)
                elif child is not None and child is self._child:
                    self._reap(child)

    def _timers(self) -> None:
        child, now = self._child, time.monotonic()
        if child is None:
            return
        if not child.ready and child.failure is None and now - child.spawned_at > self._ready_timeout:
            child.failure = f"the window did not appear within {self._ready_timeout:g} s"
            child.process.kill()
        if child.close_at is not None and now >= child.close_at:
            if child.terms == 0:
                child.terms = 1
                log.warning("status window pid %s did not close in time; sending SIGTERM", child.pid)
                child.process.terminate()
                child.close_at = now + 1.0
            else:
                child.process.kill()
                child.close_at = now + 5.0

    # -- commands ----------------------------------------------------------------------------------------

    def _cmd_open(self, path: str, future: Future[Opened]) -> None:
        child = self._child
        if self._closing:
            future.set_result(Opened("none", detail="the agent is quitting"))
        elif child is None:
            self._spawn(path, [future])
        elif child.ready:
            self._show(child, path, future)
        else:
            child.deferred.append((path, future))  # starting: shown once it is up

    def _cmd_refresh(self) -> None:
        child = self._child
        if child is None or not child.ready or self._closing:
            return
        page = self._page(child.path)
        # A proxy that (re)started is a new process: the window's session died with the old one.
        self._send_page(child, replace(page, must_sign_in=page.html is None), raise_window=False)

    def _page(self, path: str) -> Page:
        """The page to show: signed in with a fresh ticket, or the local "stopped" message."""
        endpoint = self._locate()
        if endpoint is None:
            return Page(path=path, html=STOPPED_HTML)
        try:
            ticket = request_ticket(endpoint)
        except TicketUnavailable as exc:
            # The page then asks for the key itself (or needs none: auth_mode off on loopback).
            log.warning("status window without sign-in: %s", exc)
            return Page(origin=endpoint.origin, path=path)
        return Page(origin=endpoint.origin, path=path, sign_in_url=sign_in_url(endpoint.origin, ticket, path))

    def _spawn(self, path: str, futures: list[Future[Opened]]) -> None:
        launch = WindowLaunch(page=self._page(path), parent_pid=os.getpid(), gui=self._gui, log_level=_log_level())
        parent_end, child_end = self._mp.Pipe(duplex=True)
        process = self._mp.Process(target=self._target, args=(child_end, launch), name="trayagent-window", daemon=True)
        process.start()
        child_end.close()
        self._child = _Child(process, parent_end, time.monotonic(), path, waiting_ready=futures)
        self._child.showing_stopped = launch.page.html is not None
        log.debug("spawned status window pid %s for %s", process.pid, path)

    def _show(self, child: _Child, path: str, future: Future[Opened]) -> None:
        if not self._send_page(child, self._page(path), raise_window=True):
            child.deferred.append((path, future))  # it is exiting: a new window gets it
            return
        child.waiting_shown.append(future)

    def _send_page(self, child: _Child, page: Page, *, raise_window: bool) -> bool:
        try:
            child.conn.send(("show", page, raise_window))
        except (OSError, ValueError):
            return False
        child.path, child.showing_stopped = page.path, page.html is not None
        return True

    def _ask_close(self, child: _Child) -> None:
        if child.close_at is not None:
            return
        child.close_at = time.monotonic() + CLOSE_GRACE_S
        try:
            child.conn.send(("close",))
        except (OSError, ValueError):
            child.close_at = time.monotonic()  # no pipe: straight to SIGTERM

    # -- what the child says -------------------------------------------------------------------------------

    def _read(self, child: _Child) -> None:
        try:
            while child.conn.poll():
                self._on_message(child, child.conn.recv())
        except (EOFError, OSError):
            child.conn_open = False

    def _on_message(self, child: _Child, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "log":
            relay_record(name=message[2], level=message[1], text=message[3], pid=child.pid)
        elif kind == "failed":
            child.failure = str(message[2])
        elif kind == "ready":
            child.ready = True
            log.info("status window open (pid %s)", child.pid)
            for future in child.waiting_ready:
                future.set_result(Opened("window", child.pid))
            child.waiting_ready = []
            deferred, child.deferred = child.deferred, []
            for path, future in deferred:
                self._show(child, path, future)
        elif kind == "shown" and message[2] and child.waiting_shown:
            child.waiting_shown.pop(0).set_result(Opened("window", child.pid))

    def _reap(self, child: _Child) -> None:
        if child.conn_open:
            self._read(child)
        child.conn.close()
        child.process.join(1)
        self._child = None
        pending = [f for f in child.pending() if not f.done()]
        if self._closing:
            log.debug("status window closed (%s)", describe_exit(child.process.exitcode))
            for future in pending:
                future.set_result(Opened("none", detail="the agent is quitting"))
            return
        if not child.ready:
            reason = child.failure or f"its process {describe_exit(child.process.exitcode)}"
            self._fall_back(child.deferred[-1][0] if child.deferred else child.path, reason, pending)
            return
        log.info("status window closed")
        if pending:  # closed by the user just as another open came: open it again
            self._spawn(child.deferred[-1][0] if child.deferred else child.path, pending)

    def _fall_back(self, path: str, reason: str, futures: list[Future[Opened]]) -> None:
        """No window here: the page in the system browser instead (signed in with its own fresh ticket)."""
        log.warning("the status window could not open: %s", reason)
        endpoint = self._locate()
        if endpoint is None:
            detail = f"the status window could not open ({reason}), and the proxy is stopped: start it from the tray"
            self._notify(detail[0].upper() + detail[1:] + ".")
            _answer(futures, Opened("none", detail=detail))
            return
        page = self._page(path)
        plain = f"{endpoint.origin}{path}"

        def browse() -> None:
            try:
                opened = self._open_browser(page.first_url)
            except Exception as exc:
                log.warning("the browser could not be started: %s", exc)
                opened = False
            if opened:
                self._notify(f"The status window could not open ({reason}); the status page is in your browser.")
                _answer(futures, Opened("browser", detail=reason))
            else:
                self._notify(f"The status window could not open ({reason}). Open {plain} in a browser.")
                _answer(futures, Opened("none", detail=f"{reason}; no browser either"))

        # Starting a browser can take a while: never in this worker (it serves the next open) or the GUI thread.
        threading.Thread(target=browse, name="status-browser", daemon=True).start()


def _answer(futures: list[Future[Opened]], result: Opened) -> None:
    for future in futures:
        if not future.done():
            future.set_result(result)


def _log_level() -> str:
    return logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()
