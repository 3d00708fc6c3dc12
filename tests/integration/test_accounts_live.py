"""A running `trayagent serve` picks up account changes made by CLI commands, and keeps quota fresh."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.google import FakeGoogle
from tests.polling import eventually
from tests.serverproc import ServeProcess, run_cli

pytestmark = pytest.mark.timeout(60)


def test_live_pickup_quota_refresh_and_damage(
    serve_factory: type[ServeProcess], home: Path, port: int, google: FakeGoogle
):
    config = google.config_yaml(port, extra="scheduling:\n  quota_refresh_minutes: 0.02\n")
    server = serve_factory(home, config).start()
    env = server.env

    def accounts() -> dict[str, Any]:
        return server.request("GET", "/api/status").json()["accounts"]

    assert accounts()["total"] == 0
    google.add_account("alice@example.com", project="pa")
    added = run_cli(env, "accounts", "add", "--refresh-token", google.issue_refresh_token("alice@example.com"))
    assert added.returncode == 0, added.stderr

    assert eventually(lambda: accounts()["available"] == 1), accounts()
    # The account answers at once.
    reply = server.request("POST", "/v1/responses", body=b'{"model":"gemini-2.5-flash","input":"hi"}', timeout=30)
    assert reply.status == 200 and reply.json()["status"] == "completed", reply.body

    # The proxy re-reads quota on its own, every quota_refresh_minutes.
    after_add = len(google.calls_to("fetchAvailableModels"))
    assert eventually(lambda: len(google.calls_to("fetchAvailableModels")) > after_add)

    # A damaged file is reported while the last good list keeps serving.
    path = home / "data" / "accounts.json"
    good = path.read_text()
    damaged = good[: len(good) // 2]

    def damage_reported() -> dict[str, Any] | None:
        # A quota round (every 1.2 s here) may have read the good list just before the damage and written it back
        # just after, before the proxy looked: then the file is damaged again, as an editor saving twice would.
        if path.read_text() != damaged:
            path.write_text(damaged)
        status = accounts()
        return status if status["error"] else None

    status = eventually(damage_reported)
    assert status and "is damaged" in status["error"] and status["total"] == 1
    path.write_text(good)
    assert eventually(lambda: accounts()["error"] is None)

    # A revoked account is disabled by the periodic check, once, and the log names it masked. A healthy account
    # beside it shows the check going on: two more of its rounds and still no second try for the revoked one.
    google.add_account("bob@example.com", project="pb")
    bob = {"refresh_token": google.issue_refresh_token("bob@example.com")}
    changes = {"Content-Type": "application/json"}  # status API changes are JSON (issue 14)
    assert server.request("POST", "/api/accounts", body=json.dumps(bob).encode(), headers=changes).status == 200
    google.revoke("alice@example.com")
    google.expire_access_tokens()
    both = path.read_text()
    path.write_text(both.replace('"quota_checked_at": "', '"quota_checked_at": "2000'))  # force a stale check
    assert eventually(lambda: accounts()["disabled"] == 1), accounts()
    refreshes = len(google.calls_to("refresh", "alice@example.com"))
    rounds = len(google.calls_to("fetchAvailableModels", "bob@example.com"))
    assert eventually(lambda: len(google.calls_to("fetchAvailableModels", "bob@example.com")) >= rounds + 2, 20)
    assert len(google.calls_to("refresh", "alice@example.com")) == refreshes
    log = server.output()
    assert "al***@ex***" in log and "alice@example.com" not in log
    assert server.request("DELETE", "/api/accounts/bob@example.com", headers=changes).status == 200

    removed = run_cli(env, "accounts", "remove", "alice@example.com")
    assert removed.returncode == 0
    assert eventually(lambda: accounts()["total"] == 0)
    hi = b'{"model":"x","messages":[{"role":"user","content":"hi"}]}'
    reply = server.request("POST", "/v1/chat/completions", body=hi)
    assert "no Google account yet" in reply.json()["error"]["message"]
    assert server.stop() == 0
