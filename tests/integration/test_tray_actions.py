"""Every tray menu action, clicked on the `dummy` pystray backend, against a real agent and proxy child."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.polling import eventually, pid_alive, port_open
from tests.serverproc import free_port, http
from trayagent.paths import Paths
from trayagent.supervision.service import ProxyService
from trayagent.supervision.watcher import read_snapshot
from trayagent.window.statuswindow import NotServing
from trayagent.window.uilink import ProxyEndpoint

pytestmark = pytest.mark.timeout(60)

FAKE_XDG_OPEN = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/opened.txt"
"""


class Harness:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
        monkeypatch.setenv("HOME", str(tmp_path / "user"))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user" / ".config"))
        monkeypatch.delenv("DISPLAY", raising=False)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        bin_dir = tmp_path / "bin"  # a recording xdg-open, found first on PATH
        bin_dir.mkdir()
        (bin_dir / "xdg-open").write_text(FAKE_XDG_OPEN)
        (bin_dir / "xdg-open").chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        self.opened = bin_dir / "opened.txt"

        from trayagent.agent.agent import TrayAgent
        from trayagent.agent.tray import TrayIcon

        self.port = free_port()
        self.paths = Paths(config_file=tmp_path / "home" / "config.yaml", data_dir=tmp_path / "home" / "data")
        self.paths.config_file.parent.mkdir()
        self.paths.data_dir.mkdir(mode=0o700)
        self.paths.config_file.write_text(f"proxy:\n  port: {self.port}\n")
        self.service = ProxyService(self.paths, read_snapshot(self.paths.config_file), test_routes=True)
        self.agent = TrayAgent(self.paths, self.service)
        self.tray = TrayIcon(self.agent.state(), self.agent.actions())
        self.agent.attach(self.tray)
        self.agent.begin()

    def items(self) -> dict[str, Any]:
        return {str(i.text): i for i in self.tray.icon.menu.items if i.text}

    def click(self, prefix: str) -> None:
        (item,) = [i for text, i in self.items().items() if text.startswith(prefix)]
        assert item.enabled, f"{prefix} is disabled"
        item(self.tray.icon)

    def labels(self) -> list[str]:
        return list(self.items())

    def enabled(self, text: str) -> bool:
        return bool(self.items()[text].enabled)


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    h = Harness(tmp_path, monkeypatch)
    assert eventually(lambda: h.labels()[0].startswith("Running"), 20), h.labels()
    yield h
    h.agent.close()


def test_start_stop_restart(harness: Harness) -> None:
    h = harness
    assert h.labels()[0] == f"Running on http://127.0.0.1:{h.port}"
    assert not h.enabled("Start proxy") and h.enabled("Stop proxy")
    assert eventually(lambda: "0 accounts (0 available)" in h.tray.icon.title, 15), (
        h.tray.icon.title
    )  # from /api/status
    first = h.service.state.proxy.pid

    h.click("Stop proxy")
    assert eventually(lambda: h.labels()[0] == "Stopped", 15)
    assert not port_open(h.port) and first is not None and not pid_alive(first)
    assert h.enabled("Start proxy") and not h.enabled("Stop proxy") and not h.enabled("Restart")
    assert h.tray.icon.title == "trayagent — stopped"

    h.click("Start proxy")
    assert eventually(lambda: h.labels()[0].startswith("Running"), 15)
    second = h.service.state.proxy.pid
    h.click("Restart")
    assert eventually(lambda: h.service.state.proxy.state == "running" and h.service.state.proxy.pid != second, 15)
    assert http(h.port, "GET", "/healthz").status == 200


def test_copy_api_key_without_a_clipboard_shows_it_in_the_menu(harness: Harness) -> None:
    harness.click("Copy API key")
    key = json.loads((harness.paths.data_dir / "secrets.json").read_text())["api_key"]
    assert eventually(lambda: f"API key: {key}" in harness.labels(), 10), harness.labels()


def test_open_config_file_and_folder(harness: Harness) -> None:
    harness.click("Open config file")
    harness.click("Open config folder")
    expected = [str(harness.paths.config_file), str(harness.paths.config_file.parent)]
    # Two launches run side by side: their lines may land in either order.
    assert eventually(
        lambda: harness.opened.exists() and sorted(harness.opened.read_text().split()) == sorted(expected), 10
    )


def test_start_at_login_checkbox(harness: Harness, tmp_path: Path) -> None:
    desktop = tmp_path / "user" / ".config" / "autostart" / "trayagent.desktop"
    assert harness.items()["Start at login"].checked is False
    harness.click("Start at login")
    assert eventually(lambda: harness.items()["Start at login"].checked is True, 10)
    assert "X-GNOME-Autostart-Delay=5" in desktop.read_text()
    harness.click("Start at login")
    assert eventually(lambda: harness.items()["Start at login"].checked is False, 10)
    assert not desktop.exists()


def read_on(labels: list[str]) -> str:
    """Menu lines wrapped onto several items, read as one text."""
    return " ".join(label.strip() for label in labels)


