"""Fuzzing every protocol's routes on a real in-process proxy in front of the fake Google: bodies grown from the
golden cases' real client bodies by random mutations (values of the wrong type, keys removed or added, JSON
nested up to and past the bound), and random headers (bytes that are not UTF-8 included), sent over raw sockets.

Whatever comes in: never a 5xx, never a traceback in the log, and every error in the path's own protocol shape.
FUZZ_EXAMPLES=2000 (with --timeout=0) for a longer hunt; the default keeps all four tests under ~30 s.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes.google import DEFAULT_MODELS, FakeGoogle
from tests.golden import GOLDEN
from tests.inprocess import InProcessProxy
from tests.rawhttp import LogCapture, captured_log, error_shape_problem, request_bytes, send, tracebacks
from trayagent.translate.nesting import MAX_NESTING

KEY = "sk-fuzz-0123456789abcdef"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written beside the checkout; a failure prints its example and a blob to replay it
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
pytestmark = pytest.mark.timeout(120)
SERVED_MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "claude-sonnet-4-6", "gpt-4o", "claude-haiku-4-5")
MODELS: dict[str, dict[str, Any]] = {
    **DEFAULT_MODELS,
    "gemini-2.5-pro": {"displayName": "Gemini 2.5 Pro", "remainingFraction": 1.0},
    "gemini-3-flash": {"displayName": "Gemini 3 Flash", "remainingFraction": 1.0},
    "claude-sonnet-4-6-thinking": {"displayName": "Claude Sonnet 4.6 (Thinking)", "remainingFraction": 1.0},
    "claude-opus-4-6-thinking": {"displayName": "Claude Opus 4.6 (Thinking)", "remainingFraction": 1.0},
}


@dataclass(frozen=True)
class Seed:
    path: str  # with its query
    body: Any


def golden_seeds(folder: str, path: str) -> list[Seed]:
    seeds = []
    for case in sorted((GOLDEN / folder).iterdir()):
        if not (case / "client.json").exists():
            continue
        target = orjson.loads((case / "target.json").read_bytes()) if (case / "target.json").exists() else {}
        query = "&".join(f"{k}={v}" for k, v in target.get("query", {}).items() if k != "key")
        seeds.append(Seed(path + (f"?{query}" if query else ""), orjson.loads((case / "client.json").read_bytes())))
    return seeds


def gemini_seeds() -> list[Seed]:
    return [Seed("", seed.body) for seed in golden_seeds("gemini", "")]


SEEDS = {
    "openai": [
        *golden_seeds("openai_chat", "/v1/chat/completions"),
        *golden_seeds("openai_completions", "/v1/completions"),
        *golden_seeds("openai_responses", "/v1/responses"),
    ],
    "anthropic": [
        *golden_seeds("anthropic", "/v1/messages"),
        *golden_seeds("anthropic_count_tokens", "/v1/messages/count_tokens"),
    ],
    "gemini": gemini_seeds(),
    "admin": [
        Seed("/api/accounts", {"refresh_token": "1//fuzz"}),
        Seed("/api/accounts/refresh", {"email": "fuzz@example.com"}),
        Seed("/api/accounts/refresh", {}),
        Seed("/api/accounts/login", {"open_browser": False, "timeout": 5}),
        Seed("/api/key/reload", {}),
    ],
}
GEMINI_CALLS = (
    ":generateContent",
    ":streamGenerateContent?alt=sse",
    ":streamGenerateContent",
    ":countTokens",
    ":embedContent",
    "",
)

# -- strategies ---------------------------------------------------------------------------------------------

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "user", "assistant", "model", "system", "tool", "text", "function", "image", "auto"])
)
junk = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
)


def nested(levels: int) -> Any:
    value: Any = "deep"
    for level in range(levels):
        value = [value] if level % 2 else {"type": "object", "properties": {"a": value}}
    return value


deep = st.integers(min_value=MAX_NESTING - 40, max_value=MAX_NESTING + 8).map(lambda n: nested(n // 2))
values = junk | deep | st.builds(json.dumps, junk)  # JSON inside a string, too
HEADER_NAMES = [
    b"anthropic-beta",
    b"anthropic-version",
    b"x-claude-code-session-id",
    b"openai-beta",
    b"session_id",
    b"user-agent",
    b"accept",
    b"content-type",
    b"x-goog-api-client",
    b"x-stainless-retry-count",
    b"authorization",
    b"x-goog-api-key",
    b"cookie",
    b"x-fuzz",
]
header_values = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"").strip())
headers = st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_values), max_size=3)


def spots(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for name, child in value.items():
            yield from spots(child, (*at, name))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from spots(child, (*at, index))


def mutate(data: st.DataObject, body: Any) -> Any:
    body = orjson.loads(orjson.dumps(body))
    for _ in range(data.draw(st.integers(min_value=0, max_value=4), label="mutations")):
        where = data.draw(st.sampled_from(list(spots(body))), label="where")
        if not where:
            if data.draw(st.integers(0, 20)) == 0:
                body = data.draw(junk, label="whole body")
            continue
        parent: Any = body
        for step in where[:-1]:
            parent = parent[step]
        last = where[-1]
        kind = data.draw(st.sampled_from(["replace", "replace", "delete", "insert"]), label="kind")
        if kind == "replace":
            parent[last] = data.draw(values, label="value")
        elif kind == "delete":
            del parent[last]
        elif isinstance(parent, dict):
            known = sorted({*map(str, parent), "type", "text", "role", "content"})
            names = st.sampled_from(known) | st.text(max_size=6)
            parent[data.draw(names, label="key")] = data.draw(values, label="value")
        else:
            parent.insert(int(last), data.draw(values, label="value"))
    if isinstance(body, dict) and "model" in body and data.draw(st.integers(0, 3)) > 0:
        body["model"] = data.draw(st.sampled_from(SERVED_MODELS), label="model")
    return body


# -- the stage ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcessProxy, LogCapture]]:
    google = FakeGoogle().start()
    home: Path = tmp_path_factory.mktemp("fuzz")
    with captured_log() as log:
        proxy = InProcessProxy(home, google, key=KEY).start()
        try:
            proxy.add_account("fuzz@example.com", project="proj-fuzz", models=orjson.loads(orjson.dumps(MODELS)))
            yield proxy, log
        finally:
            proxy.stop()
            google.stop()


def exchange(
    stage: tuple[InProcessProxy, LogCapture], protocol: str, path: str, body: Any, extra: list[tuple[bytes, bytes]]
) -> None:
    proxy, log = stage
    mark = log.mark()
    sent = [(b"Host", f"127.0.0.1:{proxy.port}".encode()), (b"x-api-key", KEY.encode()), *extra]
    raw = json.dumps(body, ensure_ascii=False).encode()  # not orjson: integers past 64 bits are JSON too
    reply = send(proxy.port, request_bytes(b"POST", path.encode(), sent, raw), timeout=30)
    told = log.since(mark)
    where = f"POST {path} {raw[:2000]!r} headers={extra!r}"
    assert 200 <= reply.status < 500, f"{reply.status} for {where}: {reply.body[:500]!r}\n{told}"
    assert not tracebacks(told), f"a traceback for {where}:\n{told}"
    assert "unexpected error" not in told and "failed part-way" not in told, f"{where}:\n{told}"
    if reply.status >= 400:
        problem = error_shape_problem(protocol, reply.status, reply.json())
        assert problem is None, f"{problem} for {where}"


@SETTINGS
@given(data=st.data(), extra=headers)
def test_openai_routes(stage: tuple[InProcessProxy, LogCapture], data: st.DataObject, extra: Any) -> None:
    seed = data.draw(st.sampled_from(SEEDS["openai"]), label="seed")
    exchange(stage, "openai", seed.path, mutate(data, seed.body), extra)


@SETTINGS
@given(data=st.data(), extra=headers)
def test_anthropic_routes(stage: tuple[InProcessProxy, LogCapture], data: st.DataObject, extra: Any) -> None:
    seed = data.draw(st.sampled_from(SEEDS["anthropic"]), label="seed")
    exchange(stage, "anthropic", seed.path, mutate(data, seed.body), extra)


@SETTINGS
@given(data=st.data(), extra=headers)
def test_gemini_routes(stage: tuple[InProcessProxy, LogCapture], data: st.DataObject, extra: Any) -> None:
    seed = data.draw(st.sampled_from(SEEDS["gemini"]), label="seed")
    model = data.draw(st.sampled_from([*SERVED_MODELS, "gemini-3-flash", "nope", "a%2Fb", "x:y"]), label="model")
    version = data.draw(st.sampled_from(["/v1beta/models/", "/v1/models/"]), label="version")
    path = version + model + data.draw(st.sampled_from(GEMINI_CALLS), label="call")
    exchange(stage, "gemini", path, mutate(data, seed.body), extra)


@SETTINGS
@given(data=st.data(), extra=headers)
def test_admin_posts(stage: tuple[InProcessProxy, LogCapture], data: st.DataObject, extra: Any) -> None:
    seed = data.draw(st.sampled_from(SEEDS["admin"]), label="seed")
    body = mutate(data, seed.body)
    if seed.path == "/api/accounts/login" and isinstance(body, dict):
        body["open_browser"] = False  # no browser window per example
    exchange(stage, "openai", seed.path, body, extra)
