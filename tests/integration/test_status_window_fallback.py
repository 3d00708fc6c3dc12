"""The status window where no window can open (no display): the page goes to the system browser, signed in.

A real window child is spawned and reports why it cannot start; the browser is an injected recorder, and
the link it gets is then followed against a real strict-auth proxy: a one-time ticket, never the key.
"""

from __future__ import annotations

import json
import os
import threading
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.inprocess import InProcessProxy
from tests.polling import eventually
from trayagent.window.statuswindow import StatusWindow
from trayagent.window.uilink import ProxyEndpoint

pytestmark = pytest.mark.timeout(60)

FAKE_BROWSER = """#!/bin/sh
echo "$1" >> "$(dirname "$0")/browsed.txt"
"""


@pytest.fixture(autouse=True)
def _no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


@pytest.fixture
def strict_proxy(home: Path) -> Iterator[InProcessProxy]:
    """Strict auth, its key made in home/data/secrets.json as `trayagent serve` makes it."""
    with InProcessProxy(home, None, key=None, auth_mode="strict") as proxy:
        yield proxy


def test_without_a_display_the_page_opens_in_the_browser_signed_in(strict_proxy: InProcessProxy, home: Path) -> None:
    key = json.loads((home / "data" / "secrets.json").read_text())["api_key"]
    browsed: list[str] = []
    notes: list[str] = []
    status_window = StatusWindow(
        lambda: ProxyEndpoint(strict_proxy.port, key), notify=notes.append, open_browser=lambda u: not browsed.append(u)
    )
    try:
        opened = status_window.open("/ui/#add").result(45)
    finally:
        status_window.close()
    assert opened.how == "browser" and opened.detail, opened  # "cannot open the display …" (or: no GTK here)
    assert notes == [f"The status window could not open ({opened.detail}); the status page is in your browser."]
    (url,) = browsed
    assert key not in url
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == (f"127.0.0.1:{strict_proxy.port}", "/ui/login")
    query = parse_qs(parts.query)
    assert query["next"] == ["/ui/#add"]
    login = strict_proxy.request("GET", f"{parts.path}?{parts.query}")
    assert login.status == 303 and login.headers["location"] == "/ui/#add"
    cookie = login.headers["set-cookie"].split(";")[0]
    assert "HttpOnly" in login.headers["set-cookie"] and "SameSite=Strict" in login.headers["set-cookie"]
    assert strict_proxy.request("GET", "/api/status", headers={"Cookie": cookie}).status == 200
    assert strict_proxy.request("GET", f"{parts.path}?{parts.query}").status == 401  # the ticket was used up


def test_without_a_display_or_a_proxy_it_says_so() -> None:
    notes: list[str] = []
    browsed: list[str] = []
    status_window = StatusWindow(lambda: None, notify=notes.append, open_browser=lambda u: not browsed.append(u))
    try:
        opened = status_window.open().result(45)
    finally:
        status_window.close()
    assert opened.how == "none" and browsed == []
    assert len(notes) == 1 and notes[0].startswith("The status window could not open (")
    assert notes[0].endswith("and the proxy is stopped: start it from the tray.")


def test_no_browser_either_names_the_address(strict_proxy: InProcessProxy, home: Path) -> None:
    notes: list[str] = []
    endpoint = ProxyEndpoint(strict_proxy.port, "sk-wrong-key")  # no ticket: the plain page, which asks for the key
    status_window = StatusWindow(lambda: endpoint, notify=notes.append, open_browser=lambda u: False)
    try:
        opened = status_window.open().result(45)
    finally:
        status_window.close()
    assert opened.how == "none"
    assert notes[0].endswith(f"Open http://127.0.0.1:{strict_proxy.port}/ui/ in a browser.")


def test_the_tray_agent_falls_back_to_the_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent's own wiring: its "Open status…" reaches webbrowser (BROWSER), with a ticket link."""
    from tests.integration.test_tray_actions import Harness

    browser = tmp_path / "bin" / "fake-browser"
    harness = Harness(tmp_path, monkeypatch)  # creates tmp_path/bin, first on PATH
    browser.write_text(FAKE_BROWSER)
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # re-read BROWSER on next use
    monkeypatch.setattr(webbrowser, "_browsers", {})
    browsed = browser.parent / "browsed.txt"
    try:
        assert eventually(lambda: harness.labels()[0].startswith("Running"), 20), harness.labels()
        harness.click("Add account…")
        assert eventually(browsed.exists, 30)
        (url,) = browsed.read_text().split()
        parts = urlsplit(url)
        assert parts.path == "/ui/login" and parse_qs(parts.query)["next"] == ["/ui/#add"]
        assert harness.agent.window.pid is None  # no window process left behind
        harness.click("Quit")
        assert eventually(lambda: harness.service.state.proxy.state == "stopped", 15)
    finally:
        harness.agent.close()
    assert [t.name for t in threading.enumerate() if t.name == "status-window"] == []
    assert os.environ.get("DISPLAY") is None
