"""CORS on the AI routes in every auth mode, over real HTTP against the in-process proxy with an account behind it.

Where the key is needed, `*`: a page cannot know the key. Where it is not, only pages on this machine
(http(s)://127.0.0.1, localhost, [::1], any port) and `proxy.cors_origins` are let in; any other page's request is
refused with 403 in the route's protocol shape before it reaches Google, so it cannot spend the quota. Chrome's
Private Network Access preflight is granted to the same origins, and the status API never grants a preflight.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy
from tests.polling import eventually
from tests.serverproc import Reply, ServeProcess, http, run_cli

pytestmark = pytest.mark.timeout(60)

KEY = "sk-cors-0123456789abcdef"
TRUSTED = "https://chat.example.com"
FOREIGN = "http://evil.example"
LOCAL = "http://localhost:5173"
MODEL = "gemini-2.5-flash"
TURN = [{"role": "user", "content": "hi"}]
ROUTES = {  # protocol → (path, body)
    "openai": ("/v1/chat/completions", {"model": MODEL, "messages": TURN}),
    "anthropic": ("/v1/messages", {"model": MODEL, "max_tokens": 8, "messages": TURN}),
    "gemini": (f"/v1beta/models/{MODEL}:generateContent", {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
}
ADMIN = ["/api/accounts", "/api/key", "/api/ui-session", "/metrics", "/ui/"]
PNA = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Private-Network": "true"}
GENERATION = ("streamGenerateContent", "generateContent")


@dataclass(frozen=True)
class Mode:
    auth_mode: str
    lan: bool
    key_needed: bool  # on the AI routes, from this machine


MODES = [
    Mode("off", False, False),
    Mode("auto", False, False),  # the default
    Mode("off", True, False),
    Mode("all_except_health", False, True),
    Mode("strict", False, True),
    Mode("auto", True, True),
]


@pytest.fixture(scope="module")
def fake_google() -> Iterator[FakeGoogle]:
    google = FakeGoogle().start()
    google.add_account("alice@example.com", project="p-alice")
    yield google
    google.stop()


@pytest.fixture(scope="module", params=MODES, ids=[f"{m.auth_mode}-lan_{'on' if m.lan else 'off'}" for m in MODES])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fake_google: FakeGoogle
) -> Iterator[tuple[Mode, InProcessProxy]]:
    mode: Mode = request.param
    extra = f"  allow_lan_access: {json.dumps(mode.lan)}\n  cors_origins: [{TRUSTED}]\n"
    home = tmp_path_factory.mktemp(f"cors-{mode.auth_mode}")
    proxy = InProcessProxy(home, fake_google, key=KEY, auth_mode=mode.auth_mode, proxy_yaml=extra).start()
    proxy.add_account("alice@example.com")
    try:
        yield mode, proxy
    finally:
        proxy.stop()


def send(proxy: InProcessProxy, protocol: str, origin: str | None, *, key: bool = False) -> Reply:
    """What a page's `fetch` sends: Origin, and a text/plain body (no preflight needed)."""
    path, body = ROUTES[protocol]
    headers = {"Content-Type": "text/plain"}
    if origin is not None:
        headers["Origin"] = origin
    if key:
        headers["x-api-key"] = KEY
    return http(proxy.port, "POST", path, body=json.dumps(body).encode(), headers=headers, timeout=30)


def preflight(proxy: InProcessProxy, path: str, origin: str) -> Reply:
    return http(proxy.port, "OPTIONS", path, headers={"Origin": origin, **PNA})


def generations(google: FakeGoogle) -> int:
    return sum(len(google.calls_to(method)) for method in GENERATION)


def error_text(reply: Reply, protocol: str) -> str:
    body = reply.json()
    if protocol == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "permission_error", body
        return str(body["error"]["message"])
    if protocol == "gemini":
        assert body["error"]["code"] == 403 and body["error"]["status"] == "PERMISSION_DENIED", body
        return str(body["error"]["message"])
    assert body["error"]["code"] == "forbidden", body
    return str(body["error"]["message"])


