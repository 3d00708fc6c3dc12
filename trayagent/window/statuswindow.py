"""The status window, parent side: one pywebview window in its own spawned process, opened signed in.

Theory of operation. `open(path)` posts to a worker thread and returns a Future at once, so pystray's
thread never waits. The worker asks the running proxy for a one-time ticket (`POST /api/ui-session` with the
API key, over loopback) and gives the window `…/ui/login?ticket=…&next=<path>`, which the proxy trades for an
HttpOnly cookie: the key never leaves this process — not in a URL, not in the child's argv or environment.
- One window at most: while its child lives, `open` sends it the page over the pipe and the window raises
  itself (navigating only if it shows another view, or is no longer signed in). Closing it ends the child.
- The proxy stopped: the window shows a short local message instead of the page — why no proxy runs and
  what happens next (`NotServing`, from the agent) — and switches to the page when the proxy starts
  (`refresh`, called by the agent on every change of what the window should show).
- The window cannot start (no display, no WebKit): the page opens in the system browser, and a
  notification says why.
- `close()` (Quit) ends the child; the child also ends when this process dies (pipe EOF, parent pid,
  PR_SET_PDEATHSIG — which follows the *thread* that spawned it, hence one long-lived worker thread).
"""

from __future__ import annotations

import html
import logging
import os
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Literal

from trayagent.supervision.childprocess import ChildHost, ChildProcess, spawn_process
from trayagent.supervision.messages import Failed, Ready, Stop
from trayagent.window.uilink import (
    STATUS_PATH,
    ProxyEndpoint,
    TicketUnavailable,
    check_page_path,
    request_ticket,
    sign_in_url,
)
from trayagent.window.windowchild import GuiName, Page, Show, Shown, WindowLaunch, window_main

log = logging.getLogger("trayagent.window")

READY_TIMEOUT_S = 30.0  # spawn → window on screen (a cold WebKit start takes a few seconds)
CLOSE_GRACE_S = 3.0  # asked to close → SIGTERM → SIGKILL


@dataclass(frozen=True, slots=True)
class NotServing:
    """Why no proxy answers, for the window's local page: a heading and the sentences that follow it."""

    title: str
    lines: tuple[str, ...] = ()
    problem: bool = False  # something is wrong (an error, an invalid config), not merely stopped


Locate = Callable[[], ProxyEndpoint | NotServing | None]  # the running proxy, or why none (None: just stopped)
WindowTarget = Callable[[Connection, WindowLaunch], None]


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