def test_a_bad_save_shows_in_menu_tooltip_and_icon(harness: Harness) -> None:
    harness.paths.config_file.write_text(f"proxy:\n  port: {harness.port}\n  cors: sometimes\n")
    assert eventually(lambda: "config.yaml has an error" in read_on(harness.labels()), 10), harness.labels()
    assert 'config.yaml has an error: proxy.cors (line 3): expected true or false, got "sometimes". ' in read_on(
        harness.labels()
    )
    assert "The proxy keeps the previous config until the file is valid." in harness.labels()
    assert "config error" in harness.tray.icon.title
    from trayagent.agent.tray import icon_state

    assert icon_state(harness.agent.state()) == "error"
    # The proxy kept running on the last good config.
    assert harness.labels()[0] == f"Running on http://127.0.0.1:{harness.port} (previous config)"
    assert http(harness.port, "GET", "/api/status").json()["config_error"].endswith('got "sometimes"')


def test_quit_stops_the_proxy_and_frees_the_port(harness: Harness) -> None:
    pid = harness.service.state.proxy.pid
    harness.click("Quit")
    assert eventually(lambda: not port_open(harness.port), 15)
    assert pid is not None and eventually(lambda: not pid_alive(pid), 10)
    # The supervisor's thread publishes the state just after it reaps the child.
    assert eventually(lambda: harness.service.state.proxy.state == "stopped", 10), harness.service.state.proxy


def test_an_agent_started_on_an_invalid_file_waits_for_a_good_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    from trayagent.agent.agent import TrayAgent
    from trayagent.agent.tray import TrayIcon
    from trayagent.errors import ConfigError

    port = free_port()
    paths = Paths(config_file=tmp_path / "config.yaml", data_dir=tmp_path / "data")
    paths.data_dir.mkdir(mode=0o700)
    paths.config_file.write_text(f"proxy:\n  port: {port}\n  auth_mode: sometimes\n")
    with pytest.raises(ConfigError) as invalid:
        read_snapshot(paths.config_file)
    agent = TrayAgent(paths, ProxyService(paths, invalid.value))
    tray = TrayIcon(agent.state(), agent.actions())
    agent.attach(tray)
    agent.begin()
    try:
        items = {str(i.text): i for i in tray.icon.menu.items if i.text}
        labels = list(items)
        assert labels[0] == "Not running: config.yaml is invalid"
        assert read_on(labels[1:4]).startswith(
            "config.yaml has an error: proxy.auth_mode (line 3): expected one of off, strict"
        )
        assert "Fix the file and save it: the proxy starts by itself." in read_on(labels)
        assert not items["Start proxy (fix config.yaml first)"].enabled and not items["Restart"].enabled
        # What the status window shows meanwhile: the same words, and where the file is.
        note = agent._ui_endpoint()
        assert isinstance(note, NotServing) and note.problem and note.title == "The proxy is not running"
        assert note.lines[-1] == f"The file: {paths.config_file}"
        assert not port_open(port)
        assert agent.service.watch().ready.wait(10)
        paths.config_file.write_text(f"proxy:\n  port: {port}\n  auth_mode: strict\n")
        assert eventually(lambda: port_open(port), 15)
        assert eventually(lambda: str(tray.icon.menu.items[0].text).startswith("Running"), 10)
        assert http(port, "GET", "/healthz").status == 401  # the good file's settings are the ones in force
    finally:
        agent.close()


def test_a_failed_port_move_shows_in_full_and_restart_tries_again(harness: Harness) -> None:
    h = harness
    assert eventually(lambda: "0 accounts (0 available)" in h.labels(), 15), h.labels()
    with socket.socket() as other:  # another program holds the new port
        other.bind(("127.0.0.1", 0))
        other.listen()
        busy = other.getsockname()[1]
        h.paths.config_file.write_text(f"proxy:\n  port: {busy}\n")
        moved = f"could not move to http://127.0.0.1:{busy}: port {busy} is already in use on 127.0.0.1"
        assert eventually(lambda: h.labels()[0].endswith("(previous config)"), 20), h.labels()
        assert h.labels()[:2] == [f"Running on http://127.0.0.1:{h.port} (previous config)", "0 accounts (0 available)"]
        assert read_on(h.labels()[2:]).startswith(
            f"C{moved[1:]}. Free that port, then choose Restart (or save config.yaml again) to move."
        )
        assert http(h.port, "GET", "/api/status").json()["move_error"] == moved
        # The poll and the window keep to the port that really serves, not the one the file names.
        assert h.service.state.config.proxy.port == h.port
        assert h.agent._ui_endpoint() == ProxyEndpoint(h.port, h.agent._ui_endpoint().api_key)  # type: ignore[union-attr]
        assert h.enabled("Restart") and h.enabled("Stop proxy")
    h.click("Restart")  # the port is free now: Restart moves the proxy there
    assert eventually(lambda: h.labels()[0] == f"Running on http://127.0.0.1:{busy}", 20), h.labels()
    assert http(busy, "GET", "/api/status").json()["move_error"] is None
    assert eventually(lambda: not port_open(h.port), 10)