@pytest.mark.parametrize("protocol", list(ROUTES))
def test_a_foreign_page_cannot_spend_the_quota(
    served: tuple[Mode, InProcessProxy], fake_google: FakeGoogle, protocol: str
) -> None:
    mode, proxy = served
    before = generations(fake_google)
    reply = send(proxy, protocol, FOREIGN)
    if mode.key_needed:
        assert reply.status == 401  # the key is the guard, as before; the page may read that it needs one
        assert reply.headers["access-control-allow-origin"] == "*"
    else:
        assert reply.status == 403, reply.body
        message = error_text(reply, protocol)
        assert f"web pages from {FOREIGN} may not use this proxy without its API key" in message
        assert "proxy.cors_origins" in message
        assert "access-control-allow-origin" not in reply.headers
        assert send(proxy, protocol, "null").status == 403
    assert generations(fake_google) == before  # nothing reached Google


def test_a_refused_page_is_logged_once(served: tuple[Mode, InProcessProxy], caplog: pytest.LogCaptureFixture) -> None:
    mode, proxy = served
    if mode.key_needed:
        pytest.skip("the key guards this mode: no origin is refused")
    origin = f"http://logged-{mode.auth_mode}-{'lan' if mode.lan else 'local'}.example"  # not refused before
    with caplog.at_level("WARNING", logger="trayagent.proxy.app"):
        assert [send(proxy, "openai", origin).status for _ in range(3)] == [403, 403, 403]
    lines = [r.getMessage() for r in caplog.records if r.name == "trayagent.proxy.app"]
    assert len(lines) == 1, lines
    assert lines[0].startswith("refused a browser request (403): web pages from " + origin)


@pytest.mark.parametrize("protocol", list(ROUTES))
def test_pages_on_this_machine_and_trusted_origins_are_served_and_may_read(
    served: tuple[Mode, InProcessProxy], protocol: str
) -> None:
    mode, proxy = served
    for origin in (LOCAL, "http://127.0.0.1:3000", "http://[::1]:8080", TRUSTED):
        reply = send(proxy, protocol, origin, key=mode.key_needed)
        assert reply.status == 200, (origin, reply.body[:300])
        if mode.key_needed:
            assert reply.headers["access-control-allow-origin"] == "*"
        else:
            assert reply.headers["access-control-allow-origin"] == origin
            assert reply.headers["vary"] == "Origin"
        assert "X-Account" in reply.headers["access-control-expose-headers"]


def test_with_the_key_any_page_may_call_and_read(served: tuple[Mode, InProcessProxy]) -> None:
    mode, proxy = served
    reply = send(proxy, "openai", FOREIGN, key=True)
    assert reply.status == 200, reply.body
    if mode.key_needed:
        assert reply.headers["access-control-allow-origin"] == "*"
    else:
        assert "access-control-allow-origin" not in reply.headers  # served (a program's key), not readable


def test_programs_without_an_origin_are_served_as_before(served: tuple[Mode, InProcessProxy]) -> None:
    mode, proxy = served
    reply = send(proxy, "gemini", None, key=mode.key_needed)
    assert reply.status == 200
    assert reply.headers.get("access-control-allow-origin") == ("*" if mode.key_needed else None)


