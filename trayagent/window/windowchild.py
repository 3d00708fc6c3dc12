"""The status window's own process: one pywebview window on the proxy's status page. Spawned, never forked.

It obeys its parent (`statuswindow.py`) over a pipe — up: Ready / Shown / Failed / LogLine; down: Show a page,
Stop — and ends with it: pipe EOF, a parent-pid check, PR_SET_PDEATHSIG on Linux. A GUI that cannot start
(no display, no WebKit) is reported as `Failed`, so the parent can open the system browser instead.

The page's Content-Security-Policy forbids `eval`, which pywebview's `evaluate_js` wraps every script in;
`run_js` hands the script to the engine as is, so that is what reads the page here.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from trayagent.logsetup import configure_logging
from trayagent.supervision.childlink import ParentLink, PipeLogHandler, die_with_parent
from trayagent.supervision.messages import Failed, Ready, Stop

log = logging.getLogger("trayagent.window")

GuiName = Literal["gtk", "qt"]  # the pywebview backends trayagent asks for by name; None: pywebview picks
TITLE = "trayagent"
SIZE = (420, 640)
MIN_SIZE = (340, 400)
SHOWN_WAIT_S = 30.0  # the window must appear within this, or the child gives up and says so
PROBE_ENV = "TRAYAGENT_WINDOW_PROBE"  # tests: a file where the child records what it loaded and showed
PROBE_AUTH_WAIT_S = 10.0
# Where the page is, and whether it signed in (app.js sets the flag once /api/status answered 200).
WHERE_JS = (
    "JSON.stringify({origin: location.origin, path: location.pathname + location.hash,"
    " auth: (document.body && document.body.dataset.authenticated) || ''})"
)
PROBE_TEXT_JS = "(document.body && document.body.innerText || '').slice(0, 4000)"  # what the window says, for tests


@dataclass(frozen=True, slots=True)
class Page:
    """What the window shows: the status page at `path` (signing in through `sign_in_url`), or local `html`."""

    origin: str | None = None  # http://127.0.0.1:8045
    path: str = "/ui/"
    sign_in_url: str | None = None  # …/ui/login?ticket=…&next=<path>; works once
    html: str | None = None  # a local message instead (the proxy is stopped)
    must_sign_in: bool = False  # a new proxy process: any session the window had is gone

    @property
    def address(self) -> str:
        return f"{self.origin}{self.path}"

    @property
    def first_url(self) -> str:
        return self.sign_in_url or self.address


@dataclass(frozen=True, slots=True)
class Show:
    """To the window: show `page`, and bring the window up when `raise_window`."""

    page: Page
    raise_window: bool = True


@dataclass(frozen=True, slots=True)
class Shown:
    """From the window: a `Show` was done (`raised`: and the window brought up)."""

    raised: bool


@dataclass(frozen=True, slots=True)
class WindowLaunch:
    """Everything the window child needs, picklable for the spawn start method. Never the API key."""

    page: Page
    parent_pid: int
    gui: GuiName | None  # pywebview's backend: "gtk" on Linux, its own choice elsewhere
    log_level: str = "info"


def gui_problem(gui: GuiName | None) -> str | None:
    """Why pywebview's `gui` backend cannot show a window here, or None. Checked before GTK can abort us."""
    if gui != "gtk":
        return None
    try:
        import gi

        gi.require_version("Gtk", "3.0")
        from gi.repository import Gtk
    except (ImportError, ValueError) as exc:
        return f"PyGObject with GTK 3 is not installed ({exc})"
    for version in ("4.1", "4.0"):
        try:
            gi.require_version("WebKit2", version)
            break
        except ValueError:
            continue
    else:
        return "WebKit2GTK is not installed (on Debian/Ubuntu: gir1.2-webkit2-4.1)"
    # Without a display GTK would print a warning and exit the process; init_check only says so.
    if not Gtk.init_check()[0]:
        return f"cannot open the display {os.environ.get('DISPLAY', '(DISPLAY is not set)')}"
    return None


