"""Start at login: an XDG autostart entry (Linux), a LaunchAgent (macOS), the HKCU Run key (Windows).

`trayagent autostart enable|disable|status` and the tray's "Start at login" checkbox share this module.
The command recorded is the installed `trayagent` script beside the running interpreter, else
`python -m trayagent`, with `abspath(sys.executable)` — never `resolve()`, which would step out of a
virtualenv to the base interpreter, where trayagent is not installed.
"""

from __future__ import annotations

import ntpath
import os
import plistlib
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from trayagent.files.atomicfile import write_atomic

APP_NAME = "trayagent"
LAUNCH_AGENT_LABEL = "org.trayagent.agent"
START_DELAY_S = 5  # lets the desktop's panel come up first: an icon with no tray yet cannot dock
# Characters that force quoting in a desktop entry's Exec key (Desktop Entry Specification, "Exec").
_EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


@dataclass(frozen=True, slots=True)
class LaunchCommand:
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)  # e.g. TRAYAGENT_HOME, when the agent runs with one


def launch_command(
    executable: str = sys.executable,
    environ: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    config_override: Path | None = None,
) -> LaunchCommand:
    """How to start this installation of the tray agent at login."""
    environ = os.environ if environ is None else environ
    if platform == "win32":
        python_exe = ntpath.abspath(executable)
        pythonw = ntpath.join(ntpath.dirname(python_exe), "pythonw.exe")  # no console window at login
        argv = [pythonw if os.path.exists(pythonw) else python_exe, "-m", APP_NAME]
        return _with_options(argv, environ, config_override)
    python = Path(os.path.abspath(executable))
    if (python.parent / APP_NAME).exists():
        argv = [str(python.parent / APP_NAME)]
    else:
        argv = [str(python), "-m", APP_NAME]
    return _with_options(argv, environ, config_override)


def _with_options(argv: list[str], environ: Mapping[str, str], config_override: Path | None) -> LaunchCommand:
    if config_override is not None:
        argv += ["--config", str(config_override)]
    env = {"TRAYAGENT_HOME": environ["TRAYAGENT_HOME"]} if environ.get("TRAYAGENT_HOME") else {}
    return LaunchCommand(tuple(argv), env)


class Autostart(Protocol):
    @property
    def location(self) -> str: ...

    def is_enabled(self) -> bool: ...

    def enable(self, command: LaunchCommand) -> None: ...

    def disable(self) -> None: ...


# -- Linux and other XDG desktops ----------------------------------------------------------------------


def _exec_arg(arg: str) -> str:
    arg = arg.replace("%", "%%")  # % starts a field code
    if any(c in _EXEC_RESERVED for c in arg):
        arg = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return arg.replace("\\", "\\\\")  # the string-value escape applies on top of the Exec quoting


def render_desktop_entry(command: LaunchCommand, icon: Path) -> str:
    argv = list(command.argv)
    if command.env:
        argv = ["env", *(f"{k}={v}" for k, v in sorted(command.env.items())), *argv]
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            f"Name={APP_NAME}",
            "Comment=Local AI gateway for OpenAI, Anthropic and Gemini clients, in the system tray",
            f"Exec={' '.join(_exec_arg(a) for a in argv)}",
            f"Icon={icon}",
            "Terminal=false",
            "StartupNotify=false",
            "X-GNOME-Autostart-enabled=true",
            f"X-GNOME-Autostart-Delay={START_DELAY_S}",
            "",
        ]
    )


class XdgAutostart:
    def __init__(self, config_home: Path, icon: Path) -> None:
        self.path = config_home / "autostart" / f"{APP_NAME}.desktop"
        self.icon = icon

    @property
    def location(self) -> str:
        return str(self.path)

    def is_enabled(self) -> bool:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return False
        lines = {line.strip() for line in text.splitlines()}
        return "Hidden=true" not in lines and "X-GNOME-Autostart-enabled=false" not in lines

    def enable(self, command: LaunchCommand) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, render_desktop_entry(command, self.icon).encode("utf-8"), mode=0o644)

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)


# -- macOS ---------------------------------------------------------------------------------------------


def render_launch_agent(command: LaunchCommand, log_path: Path) -> bytes:
    plist: dict[str, object] = {
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": list(command.argv),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},  # Quit stays quit; a crash comes back
        "ProcessType": "Interactive",
        "StandardErrorPath": str(log_path),
    }
    if command.env:
        plist["EnvironmentVariables"] = dict(command.env)
    return plistlib.dumps(plist)


class LaunchAgent:
    def __init__(self, home: Path, log_path: Path) -> None:
        self.path = home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
        self.log_path = log_path

    @property
    def location(self) -> str:
        return str(self.path)

    def is_enabled(self) -> bool:
        return self.path.is_file()

    def enable(self, command: LaunchCommand) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, render_launch_agent(command, self.log_path), mode=0o644)

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)


# -- Windows -------------------------------------------------------------------------------------------

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


def windows_command_line(command: LaunchCommand) -> str:
    # The Run key takes one command line; it cannot set environment variables, so TRAYAGENT_HOME is
    # not carried over there (the default per-user folders apply at login).
    return subprocess.list2cmdline(command.argv)


class WindowsRunKey:
    """Not exercised on Linux CI: winreg exists only on Windows (the platform checks keep mypy honest)."""

    @property
    def location(self) -> str:
        return f"HKEY_CURRENT_USER\\{RUN_KEY} (value '{APP_NAME}')"

    def is_enabled(self) -> bool:
        if sys.platform == "win32":
            import winreg

            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                    winreg.QueryValueEx(key, APP_NAME)
            except OSError:
                return False
            return True
        return False

    def enable(self, command: LaunchCommand) -> None:
        if sys.platform == "win32":
            import winreg

            with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.SetValueEx(key, APP_NAME, 0, winreg.REG_SZ, windows_command_line(command))

    def disable(self) -> None:
        if sys.platform == "win32":
            import winreg

            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                    winreg.DeleteValue(key, APP_NAME)
            except FileNotFoundError:
                pass


def for_platform(
    icon: Path, log_path: Path, platform: str = sys.platform, environ: Mapping[str, str] | None = None
) -> Autostart:
    environ = os.environ if environ is None else environ
    home = Path(environ.get("HOME") or Path.home())
    if platform == "win32":
        return WindowsRunKey()
    if platform == "darwin":
        return LaunchAgent(home, log_path)
    config_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    return XdgAutostart(config_home, icon)


def describe(autostart: Autostart) -> str:
    state = "enabled" if autostart.is_enabled() else "disabled"
    return f"start at login: {state} ({autostart.location})"
