"""The tray menu and tooltip as a pure function of state, and its pystray form on the `dummy` backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trayagent.agent.menu import WRAP_AT, WRAP_INDENT, MenuEntry, TrayState, menu_entries, tooltip
from trayagent.supervision.proxystatus import ProxyStatus

RUNNING = ProxyStatus("running", address="http://127.0.0.1:8045", pid=42)
CONFIG = Path("/home/me/.config/trayagent/config.yaml")


def actionable(entries: tuple[MenuEntry, ...]) -> dict[str, bool]:
    return {e.text: e.enabled for e in entries if e.action}


def test_running() -> None:
    state = TrayState(RUNNING, config_path=CONFIG, accounts_total=3, accounts_available=2)
    entries = menu_entries(state)
    assert [e.text for e in entries if not e.action and not e.separator] == [
        "Running on http://127.0.0.1:8045",
        "3 accounts (2 available)",
    ]
    assert all(not e.enabled for e in entries if not e.action and not e.separator)
    assert actionable(entries) == {
        "Open status…": True,
        "Add account…": True,
        "Start proxy": False,
        "Stop proxy": True,
        "Restart": True,
        "Copy API key": True,
        "Open config file": True,
        "Open config folder": True,
        "Start at login": True,
        "Quit": True,
    }
    assert [e.checked for e in entries if e.action == "toggle_autostart"] == [False]
    assert entries[-1].action == "quit"
    assert tooltip(state) == "trayagent — http://127.0.0.1:8045 · 3 accounts (2 available)"


def test_stopped() -> None:
    state = TrayState(ProxyStatus("stopped"), autostart=True)
    entries = menu_entries(state)
    assert entries[0].text == "Stopped"
    assert actionable(entries)["Start proxy"] and not actionable(entries)["Stop proxy"]
    assert not actionable(entries)["Restart"]
    assert [e.checked for e in entries if e.action == "toggle_autostart"] == [True]
    assert tooltip(state) == "trayagent — stopped"


def info_lines(entries: tuple[MenuEntry, ...]) -> list[str]:
    return [e.text for e in entries if not e.action and not e.separator]


def unwrapped(lines: list[str]) -> str:
    """The menu's wrapped lines read as the text they came from."""
    return " ".join(line.strip() for line in lines)


def test_a_long_error_wraps_in_full_never_cut() -> None:
    reason = "port 8045 is already in use on 127.0.0.1; " + " ".join(["another program holds it"] * 8)
    error = "proxy.port (line 3): expected an integer 1-65535"
    state = TrayState(ProxyStatus("error", reason), config_error=error, config_path=CONFIG)
    lines = info_lines(menu_entries(state))
    assert lines[0] == "Not running"
    assert all(len(line) <= WRAP_AT for line in lines) and not any("…" in line for line in lines)
    assert lines[1].startswith("Port 8045 is already in use") and lines[2].startswith(WRAP_INDENT)
    text = unwrapped(lines[1:])
    assert text.startswith(f"Port 8045 is already in use on 127.0.0.1; {' '.join(['another program holds it'] * 8)}.")
    assert f"config.yaml has an error: {error}." in text
    assert actionable(menu_entries(state))["Start proxy"] and actionable(menu_entries(state))["Restart"]
    assert len(tooltip(state)) <= 127


def test_a_failed_port_move_says_so_in_full_and_keeps_the_accounts_line() -> None:
    moved = "could not move to http://127.0.0.1:9000: port 9000 is already in use on 127.0.0.1"
    state = TrayState(
        ProxyStatus("error", moved, "http://127.0.0.1:8045", pid=42), accounts_total=2, accounts_available=1
    )
    entries = menu_entries(state)
    lines = info_lines(entries)
    assert lines[:2] == ["Running on http://127.0.0.1:8045 (previous config)", "2 accounts (1 available)"]
    assert unwrapped(lines[2:]) == (
        "Could not move to http://127.0.0.1:9000: port 9000 is already in use on 127.0.0.1. "
        "Free that port, then choose Restart (or save config.yaml again) to move."
    )
    assert all(len(line) <= WRAP_AT for line in lines)
    assert actionable(entries)["Stop proxy"] and actionable(entries)["Restart"]  # something serves; Restart retries
    assert not actionable(entries)["Start proxy"]


