"""The status API and /metrics of a real proxy against the fake Google: accounts (list, add, refresh, remove,
sign-in), the request log and statistics after real requests, parameter checks and auth.

Each test has its own in-process proxy (tests/inprocess.py): their configs differ and the request log's counts
start from zero. CLI commands run as real processes on the same config and data directory. A browser that dies
is reaped by the proxy process: that test keeps a `trayagent serve`."""

from __future__ import annotations

import json
import socket
import sqlite3
import sys
import time
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy
from tests.polling import eventually
from tests.serverproc import REPO, Reply, ServeProcess, http, isolated_env, run_cli

pytestmark = pytest.mark.timeout(90)

KEY = "sk-status-api-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
MODEL = "gemini-2.5-flash"
GENERATE = f"/v1beta/models/{MODEL}:generateContent"


def raw(server: InProcessProxy | ServeProcess, method: str, path: str, **kwargs: Any) -> Reply:
    """A request with only the headers given: no key unless they carry one."""
    return http(server.port, method, path, **kwargs)


def call(server: InProcessProxy | ServeProcess, method: str, path: str, data: Any = None, **kwargs: Any) -> Reply:
    body = json.dumps(data).encode() if data is not None else None
    # Changes are JSON, with or without a body: without the key (auth off) the proxy refuses any other type.
    headers = {**AUTH, "Content-Type": "application/json"} if body is not None or method == "POST" else dict(AUTH)
    return raw(server, method, path, body=body, headers=headers, timeout=30, **kwargs)


def ok(reply: Reply) -> Any:
    assert reply.status == 200, reply.body
    return reply.json()


def error_message(reply: Reply, status: int) -> str:
    assert reply.status == status, reply.body
    error = reply.json()["error"]  # OpenAI's shape, like every /api error
    assert isinstance(error["message"], str) and error["type"]
    return str(error["message"])


def assert_no_secret(text: str, *tokens: str) -> None:
    assert "1//" not in text and "ya29." not in text
    for token in tokens:
        assert token not in text


def generation(text: str = "hello") -> bytes:
    return json.dumps({"contents": [{"role": "user", "parts": [{"text": text}]}]}).encode()


