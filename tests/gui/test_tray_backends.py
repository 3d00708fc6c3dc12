"""The tray on the backends a user may end up with, under Xvfb + trayer (an XEmbed tray, no StatusNotifierItem host).

- Without PyGObject (the `linux-gui` extra), pystray falls back to plain X11: the icon must dock, a click on it
  must open the status page in the browser, signed in, and SIGTERM must quit cleanly.
- With PyGObject, hovering the icon shows the tooltip (the GTK status icon; AppIndicator's own XEmbed
  fallback has none).

`tests/fakes/nogi` first on PYTHONPATH makes `gi` unimportable in the agent and its children. Screenshots go
to test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gui.conftest import ARTIFACTS, Desktop
from tests.gui.test_tray_gui import ICON, Agent, docked_icon_colour
from tests.polling import eventually, port_open
from tests.serverproc import REPO, http

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]

NO_GI = REPO / "tests" / "fakes" / "nogi"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def x_text(desktop: Desktop, *args: str) -> str:
    """What an X tool prints: window names come in Latin-1 (STRING) there."""
    done = subprocess.run(args, env={**os.environ, **desktop.env}, capture_output=True, timeout=10)
    return done.stdout.decode("latin-1")


def toplevel_windows(desktop: Desktop) -> list[str]:
    lines = desktop.run("xwininfo", "-root", "-children").stdout.splitlines()
    return [line.split()[0] for line in lines if line.strip().startswith("0x")]


def tooltip_window(desktop: Desktop) -> str | None:
    """A mapped window of type TOOLTIP (GTK's tooltip popup), or None."""
    for window in toplevel_windows(desktop):
        kind = desktop.run("xprop", "-id", window, "_NET_WM_WINDOW_TYPE").stdout
        if "_NET_WM_WINDOW_TYPE_TOOLTIP" in kind and "IsViewable" in desktop.run("xwininfo", "-id", window).stdout:
            return window
    return None


def icon_window(desktop: Desktop, name_start: str) -> str | None:
    for line in x_text(desktop, "xwininfo", "-root", "-tree").splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[1].startswith(f'"{name_start}'):
            return parts[0]
    return None


@pytest.fixture
def stopping() -> Iterator[list[Agent]]:
    agents: list[Agent] = []
    yield agents
    for agent in agents:
        if agent.proc.poll() is None:
            agent.proc.kill()
            agent.proc.wait(10)


def with_stacks(agent: Agent) -> str:
    """The output of an agent that hangs, ended by SIGABRT so that PYTHONFAULTHANDLER adds its threads' stacks."""
    agent.proc.send_signal(signal.SIGABRT)
    agent.proc.wait(10)
    return agent.output()


def exit_code(agent: Agent, timeout: float = 30) -> int:
    """The agent's exit code; if it hangs, its threads' stacks are in the failure."""
    try:
        return agent.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the agent did not exit within {timeout:g} s of SIGTERM:\n{with_stacks(agent)}")


def test_without_pygobject_the_icon_docks_and_a_click_opens_the_page_in_the_browser(
    desktop: Desktop, home: Path, stopping: list[Agent]
) -> None:
    browsed = home / "browsed.txt"
    env = {
        "PYTHONPATH": f"{NO_GI}:{REPO}",
        "BROWSER": f"{sys.executable} -m tests.fakes.browser %s",
        "FAKE_BROWSER_MODE": "ignore",  # it only records the link; Chromium below opens it
        "FAKE_BROWSER_LOG": str(browsed),
    }
    agent = Agent(desktop, home, env={**env, "PYTHONFAULTHANDLER": "1"})
    stopping.append(agent)
    # Once in CI (of dozens of runs) the icon never came up in 30 s: should it hang again, the stacks say where.
    assert eventually(lambda: "tray icon up (xorg backend)" in agent.output() and port_open(agent.port), 30), (
        with_stacks(agent)
    )
    assert "the xorg tray backend has no menu: a click on the icon opens the status page" in agent.output()

    # The X11 window name is Latin-1: the em dash of the tooltip text is written as a hyphen.
    window = eventually(lambda: icon_window(desktop, "trayagent - http://127.0.0.1"), 10)
    assert window, x_text(desktop, "xwininfo", "-root", "-tree")
    name = x_text(desktop, "xprop", "-id", window, "WM_NAME")
    assert f'"trayagent - http://127.0.0.1:{agent.port}' in name, name

    def docked() -> bool:
        desktop.screenshot("tray-xorg.png")
        return docked_icon_colour(ARTIFACTS / "tray-xorg.png") == "blue"

    assert eventually(docked, 10, interval=0.3)

    desktop.run("xdotool", "mousemove", str(ICON[0]), str(ICON[1]), "click", "1")
    assert eventually(lambda: browsed.exists() and browsed.read_text().strip(), 30), agent.output()
    (link,) = browsed.read_text().split()
    assert link.startswith(f"http://127.0.0.1:{agent.port}/ui/login?ticket=") and "sk-" not in link
    assert "the status window could not open: PyGObject with GTK 3 is not installed" in agent.output()
    assert http(agent.port, "GET", "/api/status").json()["tray"] == {"menu": False}

    if CHROMIUM is not None:  # the link really opens the page, signed in (what the user's browser shows)
        shoot_page(link)

    agent.proc.terminate()
    assert exit_code(agent) == 0, agent.output()
    assert not port_open(agent.port)
    assert "Traceback" not in agent.output(), agent.output()


def shoot_page(link: str) -> None:
    playwright_api: Any = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 800, "height": 640}, bypass_csp=True)
            page.goto(link)
            page.wait_for_function("document.body.dataset.authenticated === 'true'", timeout=15000)
            assert "Running on http://127.0.0.1" in page.text_content("#state-line")
            page.wait_for_function("!document.getElementById('supervisor-note').hidden")
            note = page.text_content("#supervisor-note")
            assert note.startswith("The tray icon has no menu here") and "tray icon's menu" not in note, note
            page.screenshot(path=str(ARTIFACTS / "tray-xorg-status-page.png"))
        finally:
            browser.close()


