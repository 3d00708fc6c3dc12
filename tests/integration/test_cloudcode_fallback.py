"""Cloud Code base fallback: which failures move to the next base, and which go back to the caller."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes.google import FakeGoogle
from tests.serverproc import free_port
from trayagent.config import parse_config_text
from trayagent.errors import GoogleError
from trayagent.upstream.client import CloudCodeClient
from trayagent.upstream.session import open_session

pytestmark = pytest.mark.timeout(30)


def call(google: FakeGoogle, endpoints: list[str]) -> tuple[dict | GoogleError, list[str | None]]:
    google.add_account("alice@example.com", project="pa")
    token = google._new_access_token(google.accounts["alice@example.com"])
    config = parse_config_text(google.config_yaml(endpoints=endpoints))

    async def go() -> dict | GoogleError:
        session = open_session(config.upstream)
        try:
            return await CloudCodeClient(session, config.upstream).call(
                "fetchAvailableModels", {"project": "pa"}, token
            )
        except GoogleError as exc:
            return exc
        finally:
            await session.close()

    result = asyncio.run(go())
    return result, [c.base for c in google.calls_to("fetchAvailableModels")]


@pytest.mark.parametrize("status", [404, 408, 500, 503, 529])
def test_moves_to_the_next_base(google: FakeGoogle, status: int):
    google.fail("fetchAvailableModels", status, base="sandbox")
    result, bases = call(google, google.endpoints())
    assert isinstance(result, dict) and "models" in result
    assert bases == ["sandbox", "daily"]


@pytest.mark.parametrize(("status", "reason"), [(429, "RATE_LIMIT_EXCEEDED"), (400, None), (403, None), (401, None)])
def test_account_and_client_errors_go_back_to_the_caller(google: FakeGoogle, status: int, reason: str | None):
    google.fail("fetchAvailableModels", status, base="sandbox", reason=reason, message="scripted")
    result, bases = call(google, google.endpoints())
    assert isinstance(result, GoogleError)
    assert result.status == status and result.reason == reason
    assert bases == ["sandbox"]  # never another base for these


def test_an_unreachable_base_is_skipped(google: FakeGoogle):
    dead = f"http://127.0.0.1:{free_port()}/v1internal"
    result, bases = call(google, [dead, *google.endpoints("prod")])
    assert isinstance(result, dict)
    assert bases == ["prod"]


def test_every_base_failing_reports_the_last_error(google: FakeGoogle):
    for base in ("sandbox", "daily", "prod"):
        google.fail("fetchAvailableModels", 503, base=base, message=f"{base} is down")
    result, bases = call(google, google.endpoints())
    assert isinstance(result, GoogleError) and result.transient
    assert "prod is down" in str(result) and "(HTTP 503)" in str(result)
    assert bases == ["sandbox", "daily", "prod"]
