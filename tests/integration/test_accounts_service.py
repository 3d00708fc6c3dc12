"""The accounts service in-process against the fake Google: project re-resolution, bounded onboarding, cancel."""

from __future__ import annotations

import asyncio
import socket
import urllib.parse
from pathlib import Path

import pytest

from tests.fakes.google import FakeGoogle
from trayagent.accounts.project import resolve_project
from trayagent.accounts.service import AccountService
from trayagent.config import parse_config_text
from trayagent.errors import GoogleError, LoginFailed
from trayagent.secrets import FileSecretStore
from trayagent.upstream.client import CloudCodeClient
from trayagent.upstream.session import open_session

pytestmark = pytest.mark.timeout(30)


def service_for(google: FakeGoogle, data_dir: Path):
    config = parse_config_text(google.config_yaml())
    return AccountService.open(config, data_dir, FileSecretStore(data_dir / "secrets.json"))


def test_a_vanished_project_is_resolved_again(google: FakeGoogle, tmp_path: Path):
    fake = google.add_account("alice@example.com", project="old-project")

    async def scenario() -> tuple[str | None, str | None]:
        async with service_for(google, tmp_path) as service:
            outcome = await service.add_refresh_token(google.issue_refresh_token("alice@example.com"))
            fake.project = "new-project"  # the old one is gone: fetchAvailableModels answers 404 for it
            again = await service.refresh(outcome.account)  # a routine check, not a forced project lookup
            return outcome.account.project_id, again.account.project_id

    before, after = asyncio.run(scenario())
    assert (before, after) == ("old-project", "new-project")
    asked = [(c.base, c.body["project"]) for c in google.calls_to("fetchAvailableModels")]
    # The first check; then a 404 on every base for the old project; then one look-up and a retry.
    assert asked == [
        ("sandbox", "old-project"),
        ("sandbox", "old-project"),
        ("daily", "old-project"),
        ("prod", "old-project"),
        ("sandbox", "new-project"),
    ]


def test_onboarding_that_never_finishes_gives_up(google: FakeGoogle):
    google.add_account("slow@example.com", project=None, onboard_polls=1000)
    token = google._new_access_token(google.accounts["slow@example.com"])
    config = parse_config_text(google.config_yaml())
    slept: list[float] = []

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    async def scenario() -> None:
        session = open_session(config.upstream)
        try:
            await resolve_project(CloudCodeClient(session, config.upstream), token, delays=(1, 2, 3), sleep=no_wait)
        finally:
            await session.close()

    with pytest.raises(GoogleError, match="still setting up a Cloud Code project"):
        asyncio.run(scenario())
    assert slept == [1, 2, 3]
    assert len(google.calls_to("onboardUser")) == 4


def test_a_login_can_be_cancelled_and_frees_its_port(google: FakeGoogle, tmp_path: Path):
    """What the status window does: get the link, wait, let the user cancel."""

    async def scenario() -> tuple[str, int]:
        async with service_for(google, tmp_path) as service:
            shown: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(service.login(shown.set_result, timeout=20))
            url = await asyncio.wait_for(shown, 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["redirect_uri"][0]
            return url, urllib.parse.urlsplit(redirect).port or 0

    url, port = asyncio.run(scenario())
    assert url.startswith(google.url)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0  # nobody listens there any more


def test_a_login_session_cancel_is_reported(google: FakeGoogle):
    from trayagent.accounts.login import LoginSession

    config = parse_config_text(google.config_yaml())

    async def scenario() -> None:
        async with LoginSession.open(config.oauth) as login:
            asyncio.get_running_loop().call_later(0.1, login.cancel)
            await login.wait(10)

    with pytest.raises(LoginFailed, match="sign-in cancelled"):
        asyncio.run(scenario())
