"""A virtual desktop for GUI tests: Xvfb, a private D-Bus session bus and `trayer` as the system tray.

Each tool is required; when one is missing the GUI tests skip and say which (`scripts/bootstrap test`
installs them on Debian). No test here depends on a notification daemon or a keyring.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.polling import eventually
from tests.serverproc import REPO

TOOLS = ("Xvfb", "trayer", "xdotool", "xclip", "import", "xwininfo", "dbus-daemon")
SCREEN = (800, 720)  # tall enough for the 420×640 status window under trayer's 40 px
ARTIFACTS = REPO / "test-artifacts"


@dataclass(frozen=True)
class Desktop:
    env: dict[str, str]  # DISPLAY and DBUS_SESSION_BUS_ADDRESS for programs on this desktop

    def run(self, *args: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, env={**os.environ, **self.env}, capture_output=True, text=True, timeout=timeout)

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.run("import", "-window", "root", str(ARTIFACTS / name))

    def popup_menus(self) -> list[int]:
        """The popup menus mapped on this display now: override-redirect top-level windows that GTK typed
        _NET_WM_WINDOW_TYPE_POPUP_MENU (a tooltip is typed TOOLTIP). GTK maps one and grabs the keyboard in the
        same call, so once it is mapped, keys reach it."""
        from Xlib import X, display
        from Xlib.error import XError

        screen = display.Display(self.env["DISPLAY"])
        try:
            kind = screen.intern_atom("_NET_WM_WINDOW_TYPE")
            menu = screen.intern_atom("_NET_WM_WINDOW_TYPE_POPUP_MENU")
            found = []
            for window in screen.screen().root.query_tree().children:
                try:
                    attributes = window.get_attributes()
                    if not attributes.override_redirect or attributes.map_state != X.IsViewable:
                        continue
                    types = window.get_full_property(kind, X.AnyPropertyType)
                except XError:  # destroyed since the tree was read
                    continue
                if types is not None and menu in types.value:
                    found.append(window.id)
            return found
        finally:
            screen.close()


def _missing() -> str | None:
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if absent:
        return f"GUI test tools not installed: {', '.join(absent)} (scripts/bootstrap test installs them)"
    probe = subprocess.run(
        [sys.executable, "-c", "import gi; gi.require_version('Gtk', '3.0')"], capture_output=True, timeout=30
    )
    if probe.returncode != 0:
        return "PyGObject with GTK 3 is not installed (pip install -e '.[linux-gui]'; gir1.2-gtk-3.0)"
    return None


@pytest.fixture(scope="session")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        pass_fds=[write_fd],
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    started: list[subprocess.Popen[bytes]] = []
    bus_pid: int | None = None
    try:
        # Xvfb may write the number and the newline separately; closing the pipe before the newline
        # arrives makes its second write fail, and Xvfb exits ("Cannot write display number").
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = os.read(read_fd, 16)
            assert chunk, "Xvfb exited before it chose a display"
            answer += chunk
        os.close(read_fd)
        display = answer.decode().strip()
        env = {"DISPLAY": f":{display}", "NO_AT_BRIDGE": "1"}  # no accessibility bus to leave behind
        bus = subprocess.run(
            ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        address, pid = bus.stdout.split()
        bus_pid = int(pid)
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        trayer_log = tmp_path_factory.mktemp("trayer") / "stderr.txt"
        with trayer_log.open("wb") as log:
            trayer = subprocess.Popen(
                ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "200"]
                + ["--height", "40", "--transparent", "false"],
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        started.append(trayer)
        desk = Desktop(env)
        # 20 s: once, in a full parallel run, its panel had not appeared after 10 (cause unknown; the message
        # below says whether it had exited and what it said).
        up = eventually(
            lambda: trayer.poll() is not None or "panel" in desk.run("xwininfo", "-root", "-children").stdout,
            timeout=20.0,
            interval=0.1,
        )
        exited = trayer.poll()
        state = "no panel window" if exited is None else f"exited with {exited}"
        said = trayer_log.read_text(errors="replace").strip()[-500:] or "(nothing)"
        assert up and exited is None, f"trayer did not come up ({state}); on stderr it said: {said}"
        yield desk
    finally:
        for proc in started:
            proc.terminate()
            proc.wait(10)
        if bus_pid is not None:
            os.kill(bus_pid, 15)
        xvfb.terminate()
        xvfb.wait(10)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a GUI test (the tray and window under Xvfb, the status page in Chromium), so
    `-m gui` selects them all and `-m "not gui"` none of them, whichever file they are in."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's build, driven by Playwright: no browser download) for the status page tests."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/bootstrap test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()