class Probe:
    """Test hook: every page loaded (where, signed in or not) and every show, rewritten whole as JSON."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, event: str, **details: Any) -> None:
        with self._lock:
            self._events.append({"event": event, "time": time.time(), **details})
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(json.dumps({"pid": os.getpid(), "events": self._events}))
            os.replace(temporary, self.path)


class WindowRun:
    """The window and its link to the parent: announce it, show what the parent asks, close with it."""

    def __init__(self, window: Any, link: ParentLink, launch: WindowLaunch, probe: Probe | None) -> None:
        self.window, self.link, self.launch, self.probe = window, link, launch, probe
        self.local_html = launch.page.html  # the local message on screen, or None for the proxy's page

    def install(self) -> None:
        self.window.events.loaded += self._on_loaded
        if self.probe is not None:
            self.window.events.closed += self._on_closed
        threading.Thread(target=self._follow_parent, name="window-parent-link", daemon=True).start()

    def where(self) -> dict[str, str] | None:
        """The page's origin, path (with #hash) and sign-in flag; None while it cannot say."""
        try:
            answer = self.window.run_js(WHERE_JS)
            where = json.loads(answer) if isinstance(answer, str) else None
        except Exception as exc:  # no page yet, a page going away: either way, nothing to read
            log.debug("could not read the page's location: %s", exc)
            return None
        return where if isinstance(where, dict) else None

    def show(self, page: Page, raise_window: bool = True) -> None:
        """Navigate only where needed (keeping a signed-in page as it is), then bring the window up."""
        if page.html is not None:
            if self.local_html != page.html:
                self.window.load_html(page.html)
                self.local_html = page.html
        else:
            where = None if self.local_html is not None or page.must_sign_in else self.where()
            if where is None or where.get("origin") != page.origin or where.get("auth") != "true":
                self.window.load_url(page.first_url)  # signs in again (a restarted proxy forgot the session)
            elif where.get("path") != page.path:
                here, _, _ = where.get("path", "").partition("#")
                there, _, fragment = page.path.partition("#")
                if here == there:  # a fragment only: the page switches views itself, no reload
                    self.window.run_js(f"location.hash = {json.dumps(fragment)}")
                else:
                    self.window.load_url(page.address)
            self.local_html = None
        if raise_window:
            self.window.show()
            self.window.restore()  # deiconify + present: on top of the other windows, focused

    def _on_loaded(self) -> None:
        if self.probe is None:
            return
        where = self.where() or {}
        deadline = time.monotonic() + PROBE_AUTH_WAIT_S
        # The flag appears once the page's first /api/status call answered; wait for it a little.
        while where.get("origin", "").startswith("http") and where.get("auth") != "true":
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
            where = self.where() or {}
        self.probe.record("loaded", **where, text=self._text())

    def _text(self) -> str:
        try:
            text = self.window.run_js(PROBE_TEXT_JS)
        except Exception:
            return ""
        return text if isinstance(text, str) else ""

    def _on_closed(self) -> None:
        if self.probe is not None:
            self.probe.record("closed")

    def _follow_parent(self) -> None:
        if not self.window.events.shown.wait(SHOWN_WAIT_S):
            self.link.send(Failed(f"the window did not appear within {SHOWN_WAIT_S:g} s"))
            os._exit(1)
        if self.probe is not None:
            self.probe.record("started")
        self.link.send(Ready(os.getpid()))
        for message in self.link.receive(self.launch.parent_pid):  # ends when the parent is gone
            if isinstance(message, Stop):
                break
            if isinstance(message, Show):
                try:
                    self.show(message.page, message.raise_window)
                except Exception:
                    log.exception("could not show the status window")
                if self.probe is not None:
                    asked, raised = message.page.path, message.raise_window
                    where = self.where() or {}
                    self.probe.record("shown", asked=asked, raised=raised, **where, text=self._text())
                self.link.send(Shown(message.raise_window))
        self.window.destroy()
        time.sleep(5)  # the GUI loop ends with the window; if it does not, leave anyway
        os._exit(0)


def window_main(conn: Connection, launch: WindowLaunch) -> None:
    """Entry point of the spawned window process."""
    die_with_parent(launch.parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is for the agent, which closes us
    link = ParentLink(conn)
    configure_logging(launch.log_level, handlers=[PipeLogHandler(link)])
    problem = gui_problem(launch.gui)
    if problem is not None:
        link.send(Failed(problem))
        conn.close()
        sys.exit(1)
    import webview

    page = launch.page
    window = webview.create_window(
        TITLE,
        url=None if page.html is not None else page.first_url,
        html=page.html or "",
        width=SIZE[0],
        height=SIZE[1],
        min_size=MIN_SIZE,
        resizable=True,
    )
    probe_file = os.environ.get(PROBE_ENV)
    WindowRun(window, link, launch, Probe(Path(probe_file)) if probe_file else None).install()
    try:
        webview.start(gui=launch.gui, private_mode=True)
    except Exception as exc:
        link.send(Failed(f"pywebview could not start: {type(exc).__name__}: {exc}"))
        conn.close()
        sys.exit(1)
    # The window was closed. pywebview's event threads may still run; nothing they do matters now.
    conn.close()
    os._exit(0)