STOPPED_HINT = "Start it from the tray icon (Start proxy); this window then shows its status."
_LOCAL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trayagent</title>
<style>
  body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
         font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; background: #f5f6f8; color: #1f2328; }
  main { max-width: 340px; padding: 24px; text-align: center; overflow-wrap: anywhere; }
  h1 { font-size: 18px; margin: 0 0 8px; }
  .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%%; background: %(dot)s; }
  p { color: #57606a; margin: 0 0 8px; }
</style></head>
<body><main>
  <h1><span class="dot"></span> %(title)s</h1>
%(lines)s
</main></body></html>
"""


def local_page(note: NotServing) -> str:
    """The window's own page while no proxy runs: `note` in full (escaped), red when something is wrong."""
    lines = "\n".join(f"  <p>{html.escape(line)}</p>" for line in note.lines)
    dot = "#cf222e" if note.problem else "#8b949e"
    return _LOCAL_PAGE % {"title": html.escape(note.title), "lines": lines, "dot": dot}


STOPPED = NotServing("The proxy is stopped", (STOPPED_HINT,))
STOPPED_HTML = local_page(STOPPED)


class _Child(ChildProcess):
    def __init__(
        self, process: BaseProcess, conn: Connection, spawned_at: float, path: str, waiting: list[Future[Opened]]
    ) -> None:
        super().__init__(process, conn, spawned_at, label="status window", term_attempts=1, logger=log)
        self.path = path
        self.showing_stopped = False  # the local "proxy stopped" message, not the page
        self.waiting_ready = waiting
        self.waiting_shown: list[Future[Opened]] = []  # answered in order
        self.deferred: list[tuple[str, Future[Opened]]] = []  # opens while it starts

    def pending(self) -> list[Future[Opened]]:
        return [*self.waiting_ready, *self.waiting_shown, *(f for _, f in self.deferred)]


class StatusWindow(ChildHost[_Child]):
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
        super().__init__("status-window", label="status window", logger=log)
        self._locate = locate
        self._notify = notify
        self._open_browser = open_browser
        self._gui = gui
        self._ready_timeout = ready_timeout
        self._target = target
        self._child: _Child | None = None
        self._closing = False
        self._started = False
        self._lock = threading.Lock()

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
        if not self._order(lambda: self._cmd_open(path, future)):
            future.set_result(Opened("none", detail="the agent is quitting"))
        return future

    def refresh(self) -> None:
        """The proxy started, stopped or was replaced: an open window follows (signs in again), unraised."""
        with self._lock:
            if not self._started or self._closing:
                return
        self._order(self._cmd_refresh)

    def close(self, timeout: float = CLOSE_GRACE_S + 5) -> None:
        """End the window and the worker. Blocks (shutdown paths only); a no-op if never opened."""
        with self._lock:
            started, self._closing = self._started, True
        if not started:
            self._discard_worker()
            return
        self._post(self._cmd_close)
        self._worker.join(timeout)
        if self._worker.is_alive():
            log.warning("the status window did not close within %g s", timeout)

    # -- worker ------------------------------------------------------------------------------------------

    def _order(self, command: Callable[[], None]) -> bool:
        with self._lock:
            if self._closing:
                return False
            if not self._started:
                self._started = True
                self._start_worker()
        return self._post(command)

    def _children(self) -> list[_Child]:
        return [self._child] if self._child is not None else []

    def _finished(self) -> bool:
        return self._closing and self._child is None

    def _on_end(self) -> None:
        leftovers = self._child.pending() if self._child is not None else []
        _answer(leftovers, Opened("none", detail="the agent is quitting"))

    def _tick(self) -> float | None:
        child, now = self._child, time.monotonic()
        if child is None:
            return None
        if child.late(now, self._ready_timeout):
            child.give_up(f"the window did not appear within {self._ready_timeout:g} s")
        child.escalate(now)
        return 0.5

    # -- commands ----------------------------------------------------------------------------------------

    def _cmd_open(self, path: str, future: Future[Opened]) -> None:
        child = self._child
        if self._closing:
            future.set_result(Opened("none", detail="the agent is quitting"))
        elif child is None:
            self._spawn(path, [future])
        elif child.ready_at is not None:
            self._show(child, path, future)
        else:
            child.deferred.append((path, future))  # starting: shown once it is up

    def _cmd_refresh(self) -> None:
        child = self._child
        if child is None or child.ready_at is None or self._closing:
            return
        page = self._page(child.path)
        # A proxy that (re)started is a new process: the window's session died with the old one.
        self._send_page(child, replace(page, must_sign_in=page.html is None), raise_window=False)

    def _page(self, path: str) -> Page:
        """The page to show: signed in with a fresh ticket, or the local "stopped" message."""
        endpoint = self._locate()
        if not isinstance(endpoint, ProxyEndpoint):
            return Page(path=path, html=local_page(endpoint or STOPPED))
        try:
            ticket = request_ticket(endpoint)
        except TicketUnavailable as exc:
            # The page then asks for the key itself (or needs none: auth_mode off on loopback).
            log.warning("status window without sign-in: %s", exc)
            return Page(origin=endpoint.origin, path=path)
        return Page(origin=endpoint.origin, path=path, sign_in_url=sign_in_url(endpoint.origin, ticket, path))

    def _spawn(self, path: str, futures: list[Future[Opened]]) -> None:
        launch = WindowLaunch(page=self._page(path), parent_pid=os.getpid(), gui=self._gui, log_level=_log_level())
        process, conn = spawn_process(self._target, launch, "trayagent-window")
        self._child = _Child(process, conn, time.monotonic(), path, futures)
        self._child.showing_stopped = launch.page.html is not None
        log.debug("spawned status window pid %s for %s", process.pid, path)

    def _show(self, child: _Child, path: str, future: Future[Opened]) -> None:
        if not self._send_page(child, self._page(path), raise_window=True):
            child.deferred.append((path, future))  # it is exiting: a new window gets it
            return
        child.waiting_shown.append(future)

    def _send_page(self, child: _Child, page: Page, *, raise_window: bool) -> bool:
        if not child.send(Show(page, raise_window)):
            return False
        child.path, child.showing_stopped = page.path, page.html is not None
        return True

    def _cmd_close(self) -> None:
        """Quit: the window closes, then the worker ends (`_finished`)."""
        child, now = self._child, time.monotonic()
        if child is not None:
            child.ask_stop(Stop(CLOSE_GRACE_S), now + CLOSE_GRACE_S, now)

    # -- what the child says -------------------------------------------------------------------------------

    def _on_message(self, child: _Child, message: object) -> None:
        if isinstance(message, Failed):
            child.failure = message.reason
        elif isinstance(message, Ready):
            child.ready_at = time.monotonic()
            log.info("status window open (pid %s)", child.pid)
            for future in child.waiting_ready:
                future.set_result(Opened("window", child.pid))
            child.waiting_ready = []
            deferred, child.deferred = child.deferred, []
            for path, future in deferred:
                self._show(child, path, future)
        elif isinstance(message, Shown) and message.raised and child.waiting_shown:
            child.waiting_shown.pop(0).set_result(Opened("window", child.pid))

    def _on_exit(self, child: _Child) -> None:
        self._child = None
        pending = [f for f in child.pending() if not f.done()]
        if self._closing:
            log.debug("status window closed (%s)", child.exit_text)
            for future in pending:
                future.set_result(Opened("none", detail="the agent is quitting"))
            return
        if child.ready_at is None:
            reason = child.failure or f"its process {child.exit_text}"
            self._fall_back(child.deferred[-1][0] if child.deferred else child.path, reason, pending)
            return
        log.info("status window closed")
        if pending:  # closed by the user just as another open came: open it again
            self._spawn(child.deferred[-1][0] if child.deferred else child.path, pending)

    def _fall_back(self, path: str, reason: str, futures: list[Future[Opened]]) -> None:
        """No window here: the page in the system browser instead (signed in with its own fresh ticket)."""
        log.warning("the status window could not open: %s", reason)
        endpoint = self._locate()
        if not isinstance(endpoint, ProxyEndpoint):
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
