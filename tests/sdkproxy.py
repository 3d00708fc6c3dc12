"""The stage for the official-SDK tests: an in-process proxy in front of a fake Google that checks thought
signatures as strictly as the real one, with two accounts serving every model the tests route to, and helpers
to read what reached Google and which signature refusals the fake answered."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anthropic

from tests.fakes.google import DEFAULT_MODELS, FakeGoogle
from tests.fakes.thoughts import Refusal
from tests.inprocess import InProcessProxy

SDK_KEY = "sk-sdk-e2e-0123456789abcdef"
ALICE = "alice@example.com"
BOB = "bob@example.com"
EMAILS = (ALICE, BOB)
MODELS: dict[str, dict[str, Any]] = {
    **DEFAULT_MODELS,
    "gemini-2.5-pro": {"displayName": "Gemini 2.5 Pro", "remainingFraction": 1.0},
    "gemini-3-flash": {"displayName": "Gemini 3 Flash", "remainingFraction": 1.0},
    "claude-sonnet-4-6-thinking": {"displayName": "Claude Sonnet 4.6 (Thinking)", "remainingFraction": 1.0},
    "claude-opus-4-6-thinking": {"displayName": "Claude Opus 4.6 (Thinking)", "remainingFraction": 1.0},
}
# What the real CLIs send (texts elided): the project's shared/ folder, which sits beside the checkout.
CLIENT_REQUESTS = Path(__file__).resolve().parents[2] / "shared" / "notes" / "client-requests"
OWN_TEXT_KEYS = frozenset({"text", "description", "content", "instructions"})
# The model the failure tests use: a stream cut part-way leaves an account cooling down for it alone.
FAILURE_MODEL = "gemini-2.5-pro"


def add_accounts(proxy: InProcessProxy, emails: Sequence[str] = EMAILS) -> None:
    for email in emails:
        proxy.add_account(email, project="proj-" + email.split("@")[0], models=json.loads(json.dumps(MODELS)))


@contextlib.contextmanager
def stage(home: Path, key: str, emails: Sequence[str] = EMAILS) -> Iterator[InProcessProxy]:
    """A started proxy and its strict fake Google, both stopped afterwards."""
    google = FakeGoogle(strict_signatures=True).start()
    try:
        with fresh_proxy(home, google, key, emails) as proxy:
            yield proxy
    finally:
        google.stop()


@contextlib.contextmanager
def fresh_proxy(home: Path, google: FakeGoogle, key: str, emails: Sequence[str] = EMAILS) -> Iterator[InProcessProxy]:
    """Another proxy on the same fake Google and accounts: a restart, with an empty signature cache."""
    proxy = InProcessProxy(home, google, key=key).start()
    try:
        add_accounts(proxy, emails)
        yield proxy
    finally:
        proxy.stop()


class Upstream:
    """What a test's requests did at the fake Google, counted from the moment it was made."""

    def __init__(self, google: FakeGoogle) -> None:
        self.google = google
        self._calls = len(google.calls)
        self._refusals = len(google.signatures.refusals)

    def generations(self) -> list[Any]:
        """This test's generation calls (streamGenerateContent and generateContent), oldest first."""
        methods = ("streamGenerateContent", "generateContent")
        return [call for call in self.google.calls[self._calls :] if call.method in methods]

    def last(self) -> dict[str, Any]:
        """The GenerateContentRequest of the latest generation call."""
        calls = self.generations()
        assert calls, "nothing reached Google"
        request: dict[str, Any] = calls[-1].body["request"]
        return request

    def count_requests(self) -> list[dict[str, Any]]:
        return [call.body["request"] for call in self.google.calls[self._calls :] if call.method == "countTokens"]

    def refusals(self) -> list[Refusal]:
        """The signature 400s the fake answered since this test began."""
        return self.google.signatures.refusals[self._refusals :]

    def emails(self) -> list[str | None]:
        return [call.email for call in self.generations()]


def model_parts(request: dict[str, Any]) -> list[dict[str, Any]]:
    """Every part of every model turn, in order."""
    return [part for content in request["contents"] if content["role"] == "model" for part in content["parts"]]


def response_parts(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [part["functionResponse"] for content in request["contents"] for part in content["parts"] if
            "functionResponse" in part]  # fmt: skip


def fake_signature(name: str) -> str:
    """A thought signature for the fake to issue: base64, as Google sends them."""
    return base64.b64encode(name.encode()).decode()


def own_texts(value: Any) -> Any:
    """A captured body with every text in it (prompts, system texts, tool descriptions, elided "<text, N chars>")
    replaced by one of ours, numbered in document order: the shapes are the client's, the words are not."""
    counter = itertools.count(1)

    def walk(item: Any, key: str | None) -> Any:
        if isinstance(item, str):
            own = key in OWN_TEXT_KEYS or item.startswith("<text, ")
            return f"own text {next(counter)}" if own else item
        if isinstance(item, list):
            return [walk(element, key if key == "content" else None) for element in item]
        if isinstance(item, dict):
            return {name: walk(element, name) for name, element in item.items()}
        return item

    return walk(value, None)


def anthropic_sdk(base: str) -> anthropic.Anthropic:
    """The official client as a test uses it: no retries (a retry would hide what the proxy answered)."""
    return anthropic.Anthropic(base_url=base, api_key=SDK_KEY, max_retries=0, timeout=20)


def user_turn(content: str) -> list[Any]:
    """A conversation of one user message, as `messages` or Responses `input`."""
    return [{"role": "user", "content": content}]


def final_message(client: anthropic.Anthropic, *, streamed: bool, **kwargs: Any) -> anthropic.types.Message:
    """`messages.create`, or the `messages.stream` helper's final message: the two paths must agree."""
    if not streamed:
        return client.messages.create(**kwargs)
    with client.messages.stream(**kwargs) as stream:
        return stream.get_final_message()
