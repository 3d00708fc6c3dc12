"""The status window for real: pywebview (GTK + WebKit) under Xvfb, on a real proxy in strict auth (in-process:
the window, a real child process, is the subject; the tray tests at the end run the whole agent).

The window child writes what it loaded and showed to TRAYAGENT_WINDOW_PROBE (origin, path, and whether the
page signed in). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gui.conftest import ARTIFACTS, Desktop
from tests.gui.test_tray_gui import Agent
from tests.inprocess import InProcessProxy
from tests.polling import eventually, pid_alive, port_open
from tests.serverproc import REPO
from trayagent.agent.menu import TrayState
from trayagent.supervision.proxystatus import ProxyStatus
from trayagent.window.statuswindow import STOPPED_HTML, Opened, StatusWindow
from trayagent.window.uilink import ProxyEndpoint
from trayagent.window.windowchild import PROBE_ENV

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]


@pytest.fixture(scope="module", autouse=True)
def _webkit(desktop: Desktop) -> None:
    """Skip, saying why, where pywebview's GTK backend cannot run (asked in a child: GTK stays out of pytest)."""
    check = "from trayagent.window.windowchild import gui_problem; print(gui_problem('gtk') or '')"
    problem = desktop.run(sys.executable, "-c", check, timeout=60).stdout.strip()
    if problem:
        pytest.skip(f"pywebview cannot use GTK + WebKit here: {problem}")


class Probe:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.path.read_text()))
        except (OSError, ValueError):
            return {}

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.read().get("events", []) if e["event"] == kind]


@pytest.fixture
def probe(desktop: Desktop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Probe:
    """The window child is spawned from this process: it inherits the desktop and the probe through os.environ."""
    for name, value in desktop.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(PROBE_ENV, str(tmp_path / "probe.json"))
    return Probe(tmp_path / "probe.json")


@pytest.fixture
def strict_proxy(home: Path) -> Iterator[InProcessProxy]:
    """Strict auth, its key made in home/data/secrets.json as `trayagent serve` makes it."""
    with InProcessProxy(home, None, key=None, auth_mode="strict") as proxy:
        yield proxy


def api_key(home: Path) -> str:
    return str(json.loads((home / "data" / "secrets.json").read_text())["api_key"])


@pytest.fixture
def window(strict_proxy: InProcessProxy, home: Path) -> Iterator[tuple[StatusWindow, list[str]]]:
    notes: list[str] = []
    endpoint = ProxyEndpoint(strict_proxy.port, api_key(home))
    status_window = StatusWindow(lambda: endpoint, notify=notes.append, open_browser=lambda url: False)
    yield status_window, notes
    status_window.close()


def window_children() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "trayagent-window"]


def window_shot(desktop: Desktop, name: str) -> Path:
    """Just the window (for the README), found by its title."""
    found = desktop.run("xdotool", "search", "--onlyvisible", "--name", "^trayagent$").stdout.split()
    assert found, "no window titled trayagent on the display"
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    desktop.run("import", "-window", found[0], str(target))
    return target


def painted(shot: Path) -> bool:
    """Some text on it: WebKit paints a moment after the page reports loaded."""
    from PIL import Image

    with Image.open(shot) as image:
        grey = image.convert("L")
        histogram = grey.histogram()
    return sum(histogram[:128]) > 200


def screenshots_once_painted(desktop: Desktop, name: str) -> None:
    """The window alone (`<name>-only.png`) and the whole screen (`<name>.png`), once the page shows."""
    assert eventually(lambda: painted(window_shot(desktop, f"{name}-only.png")), 15, interval=0.3)
    desktop.screenshot(f"{name}.png")


def close_like_a_user(desktop: Desktop) -> None:
    """What a title bar's close button does: WM_DELETE_WINDOW to the window (there is no window manager here)."""
    from Xlib import X, display, protocol

    screen = display.Display(desktop.env["DISPLAY"])
    try:
        protocols, delete = screen.intern_atom("WM_PROTOCOLS"), screen.intern_atom("WM_DELETE_WINDOW")
        found_ids = desktop.run("xdotool", "search", "--name", "^trayagent$").stdout.split()
        assert found_ids, "no window titled trayagent on the display"
        for found in found_ids:
            window = screen.create_resource_object("window", int(found))
            message = protocol.event.ClientMessage(
                window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
            )
            window.send_event(message)
        screen.sync()  # a round trip: the server has handled the events before the connection closes
    finally:
        screen.close()


def test_opens_signed_in_single_instance_and_closes(
    window: tuple[StatusWindow, list[str]], probe: Probe, strict_proxy: InProcessProxy, desktop: Desktop
) -> None:
    status_window, notes = window
    assert strict_proxy.request("GET", "/api/status").status == 401  # strict: without the cookie, no page
    opened = status_window.open("/ui/").result(60)
    assert opened.how == "window" and opened.pid is not None, opened
    assert eventually(lambda: probe.events("loaded"), 30), probe.read()
    (loaded,) = probe.events("loaded")
    assert loaded == {**loaded, "origin": f"http://127.0.0.1:{strict_proxy.port}", "path": "/ui/", "auth": "true"}
    screenshots_once_painted(desktop, "status-window")  # "loaded" with auth: the first poll's numbers are in

    again = status_window.open("/ui/").result(30)
    assert again == Opened("window", opened.pid)  # the same process, raised
    assert [p.pid for p in window_children()] == [opened.pid]
    shown = probe.events("shown")
    assert shown[-1]["asked"] == "/ui/" and shown[-1]["path"] == "/ui/" and shown[-1]["auth"] == "true"
    assert len(probe.events("loaded")) == 1  # not reloaded: it was already there, signed in

    add = status_window.open("/ui/#add").result(30)
    assert add == Opened("window", opened.pid)
    assert probe.events("shown")[-1] == {**probe.events("shown")[-1], "path": "/ui/#add", "auth": "true"}
    screenshots_once_painted(desktop, "status-window-add")
    assert probe.read()["pid"] == opened.pid and notes == []

    started = time.monotonic()
    status_window.close()
    assert eventually(lambda: not pid_alive(opened.pid), 5)
    assert time.monotonic() - started < 6
    assert window_children() == []


