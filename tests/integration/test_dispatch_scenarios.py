"""The dispatcher with several accounts against the fake Google: rotation, waits, cooldowns, refreshes,
disabling, exhaustion, stream failures before and after the first byte, sticky sessions.

Each test runs its own proxy (pool state lives in the proxy), in-process (tests/inprocess.py) but for the one
whose subject is a config reload in a running `trayagent serve`, and talks plain HTTP, so the status codes,
headers and stream bytes the client gets are checked exactly.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.generation import text
from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy
from tests.polling import eventually
from tests.serverproc import Reply, ServeProcess, isolated_env, run_cli
from trayagent.accounts.store import AccountStore
from trayagent.accounts.table import as_json

pytestmark = pytest.mark.timeout(90)

MODEL = "gemini-2.5-flash"
GENERATE = f"/v1beta/models/{MODEL}:generateContent"
STREAM = f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"


def body(first_message: str = "hi", *more: str) -> bytes:
    contents = [{"role": "user", "parts": [{"text": first_message}]}]
    for i, turn in enumerate(more):
        contents.append({"role": "model" if i % 2 == 0 else "user", "parts": [{"text": turn}]})
    return json.dumps({"contents": contents}).encode()


class Pool:
    """A running proxy with some accounts, and shortcuts to ask it things."""

    def __init__(self, server: InProcessProxy | ServeProcess, google: FakeGoogle, emails: list[str]) -> None:
        self.server, self.google, self.emails = server, google, emails

    def post(self, path: str = GENERATE, data: bytes | None = None) -> Reply:
        return self.server.request("POST", path, body=data if data is not None else body(), timeout=30)

    def calls(self, email: str | None = None, method: str = "streamGenerateContent") -> int:
        return len(self.google.calls_to(method, email))

    def who(self, reply: Reply) -> str:
        """The account that answered, from the masked X-Account header."""
        masked = reply.headers["x-account"]
        matches = [e for e in self.emails if masked == f"{e[:2]}***@{e.split('@')[1][:2]}***"]
        assert len(matches) == 1, (masked, self.emails)
        return matches[0]

    def accounts(self) -> list[dict[str, Any]]:
        """The records as the proxy saved them in its data directory (what `accounts list --json --full` prints)."""
        return as_json(AccountStore(self.server.home / "data").load(), full=True)

    def cli(self, *args: str) -> None:
        """A `trayagent` CLI command on this proxy's config and data, as the user would run it."""
        result = run_cli(isolated_env(self.server.home), *args)
        assert result.returncode == 0, result.stderr


def add_accounts(google: FakeGoogle, emails: tuple[str, ...], pro: str | None) -> None:
    """`pro`: the one account with a paid tier, which the pool prefers while it is healthy."""
    for email in emails:
        google.add_account(email, project=f"p-{email.split('@')[0]}", paid_tier="g1-pro-tier" if email == pro else None)


def wait_available(pool: Pool) -> Pool:
    assert eventually(
        lambda: pool.server.request("GET", "/api/status").json()["accounts"]["available"] == len(pool.emails)
    )
    return pool


@pytest.fixture
def pool_factory(home: Path, google: FakeGoogle) -> Iterator[Callable[..., Pool]]:
    """A fresh in-process proxy per call (pool state must not leak between tests), its accounts signed in."""
    started: list[InProcessProxy] = []

    def make(*emails: str, extra: str = "", pro: str | None = None) -> Pool:
        add_accounts(google, emails, pro)
        server = InProcessProxy(home, google, key=None, auth_mode=None, extra_yaml=extra).start()
        started.append(server)
        for email in emails:
            server.add_account(email)
        return wait_available(Pool(server, google, list(emails)))

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def serve_pool_factory(
    serve_factory: type[ServeProcess], home: Path, port: int, google: FakeGoogle, tmp_path: Path
) -> Callable[..., Pool]:
    """The same stage as `pool_factory` on a `trayagent serve` process: for what only a process does (reloads)."""

    def make(*emails: str, extra: str = "") -> Pool:
        add_accounts(google, emails, None)
        server = serve_factory(home, google.config_yaml(port, extra=extra)).start()
        source = tmp_path / "accounts-import.json"
        source.write_text(json.dumps([{"email": e, "refresh_token": google.issue_refresh_token(e)} for e in emails]))
        pool = Pool(server, google, list(emails))
        pool.cli("accounts", "import", str(source))
        return wait_available(pool)

    return make


