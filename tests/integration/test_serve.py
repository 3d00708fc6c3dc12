"""`trayagent serve` as a user meets it: health, errors in each protocol's shape, limits, signals, busy port."""

from __future__ import annotations

import json
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serverproc import Reply, ServeProcess, free_port, isolated_env, run_cli
from trayagent import translate

LIMIT_MB = 0.01  # 10485 bytes: small enough to test, large enough for real requests
LIMIT = int(LIMIT_MB * 1024 * 1024)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    home = tmp_path_factory.mktemp("serve")
    proc = ServeProcess(home, f"proxy:\n  port: {free_port()}\n  max_body_mb: {LIMIT_MB}\n").start()
    yield proc
    assert proc.stop() == 0, proc.output()


def error_message(reply: Reply, protocol: str) -> tuple[str, str]:
    """(message, type-or-status) from a protocol-shaped error body; fails on any other shape."""
    body = reply.json()
    if protocol == "openai":
        assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
        return body["error"]["message"], body["error"]["type"]
    if protocol == "anthropic":
        assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
        return body["error"]["message"], body["error"]["type"]
    assert set(body) == {"error"} and body["error"]["code"] == reply.status
    return body["error"]["message"], body["error"]["status"]


def alive(server: ServeProcess) -> bool:
    return server.request("GET", "/healthz").status == 200


def test_healthz(server: ServeProcess) -> None:
    for path in ("/healthz", "/health"):
        reply = server.request("GET", path)
        assert reply.status == 200
        assert reply.headers["content-type"] == "application/json"
        assert reply.json() == {"status": "ok", "service": "trayagent", "version": "0.1.0"}


def test_one_start_line_says_address_auth_key_location_and_config(server: ServeProcess) -> None:
    lines = [line for line in server.output().splitlines() if "listening on" in line]
    assert len(lines) == 1
    line = lines[0]
    assert f"http://127.0.0.1:{server.port}" in line
    assert "auth off (auto, LAN access off)" in line
    assert f"API key in file {server.home / 'data' / 'secrets.json'}" in line
    assert f"config {server.home / 'config.yaml'}" in line
    # Whether the front ends run compiled: the child decides as this process did (the same sources and venv).
    assert line.endswith(f"translators {translate.RUNS_AS}")
    # The key itself is never logged.
    key = (server.home / "data" / "secrets.json").read_text().split('"')[3]
    assert key not in server.output()


AI_ROUTES = [
    ("POST", "/v1/chat/completions", "openai"),
    ("POST", "/v1/completions", "openai"),
    ("POST", "/v1/responses", "openai"),
    ("POST", "/v1/messages", "anthropic"),
    ("POST", "/v1/messages/count_tokens", "anthropic"),
    ("POST", "/v1beta/models/gemini-2.5-flash:generateContent", "gemini"),
    ("POST", "/v1beta/models/models/gemini-2.5-flash:streamGenerateContent?alt=sse", "gemini"),
    ("POST", "/v1beta/models/gemini-2.5-flash:countTokens", "gemini"),
    ("POST", "/v1/models/gemini-2.5-flash:generateContent", "gemini"),  # google-genai's api_version v1
]
# Bodies that pass validation, so the missing account is what the client hears about.
VALID_BODIES = {
    "/v1/chat/completions": b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}',
    "/v1/completions": b'{"model": "gpt-4o", "prompt": "hi"}',
    "/v1/responses": b'{"model": "gpt-4o", "input": "hi"}',
    "/v1/messages": b'{"model": "claude-sonnet-4-6", "max_tokens": 9, "messages": [{"role": "user", "content": "x"}]}',
    "/v1/messages/count_tokens": b'{"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "hi"}]}',
}
GEMINI_BODY = b'{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}'


@pytest.mark.parametrize(("method", "path", "protocol"), AI_ROUTES)
def test_every_ai_route_says_how_to_add_an_account(server: ServeProcess, method: str, path: str, protocol: str) -> None:
    reply = server.request(method, path, body=GEMINI_BODY if protocol == "gemini" else VALID_BODIES[path])
    assert reply.status == 424, reply.body
    message, kind = error_message(reply, protocol)
    assert message.startswith("no Google account yet: run `trayagent accounts login`")
    assert kind == {"openai": "server_error", "anthropic": "api_error", "gemini": "FAILED_PRECONDITION"}[protocol]
    assert reply.headers["x-should-retry"] == "false"  # nothing a retry can fix: the SDKs show it at once