def test_the_window_follows_the_proxy_and_a_closed_window_opens_again(
    probe: Probe, desktop: Desktop, strict_proxy: InProcessProxy, home: Path
) -> None:
    endpoint: list[ProxyEndpoint | None] = [None]
    status_window = StatusWindow(lambda: endpoint[0], open_browser=lambda url: False)

    def last_loaded() -> dict[str, Any]:
        return probe.events("loaded")[-1] if probe.events("loaded") else {}

    try:
        first = status_window.open().result(60)
        assert first.how == "window"
        assert eventually(lambda: probe.events("loaded"), 30)
        assert not last_loaded().get("origin", "").startswith("http")  # local html, not the proxy
        assert "The proxy is stopped" in STOPPED_HTML
        screenshots_once_painted(desktop, "status-window-stopped")

        endpoint[0] = ProxyEndpoint(strict_proxy.port, api_key(home))  # the proxy started: the agent refreshes
        status_window.refresh()
        assert eventually(lambda: last_loaded().get("auth") == "true", 30), probe.read()
        assert last_loaded()["path"] == "/ui/"
        assert probe.events("shown")[-1]["raised"] is False  # followed quietly, not brought to the front

        endpoint[0] = None  # stopped again
        status_window.refresh()
        assert eventually(lambda: not last_loaded().get("origin", "http").startswith("http"), 30), probe.read()
        assert status_window.pid == first.pid

        # The user closes the window (as its title bar's close button does): the next open starts a new one.
        assert first.pid is not None
        close_like_a_user(desktop)
        assert eventually(lambda: not pid_alive(first.pid), 10), probe.read()  # type: ignore[arg-type]
        assert eventually(lambda: status_window.pid is None, 5)
        endpoint[0] = ProxyEndpoint(strict_proxy.port, api_key(home))
        second = status_window.open("/ui/#add").result(60)
        assert second.how == "window" and second.pid != first.pid
        assert eventually(lambda: probe.read().get("pid") == second.pid and probe.events("loaded"), 30)
        assert (last_loaded()["path"], last_loaded()["auth"]) == ("/ui/#add", "true")
    finally:
        status_window.close()
    assert window_children() == []


PARENT = """
import sys, time
from trayagent.window.statuswindow import StatusWindow

if __name__ == "__main__":
    print(StatusWindow(lambda: None).open().result(60), flush=True)
    time.sleep(600)
"""


def test_the_window_ends_when_its_parent_is_killed(probe: Probe, tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and "how='window'" in parent.stdout.readline()
        assert eventually(lambda: probe.events("loaded"), 30)
        pid = int(probe.read()["pid"])
        parent.kill()  # no Quit, no pipe message: only the OS says the parent is gone
        parent.wait(10)
        assert eventually(lambda: not pid_alive(pid), 10)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        parent.stdout.close()  # type: ignore[union-attr]


def test_the_tray_menu_opens_the_window_and_quit_closes_it(desktop: Desktop, home: Path, tmp_path: Path) -> None:
    probe = Probe(tmp_path / "probe.json")
    agent = Agent(desktop, home, config="  auth_mode: strict\n", env={PROBE_ENV: str(probe.path)})
    try:
        assert eventually(lambda: "tray icon up" in agent.output() and port_open(agent.port), 30), agent.output()
        agent.wait_running_icon()
        running = TrayState(
            ProxyStatus("running", address=f"http://127.0.0.1:{agent.port}"), accounts_total=0, accounts_available=0
        )
        agent.menu(running, "add_account", screenshot="tray-menu-window-items.png")
        assert eventually(lambda: probe.events("loaded"), 40), agent.output()
        loaded = probe.events("loaded")[-1]
        assert (loaded["path"], loaded["auth"]) == ("/ui/#add", "true"), loaded
        pid = int(probe.read()["pid"])

        agent.menu(running, "open_status")
        assert eventually(lambda: probe.events("shown"), 20), agent.output()
        assert probe.events("shown")[-1]["path"] == "/ui/" and probe.read()["pid"] == pid  # the same window
        desktop.screenshot("status-window-from-tray.png")

        stopped = TrayState(ProxyStatus("stopped"))
        loads = len(probe.events("loaded"))
        agent.menu(running, "stop")  # the open window follows the proxy: the "stopped" message…
        assert eventually(lambda: len(probe.events("loaded")) > loads, 20), agent.output()
        assert not probe.events("loaded")[-1]["origin"].startswith("http")
        agent.menu(stopped, "start")  # …then the new proxy's page, signed in again (a new process, a new session)
        assert eventually(lambda: probe.events("loaded")[-1].get("auth") == "true", 30), agent.output()
        assert probe.read()["pid"] == pid

        agent.menu(running, "quit")
        assert agent.proc.wait(30) == 0, agent.output()
        assert eventually(lambda: not pid_alive(pid), 5)
        assert not port_open(agent.port)
        assert "Traceback" not in agent.output()
    finally:
        if agent.proc.poll() is None:
            agent.proc.kill()
            agent.proc.wait(10)
