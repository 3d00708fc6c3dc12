"""The User-Agent sent to Cloud Code: `antigravity/<version> <os>/<arch>`, unless configured."""

from __future__ import annotations

import re

import pytest

from trayagent.upstream.identity import CLIENT_VERSION, default_user_agent, user_agent

FORM = re.compile(r"antigravity/\d+\.\d+\.\d+ (linux|darwin|windows)/[a-z0-9_]+")


@pytest.mark.parametrize(
    ("system", "machine", "platform"),
    [
        ("linux", "x86_64", "linux/amd64"),
        ("linux", "aarch64", "linux/arm64"),
        ("darwin", "arm64", "darwin/arm64"),
        ("darwin", "x86_64", "darwin/amd64"),
        ("win32", "AMD64", "windows/amd64"),
        ("win32", "ARM64", "windows/arm64"),
    ],
)
def test_default_user_agent(system: str, machine: str, platform: str):
    assert default_user_agent(system, machine) == f"antigravity/{CLIENT_VERSION} {platform}"


def test_version_looks_like_a_release():
    assert re.fullmatch(r"\d+\.\d+\.\d+", CLIENT_VERSION)


def test_this_machine_gets_a_well_formed_user_agent():
    assert FORM.fullmatch(default_user_agent())
    assert user_agent(None) == user_agent("") == default_user_agent()


@pytest.mark.parametrize("configured", ["antigravity/9.9.9 linux/amd64", "my-client/1.0 (custom)"])
def test_configured_user_agent_wins(configured: str):
    assert user_agent(configured) == configured
