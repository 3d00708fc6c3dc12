"""The tray menu and tooltip as data: pure functions of the agent's state, tested without any GUI.

`tray.py` turns the entries into pystray items; each entry names its action, and the agent maps the
names to callbacks that never block the GUI thread. When something is wrong the menu says what and what
happens next, in full: long lines wrap onto further (disabled) lines at word boundaries, never cut.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from trayagent.supervision.proxystatus import ProxyStatus

ActionName = Literal[
    "open_status",
    "add_account",
    "start",
    "stop",
    "restart",
    "copy_key",
    "open_config",
    "open_folder",
    "toggle_autostart",
    "quit",
]
WRAP_AT = 60  # a menu line longer than this goes on over further lines (GTK menus do not wrap labels)
WRAP_INDENT = "    "
TOOLTIP_MAX = 127  # Windows truncates tray tooltips at 128 characters


@dataclass(frozen=True, slots=True)
class TrayState:
    proxy: ProxyStatus
    config_error: str | None = None
    config_path: Path | None = None
    autostart: bool = False
    accounts_total: int | None = None  # from the proxy's /api/status; None until it answered
    accounts_available: int | None = None
    revealed_key: str | None = None  # shown in the menu when neither clipboard nor notification took it
    has_config: bool = True  # False: no valid config.yaml was ever read, so the proxy cannot start yet

    @property
    def move_error(self) -> str | None:
        """The proxy could not move to the file's new address and still serves the old one: why."""
        return self.proxy.reason if self.proxy.state == "error" and self.proxy.address else None


@dataclass(frozen=True, slots=True)
class MenuEntry:
    text: str
    action: ActionName | None = None  # None: an information line
    enabled: bool = True
    checked: bool | None = None  # None: not a checkbox
    separator: bool = False
    default: bool = False  # what a left click on the icon does (backends without a menu: all a click does)


SEPARATOR = MenuEntry("", separator=True)


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def wrap(text: str, width: int = WRAP_AT) -> list[str]:
    """`text` as menu lines: whole words (a long path or URL stays whole), the lines after the first indented."""
    lines = textwrap.wrap(
        " ".join(text.split()), width, subsequent_indent=WRAP_INDENT, break_long_words=False, break_on_hyphens=False
    )
    return lines or [""]


def _sentence(text: str) -> str:
    text = text.strip()
    return _period(text[:1].upper() + text[1:])


def _period(text: str) -> str:
    return text if text.endswith((".", "…", "?", "!")) else text + "."


def _file(state: TrayState) -> str:
    return state.config_path.name if state.config_path else "config.yaml"


def status_line(state: TrayState) -> str:
    """The menu's first line: the proxy's state in a few words (the details follow on their own lines)."""
    proxy = state.proxy
    if proxy.address is not None and proxy.state in ("running", "error"):
        previous = " (previous config)" if state.config_error or state.move_error else ""
        return f"Running on {proxy.address}{previous}"
    if not state.has_config:
        return f"Not running: {_file(state)} is invalid"
    if proxy.state == "starting":
        short = proxy.reason and len(proxy.reason) <= WRAP_AT
        return proxy.reason[0].upper() + proxy.reason[1:] if proxy.reason and short else "Starting…"
    if proxy.state == "stopped":
        return "Stopped"
    return "Not running"


def problem_lines(state: TrayState) -> list[str]:
    """What is wrong and what happens next, as sentences (each wrapped by the menu, shown whole by the window)."""
    proxy, lines = state.proxy, []
    if state.move_error:
        lines.append(_sentence(state.move_error))
        lines.append(f"Free that port, then choose Restart (or save {_file(state)} again) to move.")
    elif proxy.state == "error" and proxy.reason and state.has_config:
        lines.append(_sentence(proxy.reason))
    elif proxy.state == "starting" and proxy.reason and len(proxy.reason) > WRAP_AT:
        lines.append(_sentence(proxy.reason))  # a restart after a crash says why; the status line is short
    if state.config_error:
        lines.append(f"{_file(state)} has an error: {_period(state.config_error.strip())}")
        if state.has_config and proxy.serving:
            lines.append("The proxy keeps the previous config until the file is valid.")
        elif state.has_config:
            lines.append("Start proxy uses the previous config; fix the file to use it.")
        else:
            lines.append("Fix the file and save it: the proxy starts by itself.")
    return lines


def _accounts(state: TrayState) -> str | None:
    if state.accounts_total is None:
        return None
    noun = "account" if state.accounts_total == 1 else "accounts"
    return f"{state.accounts_total} {noun} ({state.accounts_available or 0} available)"


def tooltip(state: TrayState) -> str:
    proxy = state.proxy
    if proxy.state == "running":
        parts = [f"trayagent — {proxy.address}"]
    elif state.move_error:
        parts = [f"trayagent — {proxy.address} (could not move)"]
    elif proxy.state == "error":
        parts = [f"trayagent — error: {proxy.reason or 'unknown'}"]
    else:
        parts = [f"trayagent — {proxy.state}"]
    accounts = _accounts(state)
    if accounts and proxy.address:
        parts.append(accounts)
    if state.config_error:
        parts.append(f"config error: {state.config_error}")
    return _cut(" · ".join(parts), TOOLTIP_MAX)


def menu_entries(state: TrayState) -> tuple[MenuEntry, ...]:
    proxy = state.proxy
    serving = proxy.state in ("running", "starting") or proxy.address is not None
    entries = [MenuEntry(status_line(state), enabled=False)]
    accounts = _accounts(state)
    if accounts and proxy.address is not None:
        entries.append(MenuEntry(accounts[0].upper() + accounts[1:], enabled=False))
    for sentence in problem_lines(state):
        entries += [MenuEntry(line, enabled=False) for line in wrap(sentence)]
    if state.revealed_key:
        entries.append(MenuEntry(f"API key: {state.revealed_key}", enabled=False))
    if state.has_config:
        start = MenuEntry("Start proxy", "start", enabled=not serving)
    else:
        start = MenuEntry(f"Start proxy (fix {_file(state)} first)", "start", enabled=False)
    entries += [
        SEPARATOR,
        # Always enabled: with the proxy stopped the window says so and how to start it.
        MenuEntry("Open status…", "open_status", default=True),
        MenuEntry("Add account…", "add_account"),
        SEPARATOR,
        start,
        MenuEntry("Stop proxy", "stop", enabled=serving),
        MenuEntry("Restart", "restart", enabled=proxy.state != "stopped" and state.has_config),
        MenuEntry("Copy API key", "copy_key"),
        SEPARATOR,
        MenuEntry("Open config file", "open_config"),
        MenuEntry("Open config folder", "open_folder"),
        SEPARATOR,
        MenuEntry("Start at login", "toggle_autostart", checked=state.autostart),
        SEPARATOR,
        MenuEntry("Quit", "quit"),
    ]
    return tuple(entries)
