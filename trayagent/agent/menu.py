"""The tray menu and tooltip as data: pure functions of the agent's state, tested without any GUI.

`tray.py` turns the entries into pystray items; each entry names its action, and the agent maps the
names to callbacks that never block the GUI thread.
"""

from __future__ import annotations

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
LABEL_MAX = 72  # longer status lines are cut: a menu is no place for a paragraph
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


@dataclass(frozen=True, slots=True)
class MenuEntry:
    text: str
    action: ActionName | None = None  # None: an information line
    enabled: bool = True
    checked: bool | None = None  # None: not a checkbox
    separator: bool = False
    default: bool = False  # what a left click on the icon does (backends without a menu: all a click does)


SEPARATOR = MenuEntry("", separator=True)


def _cut(text: str, limit: int = LABEL_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_line(state: TrayState) -> str:
    proxy = state.proxy
    if proxy.state == "running":
        return f"Running on {proxy.address}"
    if proxy.state == "starting":
        return _cut(proxy.reason[0].upper() + proxy.reason[1:]) if proxy.reason else "Starting…"
    if proxy.state == "stopped":
        return "Stopped"
    return _cut(f"Error: {proxy.reason or 'unknown'}")


def _accounts(state: TrayState) -> str | None:
    if state.accounts_total is None:
        return None
    noun = "account" if state.accounts_total == 1 else "accounts"
    return f"{state.accounts_total} {noun} ({state.accounts_available or 0} available)"


def tooltip(state: TrayState) -> str:
    proxy = state.proxy
    if proxy.state == "running":
        parts = [f"trayagent — {proxy.address}"]
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
    if accounts and proxy.state == "running":
        entries.append(MenuEntry(accounts[0].upper() + accounts[1:], enabled=False))
    if state.config_error:
        entries.append(MenuEntry(_cut(f"Config error: {state.config_error}"), enabled=False))
    if state.revealed_key:
        entries.append(MenuEntry(f"API key: {state.revealed_key}", enabled=False))
    entries += [
        SEPARATOR,
        # Always enabled: with the proxy stopped the window says so and how to start it.
        MenuEntry("Open status…", "open_status", default=True),
        MenuEntry("Add account…", "add_account"),
        SEPARATOR,
        MenuEntry("Start proxy", "start", enabled=not serving),
        MenuEntry("Stop proxy", "stop", enabled=serving),
        MenuEntry("Restart", "restart", enabled=proxy.state != "stopped"),
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
