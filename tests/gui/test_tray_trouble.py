"""The real tray and status window when something is wrong, under Xvfb + trayer: started on an invalid config.yaml,
and a port move onto a port another program holds. The agent runs as a user starts it (no --verbose), so its
terminal shows what a user's would. Screenshots of the menu and the window go to test-artifacts/."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gui.conftest import Desktop
from tests.gui.test_status_window import _webkit, screenshots_once_painted  # noqa: F401 — _webkit: skip without WebKit
from tests.gui.test_tray_gui import ICON, docked_icon_colour, keys_to
from tests.polling import eventually, port_open
from tests.serverproc import free_port, http, isolated_env
from trayagent.agent.menu import ActionName, TrayState
from trayagent.supervision.proxystatus import ProxyStatus
from trayagent.window.windowchild import PROBE_ENV

pytestmark = [pytest.mark.gui, pytest.mark.timeout(150)]


class QuietAgent:
    """`trayagent` with no option, its terminal (stdout + stderr) kept apart from its log file."""

    def __init__(self, desktop: Desktop, home: Path, config: str) -> None:
        self.desktop, self.home = desktop, home
        (home / "config.yaml").write_text(config)
        self.probe = home / "probe.json"
        self.env = {**isolated_env(home), **desktop.env, PROBE_ENV: str(self.probe)}
        self.terminal = home / "terminal.out"
        with self.terminal.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "trayagent"], env=self.env, stdout=out, stderr=out)

    def log(self) -> str:
        path = self.home / "data" / "logs" / "trayagent.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def said(self) -> str:
        return self.terminal.read_text(errors="replace")

    def loaded(self) -> list[dict[str, Any]]:
        try:
            events = json.loads(self.probe.read_text())["events"]
        except (OSError, ValueError, KeyError):
            return []
        return [e for e in events if e["event"] in ("loaded", "shown")]

    def menu(self, state: TrayState, action: ActionName, screenshot: str) -> None:
        x, y = ICON
        assert eventually(lambda: not self.desktop.popup_menus(), 10), "the last menu is still open"
        self.desktop.run("xdotool", "mousemove", str(x), str(y), "click", "3")
        # GTK maps the popup and grabs the keyboard in one call: once it is mapped, keys reach it.
        assert eventually(self.desktop.popup_menus, 10), f"no menu opened on the right-click\n{self.log()}"
        self.desktop.screenshot(screenshot)
        self.desktop.run("xdotool", "key", "--delay", "80", *keys_to(state, action))


def docked(desktop: Desktop, home: Path) -> bool:
    """The icon is drawn at its place in trayer (any state's colour): docked, so a click there reaches it."""
    shot = home / "docking.png"  # this test's own file, apart from other runs'
    desktop.run("import", "-window", "root", str(shot))
    return docked_icon_colour(shot) != "none"


@pytest.fixture
def agents() -> Iterator[list[QuietAgent]]:
    started: list[QuietAgent] = []
    yield started
    for agent in started:
        if agent.proc.poll() is None:
            agent.proc.terminate()
            try:
                agent.proc.wait(30)
            except subprocess.TimeoutExpired:
                agent.proc.kill()
                agent.proc.wait(10)


def test_started_on_an_invalid_config_it_says_what_is_wrong_and_starts_once_fixed(
    desktop: Desktop, home: Path, agents: list[QuietAgent]
) -> None:
    port = free_port()
    error = 'proxy.auth_mode (line 3): expected one of off, strict, all_except_health, auto, got "sometimes"'
    agent = QuietAgent(desktop, home, f"proxy:\n  port: {port}\n  auth_mode: sometimes\n")
    agents.append(agent)
    assert eventually(lambda: "tray icon up" in agent.log(), 30), agent.log()
    assert eventually(lambda: docked(desktop, home), 15), "the icon never showed in the tray"
    # The log says what is wrong and what happens next; never a "last good configuration" there never was.
    assert f"config.yaml is invalid: {error}; the proxy starts by itself once the file is valid" in agent.log()
    assert "last good configuration" not in agent.log()

    waiting = TrayState(ProxyStatus("stopped"), config_error=error, has_config=False)
    agent.menu(waiting, "open_status", screenshot="tray-menu-invalid-config.png")
    assert eventually(agent.loaded, 40), agent.log()
    text = agent.loaded()[-1]["text"]
    assert "The proxy is not running" in text
    assert f"config.yaml has an error: {error}." in text
    assert "Fix the file and save it: the proxy starts by itself." in text
    assert f"The file: {home / 'config.yaml'}" in text
    screenshots_once_painted(desktop, "status-window-invalid-config")

    (home / "config.yaml").write_text(f"proxy:\n  port: {port}\n")  # fixed: the proxy starts, the window follows
    assert eventually(lambda: port_open(port), 30), agent.log()
    assert eventually(lambda: agent.loaded()[-1].get("origin") == f"http://127.0.0.1:{port}", 30), agent.loaded()

    agent.proc.terminate()
    assert agent.proc.wait(30) == 0, agent.log()
    # The user's terminal stays quiet: no GTK internals, no file watcher chatter, no traceback.
    assert "Gdk-CRITICAL" not in agent.said() and "watchfiles" not in agent.said(), agent.said()
    assert "Traceback" not in agent.said() + agent.log()


def test_a_failed_port_move_shows_in_the_menu_and_the_window_in_full(
    desktop: Desktop, home: Path, agents: list[QuietAgent]
) -> None:
    port = free_port()
    agent = QuietAgent(desktop, home, f"proxy:\n  port: {port}\n")
    agents.append(agent)
    assert eventually(lambda: "tray icon up" in agent.log() and "listening on" in agent.log(), 30), agent.log()
    with socket.socket() as other:  # another program holds the port the file moves to
        other.bind(("127.0.0.1", 0))
        other.listen()
        busy = other.getsockname()[1]
        (home / "config.yaml").write_text(f"proxy:\n  port: {busy}\n")
        moved = f"could not move to http://127.0.0.1:{busy}: port {busy} is already in use on 127.0.0.1"
        assert eventually(lambda: moved in agent.log(), 30), agent.log()
        # The proxy that really serves knows of the failed move (the window and menu read it from there).
        assert eventually(lambda: http(port, "GET", "/api/status").json().get("move_error") == moved, 15)
        failed = TrayState(ProxyStatus("error", moved, f"http://127.0.0.1:{port}"), accounts_total=0)
        agent.menu(failed, "open_status", screenshot="tray-menu-port-move-failed.png")
        assert eventually(lambda: agent.loaded() and agent.loaded()[-1].get("auth") == "true", 40), agent.log()
        text = agent.loaded()[-1]["text"]
        assert agent.loaded()[-1]["origin"] == f"http://127.0.0.1:{port}"  # the window opened where it serves
        assert f"Running on http://127.0.0.1:{port} (previous config)" in text
        assert f"The proxy {moved}, so it keeps serving here with the previous config." in text
        screenshots_once_painted(desktop, "status-window-port-move-failed")
    agent.proc.terminate()
    assert agent.proc.wait(30) == 0, agent.log()
    assert "Gdk-CRITICAL" not in agent.said() and "Traceback" not in agent.said(), agent.said()
