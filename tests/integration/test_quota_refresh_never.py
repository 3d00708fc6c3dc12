"""`scheduling.quota_refresh_minutes: 0` is accepted and means never: the proxy reads quota only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy
from tests.polling import eventually
from tests.serverproc import run_cli

pytestmark = pytest.mark.timeout(60)


def test_config_check_accepts_zero(home: Path, env: dict[str, str]) -> None:
    path = home / "config.yaml"
    path.write_text("scheduling:\n  quota_refresh_minutes: 0  # never\n")
    result = run_cli(env, "config", "check", str(path))
    assert (result.returncode, result.stdout.strip()) == (0, f"{path}: ok"), result.stderr


def test_zero_never_refreshes_while_a_short_interval_does(tmp_path: Path, google: FakeGoogle) -> None:
    often = InProcessProxy(
        tmp_path / "often", google, key="sk-often-1234", extra_yaml="scheduling:\n  quota_refresh_minutes: 0.01\n"
    ).start()
    never = InProcessProxy(
        tmp_path / "never", google, key="sk-never-1234", extra_yaml="scheduling:\n  quota_refresh_minutes: 0\n"
    ).start()
    try:
        never.add_account("never@example.com")
        often.add_account("often@example.com")
        at_add = len(google.calls_to("fetchAvailableModels", "never@example.com"))
        # The 0.6 s refresher of the other proxy re-reads its account's quota twice...
        base = len(google.calls_to("fetchAvailableModels", "often@example.com"))
        assert eventually(lambda: len(google.calls_to("fetchAvailableModels", "often@example.com")) >= base + 2, 10)
        # ...and meanwhile this one never asked again.
        assert len(google.calls_to("fetchAvailableModels", "never@example.com")) == at_add

        # Asked, it still reads quota.
        reply = never.request("POST", "/api/accounts/refresh", body=b"{}", headers={"content-type": "application/json"})
        assert reply.status == 200, reply.body
        assert len(google.calls_to("fetchAvailableModels", "never@example.com")) > at_add
    finally:
        never.stop()
        often.stop()