@pytest.fixture
def proxy_factory(home: Path, google: FakeGoogle) -> Iterator[Callable[..., InProcessProxy]]:
    """`proxy_factory(key=…, auth_mode=…, extra_yaml=…)`: this test's proxy, started; stopped at the end anyway."""
    started: list[InProcessProxy] = []

    def make(**settings: Any) -> InProcessProxy:
        server = InProcessProxy(home, google, **{"key": None, "auth_mode": None, **settings}).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def fake_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The system browser of this (test) process is tests/fakes/browser.py, which signs in like a user."""
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{REPO / "tests/fakes/browser.py"}" "$@"\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    monkeypatch.setenv("FAKE_BROWSER_PAGE", str(tmp_path / "page.html"))
    monkeypatch.setenv("FAKE_BROWSER_LOG", str(tmp_path / "browser.log"))
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # the webbrowser module reads BROWSER on its next use
    monkeypatch.setattr(webbrowser, "_browsers", {})


def test_accounts_listed_added_refreshed_and_removed(
    proxy_factory: Callable[..., InProcessProxy], home: Path, google: FakeGoogle
) -> None:
    server = proxy_factory(key=KEY, auth_mode="strict")
    assert ok(call(server, "GET", "/api/accounts")) == {"accounts": [], "error": None}

    # Strict auth: every admin path wants the key, even from loopback.
    for method, path in [("GET", "/api/accounts"), ("POST", "/api/accounts/refresh"), ("GET", "/api/logs"),
                         ("GET", "/api/stats"), ("GET", "/metrics"), ("DELETE", "/api/accounts/a@example.com"),
                         ("POST", "/api/accounts/login")]:  # fmt: skip
        assert "API key" in error_message(raw(server, method, path), 401)

    # An account the CLI adds shows up on its own (the registry watches the file), with its quota.
    google.add_account("alice@example.com", name="Alice", project="proj-alice", paid_tier="g1-pro-tier")
    alice_token = google.issue_refresh_token("alice@example.com")
    added = run_cli(isolated_env(home), "accounts", "add", "--refresh-token", alice_token)
    assert added.returncode == 0, added.stderr
    listed = eventually(lambda: ok(call(server, "GET", "/api/accounts"))["accounts"])
    assert [a["email"] for a in listed] == ["alice@example.com"]
    alice = listed[0]
    assert alice["email_masked"] == "al***@ex***" and alice["name"] == "Alice"
    assert (alice["tier"], alice["tier_name"], alice["project_id"], alice["status"]) == (
        "pro",
        "Google AI Pro",
        "proj-alice",
        "ok",
    )
    flash = next(q for q in alice["quota"] if q["model"] == MODEL)
    assert (flash["family"], flash["remaining"]) == ("Gemini Flash", 1.0) and flash["reset_at"].endswith("Z")
    assert alice["quota_checked_at"].endswith("Z") and alice["cooldown"] is None
    assert set(alice) >= {"id", "disabled_reason", "validation_url", "quota_error", "last_used_at"}

    # Adding by refresh token over the API: in the list at once, no wait for the file watcher.
    google.add_account("bob@example.com", project="proj-bob")
    bob_token = google.issue_refresh_token("bob@example.com")
    reply = call(server, "POST", "/api/accounts", {"refresh_token": bob_token})
    result = ok(reply)
    assert result["account"]["email"] == "bob@example.com" and result["problem"] is None and result["created"]
    assert_no_secret(reply.body.decode(), bob_token)
    listing = call(server, "GET", "/api/accounts")
    assert [a["email"] for a in listing.json()["accounts"]] == ["alice@example.com", "bob@example.com"]
    assert_no_secret(listing.body.decode(), alice_token, bob_token)

    # A bad token: 400 with Google's reason in words; a malformed request: 400 saying what is expected.
    refused = error_message(call(server, "POST", "/api/accounts", {"refresh_token": "1//not-a-real-token"}), 400)
    assert "this refresh token does not work: Google refused the refresh token (invalid_grant" in refused
    assert "refresh_token" in error_message(call(server, "POST", "/api/accounts", {"token": "x"}), 400)
    bad_json = raw(server, "POST", "/api/accounts", body=b"{nope", headers=AUTH)
    assert "not valid JSON" in error_message(bad_json, 400)

    # Refresh: every enabled account, or one by email.
    before = len(google.calls_to("fetchAvailableModels"))
    assert len(ok(call(server, "POST", "/api/accounts/refresh"))["accounts"]) == 2
    assert len(google.calls_to("fetchAvailableModels")) == before + 2
    ok(call(server, "POST", "/api/accounts/refresh", {"email": "BOB@example.com"}))
    assert [c.email for c in google.calls_to("fetchAvailableModels")][-1] == "bob@example.com"
    assert len(google.calls_to("fetchAvailableModels")) == before + 3
    assert "no account" in error_message(call(server, "POST", "/api/accounts/refresh", {"email": "x@example.com"}), 404)

    # Remove: 200 then 404; gone from the list at once.
    assert ok(call(server, "DELETE", "/api/accounts/bob@example.com")) == {"removed": "bob@example.com"}
    assert "no account bob@example.com" in error_message(call(server, "DELETE", "/api/accounts/bob@example.com"), 404)
    assert [a["email"] for a in ok(call(server, "GET", "/api/accounts"))["accounts"]] == ["alice@example.com"]
    server.stop()


@pytest.mark.usefixtures("fake_browser")
def test_sign_in_over_the_api(proxy_factory: Callable[..., InProcessProxy], home: Path, google: FakeGoogle) -> None:
    google.add_account("carol@example.com", name="Carol", project="proj-carol")
    server = proxy_factory()

    # Without the browser (a headless machine): the link comes back, the sign-in waits; one at a time.
    started = ok(call(server, "POST", "/api/accounts/login", {"open_browser": False}))
    assert started["state"] == "waiting" and started["url"].startswith(google.url + "/o/oauth2/v2/auth?")
    assert started["browser_opened"] is False
    again = ok(call(server, "POST", "/api/accounts/login"))
    assert again["login_id"] == started["login_id"]
    cancelled = ok(call(server, "DELETE", f"/api/accounts/login/{started['login_id']}"))
    assert (cancelled["state"], cancelled["message"]) == ("cancelled", "sign-in cancelled")
    assert ok(call(server, "GET", f"/api/accounts/login/{started['login_id']}"))["state"] == "cancelled"

    # With the browser: it opens, "the user" signs in, the account appears.
    login = ok(call(server, "POST", "/api/accounts/login"))
    assert login["login_id"] != started["login_id"] and login["browser_opened"] is True

    def finished() -> dict[str, Any] | None:
        state = ok(call(server, "GET", f"/api/accounts/login/{login['login_id']}"))
        return state if state["state"] != "waiting" else None

    done = eventually(finished, timeout=20)
    assert done is not None and done["state"] == "done", done
    assert done["message"] == "carol@example.com was added" and done["created"] is True
    port = int(login["url"].split("localhost%3A", 1)[1].split("%2F", 1)[0])
    assert (login["callback_port"], login["ssh_tunnel"]) == (
        port,
        f"ssh -L {port}:127.0.0.1:{port} {socket.gethostname()}",
    )
    assert done["account"]["email"] == "carol@example.com" and done["account"]["project_id"] == "proj-carol"
    assert (home.parent / "browser.log").read_text().strip() == login["url"]
    assert "carol@example.com is ready to use in trayagent" in (home.parent / "page.html").read_text()
    assert [a["email"] for a in ok(call(server, "GET", "/api/accounts"))["accounts"]] == ["carol@example.com"]

    # Signing in again to the same account updates it, and says so (the page words it from `created`).
    again = ok(call(server, "POST", "/api/accounts/login"))
    redone = eventually(
        lambda: (s := ok(call(server, "GET", f"/api/accounts/login/{again['login_id']}")))["state"] != "waiting" and s,
        20,
    )
    assert redone and (redone["state"], redone["created"]) == ("done", False), redone
    assert redone["message"] == "carol@example.com was updated"

    # A sign-in nobody finishes ends in words; unknown ids and bad bodies are refused clearly.
    short = ok(call(server, "POST", "/api/accounts/login", {"open_browser": False, "timeout": 1}))
    failed = eventually(
        lambda: ok(call(server, "GET", f"/api/accounts/login/{short['login_id']}"))["state"] == "failed"
    )
    assert failed
    message = ok(call(server, "GET", f"/api/accounts/login/{short['login_id']}"))["message"]
    assert "no answer from the browser within 1 seconds" in message
    assert "no sign-in" in error_message(call(server, "GET", "/api/accounts/login/nope"), 404)
    assert "timeout" in error_message(call(server, "POST", "/api/accounts/login", {"timeout": "soon"}), 400)
    server.stop()


def children(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


def zombies_under(pid: int) -> list[int]:
    def state(child: int) -> str:
        try:
            return Path(f"/proc/{child}/stat").read_text().split(") ", 1)[1][0]
        except OSError:
            return "gone"

    return [child for child in children(pid) if state(child) == "Z"]


def test_a_browser_that_dies_at_once_is_noticed_said_and_reaped(
    serve_factory: type[ServeProcess], home: Path, port: int, google: FakeGoogle, tmp_path: Path
) -> None:
    dying = tmp_path / "dying-browser"
    dying.write_text(
        '#!/bin/sh\nsleep 0.5\necho "Running as root without --no-sandbox is not supported." >&2\nexit 1\n'
    )
    dying.chmod(0o755)
    # "&": started in the background, the way xdg-open and most browsers are; it dies at once.
    env = {**isolated_env(home), "BROWSER": f"{dying} %s &"}
    server = serve_factory(home, google.config_yaml(port), env=env).start()
    assert server.proc is not None
    pid = server.proc.pid
    spawned = [c for c in children(pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
    (proxy,) = spawned  # the proxy process, where sign-ins run

    login = ok(call(server, "POST", "/api/accounts/login"))
    assert login["state"] == "waiting"

    def noticed() -> dict[str, Any] | None:
        state = ok(call(server, "GET", f"/api/accounts/login/{login['login_id']}"))
        return state if state["browser_problem"] else None

    seen = eventually(noticed, 15)
    assert seen, ok(call(server, "GET", f"/api/accounts/login/{login['login_id']}"))
    assert seen["browser_opened"] is False and seen["state"] == "waiting"
    reason = "the browser (dying-browser) exited at once with status 1: Running as root without --no-sandbox"
    assert seen["browser_problem"].startswith(reason), seen
    assert seen["message"].endswith("; open the link in a browser on this machine")
    assert "sign-in" in server.output() and reason in server.output()  # the log says it too
    assert eventually(lambda: not zombies_under(proxy), 10), zombies_under(proxy)
    ok(call(server, "DELETE", f"/api/accounts/login/{login['login_id']}"))
    assert server.stop() == 0


def test_requests_through_the_proxy_are_logged_counted_and_measured(
    proxy_factory: Callable[..., InProcessProxy], home: Path, google: FakeGoogle
) -> None:
    google.add_account("alice@example.com", project="proj-alice")
    server = proxy_factory(extra_yaml="monitor:\n  log_bodies: true\n")  # auth off on loopback: no key needed
    ok(call(server, "POST", "/api/accounts", {"refresh_token": google.issue_refresh_token("alice@example.com")}))
    usage = {"promptTokenCount": 11, "candidatesTokenCount": 7, "cachedContentTokenCount": 3, "thoughtsTokenCount": 5}
    google.reply([{"text": "scripted"}], usage=usage, times=3)

    for _ in range(3):
        assert raw(server, "POST", GENERATE, body=generation(), timeout=30).status == 200
    stream_path = f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
    stream = raw(server, "POST", stream_path, body=generation("hi bob@example.org"))
    assert stream.status == 200
    google.fail("streamGenerateContent", 400, message="Invalid argument from alice@example.com")
    failed = raw(server, "POST", GENERATE, body=generation(), timeout=30)
    assert failed.status == 400, failed.body

    rows = eventually(lambda: (r := ok(raw(server, "GET", "/api/logs"))["requests"]) and len(r) == 5 and r)
    assert rows, raw(server, "GET", "/api/logs").body
    newest = rows[0]
    assert newest["status"] == 400 and newest["protocol"] == "gemini" and newest["path"] == GENERATE
    assert newest["error"] and "alice@example.com" not in newest["error"] and "al***@ex***" in newest["error"]
    assert newest["upstream_failures"] and newest["attempts"] == 1
    assert rows[1]["stream"] is True
    plain = rows[2]
    assert (plain["client_model"], plain["upstream_model"], plain["account"], plain["status"]) == (
        MODEL,
        MODEL,
        "al***@ex***",
        200,
    )
    assert (plain["input_tokens"], plain["output_tokens"], plain["cached_tokens"], plain["thinking_tokens"]) == (
        11,
        7,
        3,
        5,
    )
    assert plain["duration_ms"] > 0 and 0 < plain["ttfb_ms"] <= plain["duration_ms"]
    assert set(plain) >= {
        "id",
        "time",
        "protocol",
        "path",
        "client_model",
        "upstream_model",
        "account",
        "status",
        "duration_ms",
        "ttfb_ms",
        "input_tokens",
        "output_tokens",
        "cached_tokens",
        "thinking_tokens",
        "error",
        "stream",
    }
    assert [r["status"] for r in ok(raw(server, "GET", "/api/logs?status=error"))["requests"]] == [400]
    # With monitor.log_bodies, one request's bodies, redacted: the stream's chunks one per line.
    entry = ok(raw(server, "GET", f"/api/logs/{rows[1]['id']}"))
    assert entry["request"] == rows[1]
    assert json.loads(entry["request_body"]) == {"contents": [{"role": "user", "parts": [{"text": "hi bo***@ex***"}]}]}
    # The bytes the client got: SSE events, one `data:` line each.
    events = [line.removeprefix("data: ") for line in entry["response_body"].splitlines() if line.startswith("data: ")]
    assert [json.loads(event)["candidates"][0]["content"]["parts"] for event in events] == [
        [{"text": "Hello"}],
        [{"text": " from "}],
        [{"text": MODEL}],
    ]
    assert "not in the log" in error_message(raw(server, "GET", "/api/logs/999999"), 404)
    assert len(ok(raw(server, "GET", "/api/logs?status=ok&limit=2&model=FLASH"))["requests"]) == 2
    assert ok(raw(server, "GET", "/api/logs?model=claude"))["requests"] == []

    stats = ok(raw(server, "GET", "/api/stats?by=hour&hours=2"))
    assert stats["by"] == "hour" and len(stats["rows"]) == 2
    this_hour = stats["rows"][-1]
    assert (this_hour["requests"], this_hour["errors"]) == (5, 1)
    assert this_hour["input_tokens"] >= 33 and this_hour["cached_tokens"] == 9 and this_hour["thinking_tokens"] == 15
    assert this_hour["key"].endswith(":00:00Z")
    by_model = ok(raw(server, "GET", "/api/stats?by=model"))["rows"]
    assert [(r["key"], r["requests"]) for r in by_model] == [(MODEL, 5)]
    by_account = ok(raw(server, "GET", "/api/stats?by=account"))["rows"]
    assert [r["key"] for r in by_account] == ["al***@ex***"]

    status = ok(raw(server, "GET", "/api/status"))
    assert status["requests"] == {"last_hour": 5, "errors_last_hour": 1}

    families = {f.name: f for f in text_string_to_metric_families(raw(server, "GET", "/metrics").body.decode())}
    requests = {
        (s.labels["protocol"], s.labels["model"], s.labels["status"]): s.value
        for s in families["trayagent_requests"].samples
        if s.name == "trayagent_requests_total"
    }
    assert requests == {("gemini", MODEL, "200"): 4.0, ("gemini", MODEL, "400"): 1.0}
    tokens = {s.labels["kind"]: s.value for s in families["trayagent_tokens"].samples if s.name.endswith("_total")}
    assert tokens["cached"] == 9 and tokens["thinking"] == 15 and tokens["input"] >= 33
    duration = families["trayagent_request_duration_seconds"]
    assert any(s.name.endswith("_count") and s.value == 5 for s in duration.samples)
    assert any(s.name.endswith("_count") for s in families["trayagent_time_to_first_byte_seconds"].samples)
    upstream = {s.labels["kind"]: s.value for s in families["trayagent_upstream_errors"].samples if "kind" in s.labels}
    assert sum(upstream.values()) >= 1
    accounts = {s.labels["state"]: s.value for s in families["trayagent_accounts"].samples}
    assert accounts == {"ok": 1.0, "disabled": 0.0, "needs_verification": 0.0}
    assert "trayagent_cooldowns" in families
    assert [s.value for s in families["trayagent_monitor_dropped"].samples if s.name.endswith("_total")] == [0.0]

    # A stuck database never slows a request: the write waits, the reply does not.
    with closing(sqlite3.connect(home / "data" / "monitor.sqlite3", isolation_level=None)) as blocker:
        blocker.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        assert raw(server, "POST", GENERATE, body=generation(), timeout=30).status == 200
        assert time.monotonic() - started < 2.0
        # Watched for longer than the writer's flush interval (0.5 s): its row stays out while the file is locked.
        assert not eventually(lambda: len(ok(raw(server, "GET", "/api/logs"))["requests"]) != 5, timeout=1.0)
        blocker.execute("COMMIT")
    assert eventually(lambda: len(ok(raw(server, "GET", "/api/logs"))["requests"]) == 6)
    server.stop()


def test_parameters_are_checked_and_a_disabled_monitor_keeps_no_file(
    proxy_factory: Callable[..., InProcessProxy], home: Path, google: FakeGoogle
) -> None:
    google.add_account("alice@example.com", project="proj-alice")
    server = proxy_factory(extra_yaml="monitor:\n  enabled: false\n")
    port = server.port
    ok(call(server, "POST", "/api/accounts", {"refresh_token": google.issue_refresh_token("alice@example.com")}))
    assert raw(server, "POST", GENERATE, body=generation(), timeout=30).status == 200

    for path, expected in [
        ("/api/logs?limit=0", "limit must be a whole number of at least 1, got 0"),
        ("/api/logs?limit=abc", "limit must be a whole number of at least 1, got 'abc'"),
        ("/api/logs?status=maybe", "status must be ok, error or an HTTP status code 100-599"),
        ("/api/stats?by=week", "by must be one of hour, day, account, model, got 'week'"),
        ("/api/stats?hours=0", "hours must be a whole number from 1 to 8784, got 0"),
    ]:
        assert expected in error_message(raw(server, "GET", path), 400), path

    logs = ok(raw(server, "GET", "/api/logs?limit=1000"))
    assert logs == {"requests": [], "monitor_enabled": False}
    stats = ok(raw(server, "GET", "/api/stats?by=hour&hours=3"))
    assert [row["requests"] for row in stats["rows"]] == [0, 0, 0]
    status = ok(raw(server, "GET", "/api/status"))
    assert status["requests"] == {"last_hour": 0, "errors_last_hour": 0}
    assert status["monitor"]["enabled"] is False
    assert status["base_urls"] == {
        "openai": f"http://127.0.0.1:{port}/v1",
        "anthropic": f"http://127.0.0.1:{port}",
        "gemini": f"http://127.0.0.1:{port}",
    }
    key = json.loads((home / "data" / "secrets.json").read_text())["api_key"]
    assert status["api_key_masked"] == f"{key[:5]}…{key[-4:]}" and key not in json.dumps(status)
    # The metrics still count; only the log is off.
    metrics = raw(server, "GET", "/metrics")
    assert metrics.status == 200 and metrics.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(metrics.body.decode())}
    assert sum(s.value for s in families["trayagent_requests"].samples if s.name.endswith("_total")) == 1
    server.stop()
    assert not (home / "data" / "monitor.sqlite3").exists()
