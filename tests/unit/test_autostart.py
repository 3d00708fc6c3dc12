"""Start-at-login files generated into a temp HOME: validated, quoted right, pointing at this installation."""

from __future__ import annotations

import plistlib
import sys
from pathlib import Path

import pytest

from tests.desktopentry import needs_validator, validate
from trayagent.agent.autostart import (
    LaunchAgent,
    LaunchCommand,
    XdgAutostart,
    for_platform,
    launch_command,
    render_desktop_entry,
    windows_command_line,
)


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A virtualenv-like bin/ whose python is a symlink to the real interpreter."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    return bin_dir


def test_prefers_the_installed_script_beside_the_interpreter(venv: Path) -> None:
    (venv / "trayagent").write_text("#!/bin/sh\n")
    command = launch_command(str(venv / "python"), environ={}, platform="linux")
    assert command == LaunchCommand((str(venv / "trayagent"),), {})


def test_falls_back_to_python_m_without_leaving_the_venv(venv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(venv)
    command = launch_command("./python", environ={"TRAYAGENT_HOME": "/data/ta"}, platform="linux")
    # abspath, not resolve(): the symlink's own path, so the venv (and trayagent in it) is kept.
    assert command.argv == (str(venv / "python"), "-m", "trayagent")
    assert Path(command.argv[0]).resolve() != Path(command.argv[0])
    assert command.env == {"TRAYAGENT_HOME": "/data/ta"}


def test_a_config_override_is_kept(venv: Path) -> None:
    command = launch_command(str(venv / "python"), environ={}, platform="linux", config_override=Path("/c/x.yaml"))
    assert command.argv[-2:] == ("--config", "/c/x.yaml")


@needs_validator
def test_xdg_entry_enable_status_disable(tmp_path: Path) -> None:
    entry = XdgAutostart(tmp_path / ".config", Path("/opt/trayagent/icon.png"))
    assert not entry.is_enabled()
    entry.enable(LaunchCommand(("/opt/venv/bin/trayagent",)))
    assert entry.is_enabled() and entry.path == tmp_path / ".config" / "autostart" / "trayagent.desktop"
    validate(entry.path)
    text = entry.path.read_text()
    for line in (
        "Type=Application",
        "Exec=/opt/venv/bin/trayagent",
        "Icon=/opt/trayagent/icon.png",
        "Terminal=false",
        "X-GNOME-Autostart-enabled=true",
        "X-GNOME-Autostart-Delay=5",
    ):
        assert line in text.splitlines()
    entry.disable()
    assert not entry.is_enabled() and not entry.path.exists()
    entry.disable()  # twice is fine


@needs_validator
def test_exec_quoting_of_awkward_paths(tmp_path: Path) -> None:
    command = LaunchCommand(
        ("/home/me/My Apps/venv/bin/python", "-m", "trayagent", "--config", '/home/me/100% "cfg"/$x.yaml'),
        {"TRAYAGENT_HOME": "/home/me/ta home"},
    )
    path = tmp_path / "trayagent.desktop"
    path.write_text(render_desktop_entry(command, Path("/i.png")))
    validate(path)
    (exec_line,) = [line for line in path.read_text().splitlines() if line.startswith("Exec=")]
    assert exec_line == (
        'Exec=env "TRAYAGENT_HOME=/home/me/ta home" "/home/me/My Apps/venv/bin/python" -m trayagent --config '
        '"/home/me/100%% \\\\"cfg\\\\"/\\\\$x.yaml"'
    )


def test_launch_agent_plist(tmp_path: Path) -> None:
    agent = LaunchAgent(tmp_path, tmp_path / "log.txt")
    agent.enable(LaunchCommand(("/Applications/venv/bin/trayagent",), {"TRAYAGENT_HOME": "/x"}))
    assert agent.path == tmp_path / "Library" / "LaunchAgents" / "org.trayagent.agent.plist"
    data = plistlib.loads(agent.path.read_bytes())
    assert data["ProgramArguments"] == ["/Applications/venv/bin/trayagent"]
    assert data["RunAtLoad"] is True and data["KeepAlive"] == {"SuccessfulExit": False}
    assert data["EnvironmentVariables"] == {"TRAYAGENT_HOME": "/x"}
    assert agent.is_enabled()
    agent.disable()
    assert not agent.is_enabled()


def test_windows_run_key_command_line() -> None:
    command = launch_command(r"C:\Users\Me Too\venv\Scripts\python.exe", environ={}, platform="win32")
    # pythonw.exe does not exist on this machine, so python.exe is kept; the path is quoted for the Run key.
    assert windows_command_line(command) == r'"C:\Users\Me Too\venv\Scripts\python.exe" -m trayagent'


def test_platform_choice(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    linux = for_platform(Path("/i.png"), tmp_path / "l", platform="linux", environ=env)
    assert linux.location == str(tmp_path / "cfg" / "autostart" / "trayagent.desktop")
    mac = for_platform(Path("/i.png"), tmp_path / "l", platform="darwin", environ=env)
    assert mac.location.endswith("Library/LaunchAgents/org.trayagent.agent.plist")
    assert "CurrentVersion\\Run" in for_platform(Path("/i.png"), tmp_path, platform="win32", environ=env).location
