"""The real tray under Xvfb + trayer, driven like a person would: right-click, arrow keys, Return.

Screenshots of the docked icon and the open menu are kept in test-artifacts/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gui.conftest import ARTIFACTS, SCREEN, Desktop
from tests.polling import eventually, pid_alive, port_open
from tests.serverproc import free_port, isolated_env, run_cli
from trayagent.agent.menu import ActionName, TrayState, menu_entries
from trayagent.supervision.proxystatus import ProxyStatus

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]

ICON = (SCREEN[0] - 17, 20)  # trayer sits top-right; the only icon docks at its right end


def keys_to(state: TrayState, action: ActionName) -> list[str]:
    """GTK menus skip disabled items and separators: count the enabled ones, from the pure menu builder."""
    enabled = [e.action for e in menu_entries(state) if e.action and e.enabled]
    return ["Down"] * (enabled.index(action) + 1) + ["Return"]


def docked_icon_colour(shot: Path) -> str:
    """The dominant tile colour around the icon's spot in a screenshot: blue (running), grey (stopped)."""
    from PIL import Image

    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        pixels = [rgb.getpixel((ICON[0] + dx, ICON[1] + dy)) for dx in range(-12, 13, 3) for dy in range(-12, 13, 3)]
    blue = sum(1 for r, g, b in pixels if b > r + 60 and b > 120)  # type: ignore[misc]
    grey = sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) < 12 and 90 < r < 200)  # type: ignore[misc]
    return "blue" if blue > len(pixels) // 3 else "grey" if grey > len(pixels) // 3 else "none"


class Agent:
    def __init__(self, desktop: Desktop, home: Path, *, config: str = "", env: dict[str, str] | None = None) -> None:
        self.desktop, self.home = desktop, home
        self.port = free_port()
        (home / "config.yaml").write_text(f"proxy:\n  port: {self.port}\n{config}")
        self.env = {**isolated_env(home), **desktop.env, **(env or {})}
        self.log_path = home / "agent.out"
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "trayagent", "--verbose"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def proxy_pid(self) -> int:
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    return int(child)
        raise AssertionError("no proxy child")

    def wait_running_icon(self) -> None:
        """The running (blue) icon is drawn at its place in trayer: docked, so a click there reaches it, and
        showing the state the agent reported."""
        shot = self.home / "docking.png"  # this agent's own file: not an artifact, and apart from other runs'

        def docked() -> bool:
            self.desktop.run("import", "-window", "root", str(shot))
            return docked_icon_colour(shot) == "blue"

        assert eventually(docked, 10, interval=0.2), self.output()

    def menu(self, state: TrayState, action: ActionName, screenshot: str | None = None) -> None:
        x, y = ICON
        assert eventually(lambda: not self.desktop.popup_menus(), 10), "the last menu is still open"
        self.desktop.run("xdotool", "mousemove", str(x), str(y), "click", "3")
        assert eventually(self.desktop.popup_menus, 10), f"no menu opened on the right-click\n{self.output()}"
        if screenshot:
            self.desktop.screenshot(screenshot)
        self.desktop.run("xdotool", "key", "--delay", "80", *keys_to(state, action))


@pytest.fixture
def agent(desktop: Desktop, home: Path) -> Iterator[Agent]:
    a = Agent(desktop, home)
    try:
        assert eventually(lambda: "tray icon up" in a.output() and port_open(a.port), 30), a.output()
        a.wait_running_icon()
        yield a
    finally:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait(10)


def test_copy_key_stop_and_quit_from_the_real_menu(agent: Agent) -> None:
    running = TrayState(
        ProxyStatus("running", address=f"http://127.0.0.1:{agent.port}"), accounts_total=0, accounts_available=0
    )
    stopped = TrayState(ProxyStatus("stopped"))
    proxy = agent.proxy_pid()
    agent.desktop.screenshot("tray-running.png")
    assert docked_icon_colour(ARTIFACTS / "tray-running.png") == "blue"  # the running icon is in the tray

    agent.menu(running, "copy_key", screenshot="tray-menu-running.png")
    key = json.loads((agent.home / "data" / "secrets.json").read_text())["api_key"]
    assert eventually(lambda: agent.desktop.run("xclip", "-o", "-selection", "clipboard").stdout == key, 10)

    agent.menu(running, "stop")
    assert eventually(lambda: not port_open(agent.port), 15), agent.output()
    assert eventually(lambda: not pid_alive(proxy), 15)  # the listener closes first, then the process exits

    def icon_is_grey() -> bool:
        agent.desktop.screenshot("tray-stopped.png")
        return docked_icon_colour(ARTIFACTS / "tray-stopped.png") == "grey"

    assert eventually(icon_is_grey, 10, interval=0.3)
    agent.menu(stopped, "quit", screenshot="tray-menu-stopped.png")
    assert agent.proc.wait(30) == 0, agent.output()
    assert not port_open(agent.port)
    assert "Traceback" not in agent.output()


def test_quit_while_running_stops_the_proxy_and_leaves_no_process(agent: Agent) -> None:
    proxy = agent.proxy_pid()
    running = TrayState(
        ProxyStatus("running", address=f"http://127.0.0.1:{agent.port}"), accounts_total=0, accounts_available=0
    )
    agent.menu(running, "quit")
    assert agent.proc.wait(30) == 0, agent.output()
    assert eventually(lambda: not pid_alive(proxy), 10)
    assert not port_open(agent.port)


def test_a_second_trayagent_says_so_and_exits(agent: Agent) -> None:
    second = run_cli(agent.env, timeout=30)
    assert second.returncode == 1
    assert f"trayagent is already running (the tray agent, pid {agent.proc.pid})" in second.stderr
    assert port_open(agent.port)  # the first one is untouched
    agent.proc.terminate()  # SIGTERM, as a session logout sends it: a clean stop
    assert agent.proc.wait(30) == 0, agent.output()
    assert not port_open(agent.port)