def test_preflights_and_private_network_access(served: tuple[Mode, InProcessProxy]) -> None:
    mode, proxy = served
    path = ROUTES["openai"][0]
    foreign = preflight(proxy, path, FOREIGN)
    assert foreign.status == 204
    if mode.key_needed:
        assert foreign.headers["access-control-allow-origin"] == "*"
        assert foreign.headers["access-control-allow-private-network"] == "true"
    else:
        assert "access-control-allow-origin" not in foreign.headers
        assert "access-control-allow-private-network" not in foreign.headers
        assert foreign.headers["vary"] == "Origin"
    for origin in (LOCAL, TRUSTED):
        granted = preflight(proxy, path, origin)
        assert granted.headers["access-control-allow-origin"] == ("*" if mode.key_needed else origin)
        assert granted.headers["access-control-allow-private-network"] == "true"
        assert "POST" in granted.headers["access-control-allow-methods"]
    plain = http(proxy.port, "OPTIONS", path, headers={"Origin": LOCAL, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-private-network" not in plain.headers  # only when asked


@pytest.mark.parametrize("path", ADMIN)
def test_the_status_api_never_grants_a_preflight(served: tuple[Mode, InProcessProxy], path: str) -> None:
    _, proxy = served
    for origin in (LOCAL, TRUSTED, FOREIGN):
        reply = preflight(proxy, path, origin)
        assert reply.status == 204
        assert not [name for name in reply.headers if name.startswith("access-control-")], reply.headers


def test_health_answers_a_foreign_page_but_tells_it_nothing_extra(served: tuple[Mode, InProcessProxy]) -> None:
    mode, proxy = served
    headers = {"Origin": FOREIGN, **({"x-api-key": KEY} if mode.auth_mode == "strict" else {})}
    reply = http(proxy.port, "GET", "/healthz", headers=headers)
    assert reply.status == 200
    health_needs_key = mode.auth_mode == "strict"
    assert reply.headers.get("access-control-allow-origin") == ("*" if health_needs_key else None)


@pytest.fixture(scope="module")
def no_cors(tmp_path_factory: pytest.TempPathFactory, fake_google: FakeGoogle) -> Iterator[InProcessProxy]:
    home = tmp_path_factory.mktemp("cors-false")
    proxy = InProcessProxy(home, fake_google, key=KEY, auth_mode="off", proxy_yaml="  cors: false\n").start()
    proxy.add_account("alice@example.com")
    try:
        yield proxy
    finally:
        proxy.stop()


def test_cors_false_sends_no_cors_headers_and_still_refuses_foreign_pages(no_cors: InProcessProxy) -> None:
    local = send(no_cors, "openai", LOCAL)
    assert local.status == 200 and "access-control-allow-origin" not in local.headers
    assert send(no_cors, "openai", FOREIGN).status == 403
    granted = preflight(no_cors, ROUTES["openai"][0], LOCAL)
    assert not [name for name in granted.headers if name.startswith("access-control-")]


def test_cors_origins_apply_on_save_and_a_bad_entry_keeps_the_last_good_list(
    serve_factory: type[ServeProcess], home: Path, port: int
) -> None:
    """`trayagent serve` with the default auth (no key on this machine): trusting an origin is a live change."""
    config = home / "config.yaml"
    server = serve_factory(home, f"proxy:\n  port: {port}\n").start()

    def answer(origin: str) -> int:
        return send_to(port, origin).status

    assert answer(TRUSTED) == 403
    assert answer(LOCAL) == 424  # admitted: no account yet
    save_atomically(config, f"proxy:\n  port: {port}\n  cors_origins:\n    - {TRUSTED}/\n")
    assert eventually(lambda: answer(TRUSTED) == 424, 15), server.output()
    assert send_to(port, TRUSTED).headers["access-control-allow-origin"] == TRUSTED
    save_atomically(config, f"proxy:\n  port: {port}\n  cors_origins:\n    - {TRUSTED}/app\n")
    problem = "proxy.cors_origins (line 4): item 0: expected only scheme://host[:port]"
    assert eventually(lambda: problem in str(http(port, "GET", "/api/status").json()["config_error"]), 15)
    assert answer(TRUSTED) == 424  # the last good list still holds
    assert run_cli(server.env, "config", "check").returncode == 2


def send_to(port: int, origin: str) -> Reply:
    path, body = ROUTES["openai"]
    headers = {"Origin": origin, "Content-Type": "text/plain"}
    return http(port, "POST", path, body=json.dumps(body).encode(), headers=headers, timeout=30)


def save_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