def test_quota_429_rotates_and_the_account_stays_out_until_its_reset(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com")
    google = pool.google
    google.fail("streamGenerateContent", 429, reason="QUOTA_EXHAUSTED", metadata={"quotaResetDelay": "1h16m0.667s"})

    first = pool.post()
    assert first.status == 200, first.body
    assert pool.calls() == 2  # the quota-exhausted account, then the other one
    exhausted = next(call.email for call in google.calls_to("streamGenerateContent"))
    assert pool.who(first) != exhausted

    # New conversations (each a new session) all avoid the exhausted account until its reset.
    for i in range(6):
        reply = pool.post(data=body(f"conversation {i}"))
        assert reply.status == 200 and pool.who(reply) != exhausted
    assert pool.calls(exhausted) == 1


def test_a_short_rate_limit_waits_and_retries_the_same_account(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com")
    pool.google.fail("streamGenerateContent", 429, reason="RATE_LIMIT_EXCEEDED", retry_delay="0.6s")

    reply = pool.post()
    assert reply.status == 200, reply.body
    calls = pool.google.calls_to("streamGenerateContent")
    assert len(calls) == 2 and calls[0].email == calls[1].email == pool.who(reply)
    assert calls[1].at - calls[0].at >= 0.55


def test_capacity_429_cools_the_model_without_burning_every_account(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com", "carol@example.com")
    pool.google.fail("streamGenerateContent", 429, reason="MODEL_CAPACITY_EXHAUSTED", times=10)

    reply = pool.post()
    assert reply.status == 429, reply.body
    assert pool.calls() == 1  # one account learnt it; the others were spared
    assert 1 <= int(reply.headers["retry-after"]) <= 6
    error = reply.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED" and "out of capacity" in error["message"]
    assert reply.headers["x-mapped-model"] == MODEL

    again = pool.post()  # the model is cooling: fail fast, no upstream call
    assert again.status == 429 and pool.calls() == 1


def test_5xx_on_the_first_base_falls_back_to_the_next(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com")
    pool.google.fail("streamGenerateContent", 503, base="sandbox")

    reply = pool.post()
    assert reply.status == 200, reply.body
    assert [call.base for call in pool.google.calls_to("streamGenerateContent")] == ["sandbox", "daily"]


def test_5xx_on_every_base_retries_then_rotates(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com")
    google = pool.google
    google.fail("streamGenerateContent", 500, times=6)  # two passes over the three bases

    reply = pool.post()
    assert reply.status == 200, reply.body
    calls = google.calls_to("streamGenerateContent")
    assert len(calls) == 7
    assert len({call.email for call in calls[:6]}) == 1  # one account, tried twice (once after a pause)
    assert calls[6].email != calls[0].email == calls[5].email
    assert calls[3].at - calls[2].at >= 0.9


def test_401_refreshes_the_token_once(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com")
    google = pool.google
    assert pool.post().status == 200
    refreshes = pool.calls("alice@example.com", method="refresh")
    google.expire_access_tokens()  # Google forgets the token the proxy still believes in

    reply = pool.post()
    assert reply.status == 200, reply.body
    assert pool.calls("alice@example.com", method="refresh") == refreshes + 1
    assert pool.post().status == 200
    assert pool.calls("alice@example.com", method="refresh") == refreshes + 1


def test_403_validation_required_disables_the_account_and_keeps_the_url(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com", pro="alice@example.com")
    url = "https://accounts.google.com/signin/continue?verify=alice"
    pool.google.accounts["alice@example.com"].validation_url = url

    answered = set()
    for i in range(6):
        reply = pool.post(data=body(f"conversation {i}"))
        assert reply.status == 200, reply.body
        answered.add(pool.who(reply))
    assert answered == {"bob@example.com"}
    assert pool.calls("alice@example.com") == 1  # preferred (pro) and tried first, once; then kept out

    alice = next(a for a in pool.accounts() if a["email"] == "alice@example.com")
    assert alice["validation_url"] == url and alice["status"] == "needs_verification", alice
    status = pool.server.request("GET", "/api/status").json()["accounts"]
    assert status["needs_verification"] == 1


def test_403_validation_required_in_fixed_mode_reports_the_url(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", extra="scheduling:\n  mode: fixed\n  fixed_account: alice@example.com\n")
    url = "https://accounts.google.com/signin/continue?verify=alice"
    pool.google.accounts["alice@example.com"].validation_url = url

    reply = pool.post()
    assert reply.status == 424, reply.body  # the first answer is already the one only the user can fix
    assert reply.headers.get("x-should-retry") == "false"
    assert url in reply.json()["error"]["message"]
    assert "alice@example.com" not in reply.body.decode()  # masked: clients may be on the LAN
    alice = eventually(lambda: [a for a in pool.accounts() if a["status"] == "needs_verification"])
    assert alice and alice[0]["validation_url"] == url
    again = pool.post()
    assert again.status == 424 and pool.calls("alice@example.com") == 1  # only the user can fix it now
    assert "verify" in again.json()["error"]["message"]

    # The user verifies, then refreshes the account: the proxy takes it back at once.
    pool.google.accounts["alice@example.com"].validation_url = None
    pool.cli("accounts", "list", "--refresh")
    assert eventually(lambda: pool.post().status == 200)


def test_all_accounts_cooling_gives_429_with_retry_after(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com")
    pool.google.fail("streamGenerateContent", 429, reason="RATE_LIMIT_EXCEEDED", retry_delay="40s", times=2)

    reply = pool.post()
    assert reply.status == 429, reply.body
    assert 35 <= int(reply.headers["retry-after"]) <= 41
    message = reply.json()["error"]["message"]
    assert "rate limited" in message and "40 s" in message, message
    assert pool.calls() == 2

    fast = pool.post(data=body("another conversation"))
    assert fast.status == 429 and "next free in" in fast.json()["error"]["message"]
    assert 30 <= int(fast.headers["retry-after"]) <= 41
    assert pool.calls() == 2  # failed fast, Google was not asked again


@pytest.mark.parametrize("misbehaviour", ["empty", "429", "slow-then-cut"])
def test_a_stream_failing_before_the_first_byte_is_retried_invisibly(
    pool_factory: Callable[..., Pool], misbehaviour: str
) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com")
    google = pool.google
    if misbehaviour == "empty":
        google.fail("streamGenerateContent", 200, empty=True)
    elif misbehaviour == "429":
        google.fail("streamGenerateContent", 429, reason="QUOTA_EXHAUSTED")
    else:
        google.fail("streamGenerateContent", 200, cut_after=0, delay=0.3)

    reply = pool.post(STREAM)
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = sse_payloads(reply.body)
    assert "".join(part["text"] for e in events for part in e["candidates"][0]["content"]["parts"]) == (
        f"Hello from {MODEL}"
    )
    assert all("error" not in e for e in events)
    assert pool.calls() == 2


def test_a_stream_failing_after_the_first_byte_ends_with_an_error_event(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com")
    pool.google.reply([text("one")], [text(" two")], [text(" three")], times=2)
    pool.google.fail("streamGenerateContent", 200, cut_after=1)

    reply = pool.post(STREAM)
    assert reply.status == 200
    events = sse_payloads(reply.body)
    assert events[0]["candidates"][0]["content"]["parts"][0]["text"] == "one"
    assert "error" in events[-1], events
    assert events[-1]["error"]["code"] == 502 and "broke off" in events[-1]["error"]["message"]

    # The JSON-array form ends with an error element too, and stays valid JSON.
    pool.google.fail("streamGenerateContent", 200, cut_after=1)
    array = pool.post(f"/v1beta/models/{MODEL}:streamGenerateContent")
    items = json.loads(array.body)
    assert "candidates" in items[0] and "error" in items[-1]


def test_a_broken_stream_is_retried_whole_for_a_non_streaming_client(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com")
    pool.google.fail("streamGenerateContent", 200, cut_after=1)

    reply = pool.post()
    assert reply.status == 200, reply.body
    parts = reply.json()["candidates"][0]["content"]["parts"]
    assert parts == [{"text": f"Hello from {MODEL}"}]


def test_sticky_sessions_keep_a_conversation_on_one_account(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com", "carol@example.com")
    history: list[str] = []
    owners = set()
    for turn in range(6):
        reply = pool.post(data=body("plan my trip to Lisbon", *history))
        assert reply.status == 200
        owners.add(pool.who(reply))
        history += [f"answer {turn}", f"question {turn}"]
    assert len(owners) == 1

    spread = {pool.who(pool.post(data=body(f"topic {i}"))) for i in range(12)}
    assert len(spread) >= 2  # new conversations are spread over the pool


def test_a_vanished_project_is_looked_up_again(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com")
    pool.google.accounts["alice@example.com"].project = "p-moved"

    reply = pool.post()
    assert reply.status == 200, reply.body
    assert eventually(lambda: pool.accounts()[0]["project_id"] == "p-moved")
    assert pool.calls() == 3 + 1  # 404 on each of the three bases, then the new project on the first


def test_a_model_google_does_not_know_is_a_404_not_an_outage(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com")
    for _ in range(2):  # the first asks Google; the second fails fast on what the pool learnt
        reply = pool.post("/v1beta/models/gemini-9-ultra:generateContent")
        assert reply.status == 404, reply.body
        error = reply.json()["error"]
        assert error["status"] == "NOT_FOUND" and "gemini-9-ultra was not found upstream" in error["message"]
    assert pool.post().status == 200  # other models are not affected


def test_an_upstream_400_goes_back_to_the_client(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com")
    pool.google.fail("streamGenerateContent", 400, message="Invalid JSON payload: unknown field 'foo'")

    reply = pool.post()
    assert reply.status == 400
    assert reply.json()["error"]["message"].startswith("Invalid JSON payload")
    assert pool.calls() == 1


def test_a_revoked_account_is_disabled_and_the_next_one_answers(pool_factory: Callable[..., Pool]) -> None:
    pool = pool_factory("alice@example.com", "bob@example.com", pro="alice@example.com")
    pool.google.revoke("alice@example.com")
    pool.google.expire_access_tokens()

    for i in range(6):
        reply = pool.post(data=body(f"conversation {i}"))
        assert reply.status == 200 and pool.who(reply) == "bob@example.com"
    assert pool.calls("alice@example.com", method="refresh") == 1
    alice = eventually(lambda: [a for a in pool.accounts() if a["email"] == "alice@example.com" and not a["enabled"]])
    assert alice and "sign in again" in alice[0]["disabled_reason"]


def test_model_mapping_and_timeouts_apply_live_without_cutting_streams(serve_pool_factory: Callable[..., Pool]) -> None:
    pool = serve_pool_factory("alice@example.com")
    server, google = pool.server, pool.google
    assert isinstance(server, ServeProcess)
    assert pool.post("/v1beta/models/my-model:generateContent").headers["x-mapped-model"] == "my-model"

    config = server.home / "config.yaml"
    base = config.read_text()
    config.write_text(base + "models:\n  mapping:\n    my-*: gemini-2.5-pro\n")
    assert eventually(
        lambda: pool.post("/v1beta/models/my-model:generateContent").headers["x-mapped-model"] == "gemini-2.5-pro"
    )

    # Upstream settings renew the account registry; a stream already running keeps going to its end.
    google.reply(*[[text(f"{i} ")] for i in range(8)], chunk_delay=0.25)
    slow = threading.Thread(target=lambda: results.append(pool.post(STREAM)))
    results: list[Reply] = []
    streams_before = pool.calls()
    slow.start()
    assert eventually(lambda: pool.calls() > streams_before)  # Google is streaming it: the reload comes mid-stream
    config.write_text(base.replace("upstream:\n", "upstream:\n  read_timeout: 30\n"))
    assert eventually(lambda: "account settings reloaded" in server.output())
    slow.join(20)
    events = sse_payloads(results[0].body)
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events) == "".join(
        f"{i} " for i in range(8)
    )
    assert pool.post().status == 200


def sse_payloads(raw: bytes) -> list[dict[str, Any]]:
    events = []
    for block in raw.decode().replace("\r\n", "\n").split("\n\n"):
        data = [line[6:] for line in block.split("\n") if line.startswith("data: ")]
        if data:
            events.append(json.loads("".join(data)))
    return events