def test_started_on_an_invalid_config_it_says_what_is_wrong_and_what_happens_next() -> None:
    error = 'proxy.auth_mode (line 8): expected one of off, strict, all_except_health, auto, got "sometimes"'
    state = TrayState(ProxyStatus("stopped"), config_error=error, config_path=CONFIG, has_config=False)
    entries = menu_entries(state)
    lines = info_lines(entries)
    assert lines[0] == "Not running: config.yaml is invalid"
    assert (
        unwrapped(lines[1:])
        == f"config.yaml has an error: {error}. Fix the file and save it: the proxy starts by itself."
    )
    start = [e for e in entries if e.action == "start"]
    assert [(e.text, e.enabled) for e in start] == [("Start proxy (fix config.yaml first)", False)]  # greyed, and why
    assert not actionable(entries)["Restart"]
    assert actionable(entries)["Open config file"] and actionable(entries)["Open status…"]


def test_a_bad_save_while_running_keeps_the_previous_config_and_says_so() -> None:
    state = TrayState(RUNNING, config_error="proxy.cors (line 3): expected true or false", accounts_total=1)
    lines = info_lines(menu_entries(state))
    assert lines[0] == "Running on http://127.0.0.1:8045 (previous config)"
    assert lines[1] == "1 account (0 available)"
    assert unwrapped(lines[2:]) == (
        "config.yaml has an error: proxy.cors (line 3): expected true or false. "
        "The proxy keeps the previous config until the file is valid."
    )


def test_error_while_the_old_address_still_serves() -> None:
    state = TrayState(ProxyStatus("error", "port 9000 is busy; still serving on x", "http://127.0.0.1:8045"))
    assert actionable(menu_entries(state))["Stop proxy"]  # something is serving: it can be stopped
    assert not actionable(menu_entries(state))["Start proxy"]


def test_the_window_items_come_first_and_stay_enabled_when_stopped() -> None:
    for state in (TrayState(RUNNING), TrayState(ProxyStatus("stopped")), TrayState(ProxyStatus("error", "boom"))):
        actions = [(e.text, e.action, e.enabled) for e in menu_entries(state) if e.action]
        assert actions[:2] == [("Open status…", "open_status", True), ("Add account…", "add_account", True)]


def test_a_revealed_key_is_shown_when_there_is_no_clipboard() -> None:
    entries = menu_entries(TrayState(RUNNING, revealed_key="sk-abc"))
    assert "API key: sk-abc" in [e.text for e in entries]


@pytest.fixture
def pystray_dummy(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")  # read when pystray is first imported
    import pystray

    if pystray.Icon.__module__ not in ("pystray._base", "pystray._dummy"):
        pytest.fail(f"pystray was imported earlier with another backend: {pystray.Icon.__module__}")
    return pystray


def test_pystray_menu_on_the_dummy_backend(pystray_dummy: Any) -> None:
    from trayagent.agent.tray import TrayIcon, to_pystray_menu

    clicked: list[str] = []
    names = ("open_status", "start", "stop", "restart", "quit")
    actions = {name: (lambda name=name: clicked.append(name)) for name in names}
    state = TrayState(RUNNING, autostart=True)
    menu = to_pystray_menu(menu_entries(state), actions)  # type: ignore[arg-type]
    items = [i for i in menu.items if i is not pystray_dummy.Menu.SEPARATOR]
    assert [(i.text, i.enabled) for i in items][:6] == [
        ("Running on http://127.0.0.1:8045", False),
        ("Open status…", True),
        ("Add account…", True),
        ("Start proxy", False),
        ("Stop proxy", True),
        ("Restart", True),
    ]
    by_text = {i.text: i for i in items}
    assert by_text["Start at login"].checked is True
    assert by_text["Stop proxy"].checked is None
    by_text["Stop proxy"](None)
    by_text["Quit"](None)
    by_text["Copy API key"](None)  # no action mapped here: a click does nothing
    assert clicked == ["stop", "quit"]

    icon = TrayIcon(state, actions)  # type: ignore[arg-type]
    assert icon.icon.title == tooltip(state)
    icon.show(TrayState(ProxyStatus("stopped")))
    assert icon.icon.title == "trayagent — stopped"
    assert [i.text for i in icon.icon.menu.items][0] == "Stopped"
    # A left click runs the default item: "Open status…" (on the X11 backend, all a click can do).
    assert [i.text for i in items if i.default] == ["Open status…"]
    clicked.clear()
    menu(None)  # what the backends call on a left click
    assert clicked == ["open_status"]


def test_the_x11_backend_gets_a_latin1_title_and_the_others_the_text_itself() -> None:
    from trayagent.agent.traybackend import title_for

    text = "trayagent — error: port 8045 … “busy” · 2 accounts ✓"
    assert title_for("gtk", text) == text
    assert title_for("appindicator", text) == text
    latin = title_for("xorg", text)
    assert latin == 'trayagent - error: port 8045 ... "busy" · 2 accounts ?'
    latin.encode("latin-1")  # what python-xlib does with a window name