def test_hovering_the_icon_shows_the_tooltip(desktop: Desktop, home: Path, stopping: list[Agent]) -> None:
    agent = Agent(desktop, home, env={"PYTHONFAULTHANDLER": "1"})
    stopping.append(agent)
    assert eventually(lambda: "tray icon up" in agent.output() and port_open(agent.port), 30), agent.output()
    # No StatusNotifierItem host here, only an XEmbed tray: the GTK status icon, which has a tooltip.
    assert "tray icon up (gtk backend)" in agent.output(), agent.output()
    assert http(agent.port, "GET", "/api/status").json()["tray"] == {"menu": True}  # the page says "menu"
    assert eventually(lambda: icon_window(desktop, "trayagent"), 10)

    def hovered() -> str | None:
        desktop.run("xdotool", "mousemove", "400", "400")
        desktop.run("xdotool", "mousemove", str(ICON[0]), str(ICON[1]))
        desktop.run("xdotool", "mousemove", str(ICON[0] + 1), str(ICON[1] + 1))
        # GTK maps its tooltip some 500 ms after the pointer stops: watch for it, then hover again if none came.
        return eventually(lambda: tooltip_window(desktop), 2, interval=0.1)

    tip = eventually(hovered, 20, interval=0.2)
    desktop.screenshot("tray-tooltip.png")
    assert tip, "no tooltip window appeared over the icon"
    geometry = desktop.run("xwininfo", "-id", tip).stdout
    top = int(next(line for line in geometry.splitlines() if "Absolute upper-left Y" in line).split(":")[1])
    assert 30 <= top <= 120, geometry  # just under the panel, by the icon
    agent.proc.terminate()
    assert exit_code(agent) == 0, agent.output()
