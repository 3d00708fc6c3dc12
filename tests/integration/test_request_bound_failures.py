"""A request Google answers with a 5xx whatever account sends it: the failure follows the request.

After it fails the same way on two accounts the proxy stops rotating and answers it, and no account is set
aside: every other request, concurrent or following, is served at once. A 5xx that belongs to one account
still sets that account aside once the request worked elsewhere. In-process proxy, fake Google, raw HTTP.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy
from tests.polling import eventually
from tests.serverproc import Reply

pytestmark = pytest.mark.timeout(60)

MODEL = "gemini-2.5-flash"
GENERATE = f"/v1beta/models/{MODEL}:generateContent"
STREAM = f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
EMAILS = ("alice@example.com", "bob@example.com", "carol@example.com")


def is_poison(request: dict[str, Any]) -> bool:
    return "poison" in json.dumps(request.get("contents"))


def body(words: str) -> bytes:
    return json.dumps({"contents": [{"role": "user", "parts": [{"text": words}]}]}).encode()


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle().start()
    yield fake
    fake.stop()


def pool(tmp_path: Path, google: FakeGoogle, emails: tuple[str, ...] = EMAILS) -> InProcessProxy:
    proxy = InProcessProxy(tmp_path / "home", google, key="sk-request-bound-1").start()
    for email in emails:
        proxy.add_account(email, project=f"p-{email.split('@')[0]}")
    return proxy


def poisoned(google: FakeGoogle) -> None:
    google.fail("streamGenerateContent", 500, message="Internal error encountered.", when=is_poison, times=1000)


def accounts_asked(google: FakeGoogle, poison: bool) -> set[str | None]:
    return {c.email for c in google.calls_to("streamGenerateContent") if is_poison(c.body["request"]) == poison}


def cooldowns(proxy: InProcessProxy) -> list[Any]:
    return [account["cooldown"] for account in proxy.request("GET", "/api/accounts").json()["accounts"]]


def post(proxy: InProcessProxy, path: str, words: str) -> Reply:
    return proxy.request("POST", path, body=body(words), timeout=30)


@pytest.mark.parametrize("path", [GENERATE, STREAM], ids=["generate", "stream"])
def test_after_two_accounts_the_error_is_returned_and_nobody_is_set_aside(
    tmp_path: Path, google: FakeGoogle, path: str
) -> None:
    proxy = pool(tmp_path, google)
    try:
        poisoned(google)
        reply = post(proxy, path, "poison pill")
        assert reply.status == 502, reply.body
        message = reply.json()["error"]["message"]
        assert "same way on two accounts" in message and "Internal error encountered." in message
        assert len(accounts_asked(google, poison=True)) == 2  # the third account was never asked
        assert cooldowns(proxy) == [None, None, None]

        for i in range(6):  # every following conversation is served at once, by any account
            assert post(proxy, path, f"conversation {i}").status == 200
    finally:
        proxy.stop()


def test_with_two_accounts_the_others_are_served_meanwhile(tmp_path: Path, google: FakeGoogle) -> None:
    proxy = pool(tmp_path, google, EMAILS[:2])
    try:
        poisoned(google)
        result: list[Reply] = []
        poison = threading.Thread(target=lambda: result.append(post(proxy, GENERATE, "poison pill")))
        poison.start()
        assert eventually(lambda: accounts_asked(google, poison=True), 10)
        served: list[int] = []
        while poison.is_alive() and len(served) < 500:  # other conversations, all the while it is in flight
            served.append(post(proxy, GENERATE, f"conversation {len(served)}").status)
        poison.join(30)
        assert served and set(served) == {200}, served
        assert post(proxy, GENERATE, "afterwards").status == 200
        assert cooldowns(proxy) == [None, None]
        assert result and result[0].status == 502, result
    finally:
        proxy.stop()


def test_a_5xx_of_one_account_still_sets_that_account_aside(tmp_path: Path, google: FakeGoogle) -> None:
    proxy = pool(tmp_path, google, EMAILS[:2])
    try:
        broken = EMAILS[0]
        google.fail("streamGenerateContent", 500, email=broken, times=1000)
        replies = [post(proxy, GENERATE, f"conversation {i}") for i in range(4)]
        assert [reply.status for reply in replies] == [200] * 4
        accounts = proxy.request("GET", "/api/accounts").json()["accounts"]
        cooling = {account["email"]: account["cooldown"] for account in accounts}
        assert cooling[EMAILS[1]] is None
        assert cooling[broken] is not None and cooling[broken]["kind"] == "transient", cooling
        # Once it is set aside, nobody tries it again until the cooldown ends.
        asked = len(google.calls_to("streamGenerateContent", broken))
        assert post(proxy, GENERATE, "one more").status == 200
        assert len(google.calls_to("streamGenerateContent", broken)) == asked
    finally:
        proxy.stop()