POSTS = [(p, proto) for m, p, proto in AI_ROUTES if m == "POST"]


@pytest.mark.parametrize("path", ["/v1/models", "/v1beta/models"])
def test_model_lists_answer_before_any_account(server: ServeProcess, path: str) -> None:
    reply = server.request("GET", path)
    assert reply.status == 200
    data = reply.json()
    names = [m["id"] for m in data["data"]] if path == "/v1/models" else [m["name"] for m in data["models"]]
    assert "gemini-2.5-flash" in names or "models/gemini-2.5-flash" in names


@pytest.mark.parametrize(("path", "protocol"), POSTS)
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"model": "x", ', "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"", "body is empty"),
        (b"\xff\xfe", "not valid JSON"),
    ],
    ids=["truncated", "array", "empty", "binary"],
)
def test_malformed_bodies_get_400_in_protocol_shape(
    server: ServeProcess, path: str, protocol: str, body: bytes, fragment: str
) -> None:
    reply = server.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    assert reply.status == 400
    message, kind = error_message(reply, protocol)
    assert fragment in message
    assert kind in ("invalid_request_error", "INVALID_ARGUMENT")
    assert alive(server)


@pytest.mark.parametrize(("path", "protocol"), POSTS)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_bodies_over_the_limit_get_413_in_protocol_shape(
    server: ServeProcess, path: str, protocol: str, chunked: bool
) -> None:
    import http.client

    payload = b'{"pad": "' + b"x" * (LIMIT + 10) + b'"}'
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        if chunked:
            conn.putrequest("POST", path)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.putheader("Content-Type", "application/json")
            conn.endheaders()
            for i in range(0, len(payload), 4096):
                piece = payload[i : i + 4096]
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.send(b"0\r\n\r\n")
        else:
            conn.request("POST", path, body=payload, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        reply = Reply(resp.status, dict(resp.getheaders()), resp.read())
    finally:
        conn.close()
    assert reply.status == 413
    message, kind = error_message(reply, protocol)
    assert "proxy.max_body_mb" in message
    assert kind in ("invalid_request_error", "request_too_large", "INVALID_ARGUMENT")
    assert alive(server)


def test_a_body_just_under_the_limit_is_accepted(server: ServeProcess) -> None:
    head, tail = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "', b'"}]}'
    payload = head + b"x" * (LIMIT - len(head) - len(tail) - 10) + tail
    assert len(payload) <= LIMIT
    assert server.request("POST", "/v1/chat/completions", body=payload).status == 424


@pytest.mark.parametrize(
    ("method", "path", "protocol", "status", "hint"),
    [
        ("GET", "/nowhere", "openai", 404, "OpenAI clients use the base URL http://127.0.0.1:"),
        ("POST", "/v1/chat/completions/responses", "openai", 404, "/v1"),
        ("POST", "/v1/messages/batches", "anthropic", 404, "Anthropic clients use the base URL"),
        ("GET", "/v1beta/files", "gemini", 404, "Gemini clients use the base URL"),
        (
            "POST",
            "/v1beta/models/gemini-2.5-flash:embedContent",
            "gemini",
            404,
            "unknown method 'embedContent'",
        ),
        (
            "POST",
            "/v1beta/models/gemini-2.5-flash",
            "gemini",
            404,
            "expected /v1beta/models/{model}:{method}",
        ),
        ("POST", "/v1beta/models/:generateContent", "gemini", 400, "model name is missing"),
        ("GET", "/v1/chat/completions", "openai", 405, "GET is not allowed"),
        ("DELETE", "/v1/messages", "anthropic", 405, "DELETE is not allowed"),
    ],
)
def test_unknown_routes_and_methods_answer_in_protocol_shape(
    server: ServeProcess, method: str, path: str, protocol: str, status: int, hint: str
) -> None:
    reply = server.request(method, path, body=b"{}" if method == "POST" else None)
    assert reply.status == status
    message, _ = error_message(reply, protocol)
    assert hint in message
    assert alive(server)


