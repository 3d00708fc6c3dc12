"""The auth matrix against real servers: 4 modes × LAN on/off × {health, AI routes, status API} × every key form.

Each (mode, LAN) pair is one in-process proxy for the module (tests/inprocess.py); the requests come from loopback,
as they did to a `trayagent serve` (which socket LAN access binds is tests/integration/test_bind.py's subject)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.inprocess import InProcessProxy
from tests.serverproc import Reply, http

KEY = "sk-matrix-0123456789abcdef"

SERVERS = [(mode, lan) for mode in ("off", "strict", "all_except_health", "auto") for lan in (False, True)]

# Effective mode per (mode, lan), written out as spec/config.md states it.
EFFECTIVE = {
    ("off", False): "off",
    ("off", True): "off",
    ("strict", False): "strict",
    ("strict", True): "strict",
    ("all_except_health", False): "all_except_health",
    ("all_except_health", True): "all_except_health",
    ("auto", False): "off",
    ("auto", True): "all_except_health",
}

# path → (method, body, protocol of its errors, status when admitted)
GEMINI_BODY = b'{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}'
ROUTES = {
    "/healthz": ("GET", None, "openai", 200),
    "/health": ("GET", None, "openai", 200),
    "/v1/chat/completions": (
        "POST",
        b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}',
        "openai",
        424,
    ),
    "/v1/messages": (
        "POST",
        b'{"model": "claude-sonnet-4-6", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}',
        "anthropic",
        424,
    ),
    "/v1beta/models/gemini-2.5-flash:generateContent": ("POST", GEMINI_BODY, "gemini", 424),
    "/api/status": ("GET", None, "openai", 200),
    "/api/accounts": ("GET", None, "openai", 200),
    "/api/logs": ("GET", None, "openai", 200),
    "/metrics": ("GET", None, "openai", 200),
}
ADMIN = ("/api/status", "/api/accounts", "/api/logs", "/metrics")

CREDENTIALS: dict[str, tuple[dict[str, str], str]] = {
    "none": ({}, ""),
    "wrong-bearer": ({"Authorization": "Bearer sk-wrong-0000000000"}, ""),
    "wrong-x-api-key": ({"x-api-key": "sk-wrong-0000000000"}, ""),
    "bearer": ({"Authorization": f"Bearer {KEY}"}, ""),
    "raw-authorization": ({"Authorization": KEY}, ""),
    "x-api-key": ({"x-api-key": KEY}, ""),
    "x-goog-api-key": ({"x-goog-api-key": KEY}, ""),
    "query-key": ({}, f"?key={KEY}"),
    "wrong-query-key": ({}, "?key=sk-wrong-0000000000"),
}


def key_is_valid(cred: str, path: str) -> bool:
    if cred == "query-key":
        return path.startswith("/v1beta/")  # ?key= counts only where the Gemini SDK sends it
    return cred in ("bearer", "raw-authorization", "x-api-key", "x-goog-api-key")


def needs_key(effective: str, path: str) -> bool:
    if effective == "strict":
        return True
    if path in ADMIN:
        return False if effective == "off" else True  # tests connect from loopback
    if effective == "all_except_health":
        return path not in ("/healthz", "/health")
    return False


def assert_unauthorized_shape(reply: Reply, protocol: str) -> None:
    body = reply.json()
    if protocol == "openai":
        assert body["error"]["code"] == "invalid_api_key" and body["error"]["type"] == "invalid_request_error"
        message = body["error"]["message"]
    elif protocol == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
        message = body["error"]["message"]
    else:
        assert body["error"]["code"] == 401 and body["error"]["status"] == "UNAUTHENTICATED"
        message = body["error"]["message"]
    assert "API key" in message and KEY not in message


@pytest.fixture(scope="module", params=SERVERS, ids=[f"{m}-lan_{'on' if lan else 'off'}" for m, lan in SERVERS])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, bool, int]]:
    mode, lan = request.param
    home: Path = tmp_path_factory.mktemp(f"auth-{mode}-{lan}")
    lan_access = f"  allow_lan_access: {json.dumps(lan)}\n"
    with InProcessProxy(home, None, key=KEY, auth_mode=mode, proxy_yaml=lan_access) as proxy:
        yield mode, lan, proxy.port


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", list(ROUTES))
@pytest.mark.parametrize("cred", list(CREDENTIALS))
def test_matrix(server: tuple[str, bool, int], path: str, cred: str) -> None:
    mode, lan, port = server
    method, body, protocol, admitted_status = ROUTES[path]
    headers, query = CREDENTIALS[cred]
    reply = http(port, method, path + query, body=body, headers={"Content-Type": "application/json", **headers})
    if needs_key(EFFECTIVE[(mode, lan)], path) and not key_is_valid(cred, path):
        assert reply.status == 401, reply.body
        assert_unauthorized_shape(reply, protocol)
    else:
        assert reply.status == admitted_status, reply.body


@pytest.mark.timeout(60)
def test_preflight_always_passes(server: tuple[str, bool, int]) -> None:
    _, _, port = server
    for path in ROUTES:
        reply = http(
            port,
            "OPTIONS",
            path,
            headers={"Origin": "http://example.test", "Access-Control-Request-Method": "POST"},
        )
        assert reply.status == 204
