"""Which command opens a link (BROWSER read the way Python's webbrowser reads it), and the sign-in help for a
browser on another computer. Pure: no program is started here."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from trayagent.accounts.login import callback_port, elsewhere_help, ssh_tunnel
from trayagent.agent.opener import OpenFailed, browser_command

URL = "https://accounts.example/o/oauth2/v2/auth?redirect_uri=http%3A%2F%2Flocalhost%3A41234%2Foauth-callback&x=1"


def test_browser_setting_forms(tmp_path: Path) -> None:
    python = sys.executable
    assert browser_command("http://x", {"BROWSER": f"{python} -m fake %s"}) == [python, "-m", "fake", "http://x"]
    assert browser_command("http://x", {"BROWSER": f"{python} --new-window"}) == [python, "--new-window", "http://x"]
    assert browser_command("http://x", {"BROWSER": f"{python} %s &"}) == [python, "http://x"]  # background: same
    missing = str(tmp_path / "nope")
    assert browser_command("http://x", {"BROWSER": f"{missing}:{python}"}) == [python, "http://x"]  # first that runs


def test_a_browser_setting_that_cannot_run_is_said_not_replaced(tmp_path: Path) -> None:
    with pytest.raises(OpenFailed, match="BROWSER is set to '.*nope', which names no program that can run here"):
        browser_command("http://x", {"BROWSER": str(tmp_path / "nope")})


def test_the_desktop_opener_without_a_browser_setting() -> None:
    assert browser_command("http://x", {}, "darwin") == ["open", "http://x"]
    assert browser_command("http://x", {}, "win32") is None  # webbrowser uses the registered handler
    expected = ["xdg-open", "http://x"] if shutil.which("xdg-open") else None
    assert browser_command("http://x", {}, "linux") == expected


def test_what_works_from_another_computer() -> None:
    assert callback_port(URL) == 41234
    assert callback_port("https://accounts.example/auth?client_id=1") is None
    assert ssh_tunnel(41234, "box") == "ssh -L 41234:127.0.0.1:41234 box"
    help_text = "\n".join(elsewhere_help(41234, "box"))
    assert "http://localhost:41234 on this machine" in help_text
    assert "first run: ssh -L 41234:127.0.0.1:41234 box" in help_text
    assert "trayagent accounts export" in help_text and "trayagent accounts add --refresh-token -" in help_text
    assert "ssh" not in "\n".join(elsewhere_help(None))  # no port known: no tunnel to offer
