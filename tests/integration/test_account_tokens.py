"""Token lifecycle against the fake Google: refresh ahead of expiry, single flight, rotation, invalid_grant."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.google import FakeGoogle
from tests.serverproc import isolated_env
from trayagent.accounts.record import refresh_token_name
from trayagent.accounts.service import AccountService
from trayagent.accounts.tokens import REFRESH_MARGIN_S
from trayagent.config import parse_config_text
from trayagent.errors import TokenRevoked
from trayagent.secrets import FileSecretStore

pytestmark = pytest.mark.timeout(60)


def service_for(google: FakeGoogle, data_dir: Path):
    config = parse_config_text(google.config_yaml())
    return AccountService.open(config, data_dir, FileSecretStore(data_dir / "secrets.json"))


async def added(service: AccountService, google: FakeGoogle, email: str):
    google.add_account(email, project="p-" + email[0])
    outcome = await service.add_refresh_token(google.issue_refresh_token(email))
    assert outcome.problem is None
    return outcome.account


def test_access_token_is_reused_until_close_to_expiry(google: FakeGoogle, tmp_path: Path):
    async def scenario() -> tuple[int, int]:
        async with service_for(google, tmp_path) as service:
            google.access_token_ttl = 3600
            account = await added(service, google, "alice@example.com")
            before = len(google.calls_to("refresh"))
            tokens = {await service.tokens.access_token(account) for _ in range(5)}
            assert len(tokens) == 1
            long_lived = len(google.calls_to("refresh")) - before
            # A token with less than the margin left is refreshed before use, every time.
            google.access_token_ttl = int(REFRESH_MARGIN_S) - 10
            service.tokens.invalidate(account.id)
            await service.tokens.access_token(account)
            start = len(google.calls_to("refresh"))
            await service.tokens.access_token(account)
            await service.tokens.access_token(account)
            return long_lived, len(google.calls_to("refresh")) - start

    long_lived, short_lived = asyncio.run(scenario())
    assert long_lived == 0
    assert short_lived == 2


def test_concurrent_callers_share_one_refresh(google: FakeGoogle, tmp_path: Path):
    async def scenario() -> set[str]:
        async with service_for(google, tmp_path) as service:
            account = await added(service, google, "alice@example.com")
            service.tokens.invalidate(account.id)
            google.rotate_refresh_tokens = True  # a second refresh with the old token would be refused
            google.token_delay = 0.3
            before = len(google.calls_to("refresh"))
            tokens = await asyncio.gather(*(service.tokens.access_token(account) for _ in range(20)))
            assert len(google.calls_to("refresh")) - before == 1
            return set(tokens)

    assert len(asyncio.run(scenario())) == 1


def test_a_rotated_refresh_token_is_kept(google: FakeGoogle, tmp_path: Path):
    async def scenario() -> tuple[str | None, str | None, str | None]:
        async with service_for(google, tmp_path) as service:
            account = await added(service, google, "alice@example.com")
            old = service.secrets.get(refresh_token_name(account.id))
            google.rotate_refresh_tokens = True
            service.tokens.invalidate(account.id)
            await service.tokens.access_token(account)
            new = service.secrets.get(refresh_token_name(account.id))
            # The rotated token is the one used next (the old one is dead at Google by now).
            service.tokens.invalidate(account.id)
            await service.tokens.access_token(account)
            return old, new, service.secrets.get(refresh_token_name(account.id))

    old, new, newest = asyncio.run(scenario())
    valid = google.accounts["alice@example.com"].refresh_tokens
    assert old and new and newest and len({old, new, newest}) == 3
    assert valid == {newest}


def test_invalid_grant_disables_once_and_is_not_retried(google: FakeGoogle, tmp_path: Path):
    async def scenario() -> None:
        async with service_for(google, tmp_path) as service:
            account = await added(service, google, "alice@example.com")
            google.revoke("alice@example.com")
            service.tokens.invalidate(account.id)
            with pytest.raises(TokenRevoked, match="is now disabled: Google refused the refresh token"):
                await service.tokens.access_token(account)
            stored = service.store.find("alice@example.com")
            assert stored is not None and not stored.enabled
            assert "invalid_grant: Token has been expired or revoked." in (stored.disabled_reason or "")
            calls = len(google.calls_to("refresh"))
            for _ in range(3):
                with pytest.raises(TokenRevoked, match="is disabled"):
                    await service.tokens.access_token(stored)
            assert len(google.calls_to("refresh")) == calls

    asyncio.run(scenario())


_REFRESH_IN_CHILD = """
import asyncio, sys
from pathlib import Path
from trayagent.accounts.service import AccountService
from trayagent.config import parse_config_text
from trayagent.secrets import FileSecretStore

async def main():
    data = Path(sys.argv[1])
    config = parse_config_text(Path(sys.argv[2]).read_text())
    async with AccountService.open(config, data, FileSecretStore(data / "secrets.json")) as service:
        account = service.store.find("alice@example.com")
        print(await service.tokens.access_token(account))

asyncio.run(main())
"""


def test_two_processes_refresh_one_account_once(google: FakeGoogle, tmp_path: Path):
    """The proxy and a CLI command may need a token at the same moment: only one refreshes."""
    data = tmp_path / "data"

    async def setup() -> None:
        async with service_for(google, data) as service:
            account = await added(service, google, "alice@example.com")
            service.tokens.invalidate(account.id)

    asyncio.run(setup())
    config = tmp_path / "config.yaml"
    config.write_text(google.config_yaml())
    google.rotate_refresh_tokens = True
    google.token_delay = 0.5
    before = len(google.calls_to("refresh"))
    env = isolated_env(tmp_path / "home")
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _REFRESH_IN_CHILD, str(data), str(config)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=30) for child in children]

    assert [child.returncode for child in children] == [0, 0, 0], outputs
    assert len({out.strip() for out, _ in outputs}) == 1  # all got the one fresh token
    assert len(google.calls_to("refresh")) - before == 1
    stored = json.loads((data / "accounts.json").read_text())["accounts"][0]
    assert stored["enabled"] is True