def test_cors_on_ai_routes_not_on_the_status_api(server: ServeProcess) -> None:
    # No key is needed here (auto, LAN off), so CORS admits pages on this machine only (see test_cors_origins.py).
    app = "http://localhost:5173"
    pre = server.request(
        "OPTIONS",
        "/v1/chat/completions",
        headers={
            "Origin": app,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert pre.status == 204
    assert pre.headers["access-control-allow-origin"] == app
    assert pre.headers["access-control-allow-headers"] == "authorization, content-type"
    assert "POST" in pre.headers["access-control-allow-methods"]
    reply = server.request("POST", "/v1/chat/completions", body=b"{}", headers={"Origin": app})
    assert reply.headers["access-control-allow-origin"] == app
    assert "access-control-allow-origin" not in server.request("GET", "/api/status").headers
    api_pre = server.request("OPTIONS", "/api/status", headers={"Origin": app})
    assert api_pre.status == 204 and "access-control-allow-origin" not in api_pre.headers


def test_foreign_host_names_are_refused_while_on_loopback(server: ServeProcess) -> None:
    reply = server.request("GET", "/api/status", headers={"Host": "attacker.example:80"})
    assert reply.status == 403
    message, _ = error_message(reply, "openai")
    assert "not a loopback name" in message
    assert server.request("GET", "/healthz", headers={"Host": f"localhost:{server.port}"}).status == 200


def test_status_api(server: ServeProcess) -> None:
    status = server.request("GET", "/api/status").json()
    assert status["state"] == "running"
    assert status["address"] == f"http://127.0.0.1:{server.port}"
    assert (status["auth_mode"], status["effective_auth_mode"]) == ("auto", "off")
    assert status["config_path"] == str(server.home / "config.yaml")
    assert status["accounts"] == {"total": 0, "available": 0, "disabled": 0, "needs_verification": 0, "error": None}
    # The key only masked: enough to recognise it, not to use it.
    key = json.loads((server.home / "data" / "secrets.json").read_text())["api_key"]
    assert status["api_key_masked"] == f"{key[:5]}…{key[-4:]}" and key not in json.dumps(status)


@pytest.mark.timeout(60)
def test_a_busy_port_is_one_clear_line_and_exit_1(home: Path) -> None:
    port = free_port()
    first = ServeProcess(home / "a", f"proxy:\n  port: {port}\n").start()
    try:
        env = isolated_env(home / "b")
        (home / "b").mkdir()
        (home / "b" / "config.yaml").write_text(f"proxy:\n  port: {port}\n")
        result = run_cli(env, "serve")
        assert result.returncode == 1
        assert f"port {port} is already in use on 127.0.0.1" in result.stderr
        assert "Traceback" not in result.stderr
        assert first.request("GET", "/healthz").status == 200
    finally:
        assert first.stop() == 0


@pytest.mark.timeout(60)
def test_a_port_taken_by_another_program_is_reported_too(home: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = isolated_env(home)
        (home / "config.yaml").write_text(f"proxy:\n  port: {port}\n")
        result = run_cli(env, "serve")
    assert result.returncode == 1
    assert result.stderr.strip().endswith(f"port {port} is already in use on 127.0.0.1")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signals_stop_cleanly_and_free_the_port(home: Path, sig: int) -> None:
    server = ServeProcess(home, f"proxy:\n  port: {free_port()}\n").start()
    assert server.request("GET", "/healthz").status == 200
    assert server.stop(sig) == 0
    assert "trayagent stopped" in server.output()
    assert "Traceback" not in server.output()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", server.port))  # free again


@pytest.mark.timeout(60)
def test_an_invalid_config_stops_serve_with_exit_2_and_the_line(home: Path) -> None:
    (home / "config.yaml").write_text('proxy:\n  port: "80a"\n')
    result = run_cli(isolated_env(home), "serve")
    assert result.returncode == 2
    assert 'proxy.port (line 2): expected an integer 1-65535, got "80a"' in result.stderr
    assert "Traceback" not in result.stderr
