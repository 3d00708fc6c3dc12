"""The relay and the route table on a real in-process proxy: every AI request is logged and counted (refusals
before dispatch included), every error of a path is in its protocol's shape, misdirected clients are told the
right base URL, and admin paths stay admin with a trailing slash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy
from tests.polling import eventually

pytestmark = pytest.mark.timeout(60)
KEY = "sk-relay-0123456789abcdef"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessProxy]:
    google = FakeGoogle().start()
    home: Path = tmp_path_factory.mktemp("relay")
    server = InProcessProxy(home, google, key=KEY).start()
    try:
        yield server
    finally:
        server.stop()
        google.stop()


def logged(proxy: InProcessProxy, path: str, status: int) -> bool:
    rows = proxy.request("GET", "/api/logs?limit=200").json()["requests"]
    return any(row["path"] == path and row["status"] == status for row in rows)


@pytest.mark.parametrize(
    ("path", "protocol", "shape"),
    [
        ("/v1/messages", "anthropic", "anthropic"),
        ("/v1/messages/count_tokens", "anthropic", "anthropic"),
        ("/v1/chat/completions", "openai", "openai"),
        ("/v1/responses", "openai", "openai"),
        ("/v1beta/models/gemini-2.5-flash:generateContent", "gemini", "gemini"),
    ],
)
def test_with_no_account_every_ai_route_answers_in_its_shape_and_is_logged(
    proxy: InProcessProxy, path: str, protocol: str, shape: str
) -> None:
    # A body each front end accepts, so the missing account is what the client hears about.
    body: dict[str, Any] = {"model": "some-model", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    if path == "/v1/responses":
        body = {"model": "some-model", "input": "hi"}
    elif protocol == "gemini":
        body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    reply = proxy.request("POST", path, body=orjson.dumps(body), headers={"content-type": "application/json"})
    assert reply.status == 424, reply.body
    error = reply.json()
    if shape == "anthropic":
        assert error["type"] == "error" and "trayagent accounts login" in error["error"]["message"]
    elif shape == "openai":
        assert "trayagent accounts login" in error["error"]["message"] and error["error"]["type"] == "server_error"
    else:
        assert error["error"]["status"] == "FAILED_PRECONDITION"
    assert eventually(lambda: logged(proxy, path, 424)), proxy.request("GET", "/api/logs").body
    metrics = proxy.request("GET", "/metrics").body.decode()
    assert f'protocol="{protocol}"' in metrics and 'status="424"' in metrics


@pytest.mark.parametrize(
    ("method", "path", "check"),
    [
        ("GET", "/v1/messages", lambda e: e["type"] == "error" and e["error"]["type"] == "not_found_error"),
        ("GET", "/v1/chat/completions", lambda e: e["error"]["type"] == "invalid_request_error"),
        ("PUT", "/v1beta/models/x:generateContent", lambda e: e["error"]["status"] == "UNIMPLEMENTED"),
    ],
)
def test_a_wrong_method_is_refused_in_the_paths_shape(proxy: InProcessProxy, method: str, path: str, check) -> None:  # type: ignore[no-untyped-def]
    reply = proxy.request(method, path)
    assert reply.status in (404, 405) and check(reply.json()), reply.body


def test_an_unauthenticated_anthropic_call_gets_anthropics_shape(proxy: InProcessProxy) -> None:
    reply = proxy.request("POST", "/v1/messages", body=b"{}", headers={"x-api-key": "sk-wrong"})
    assert reply.status == 401 and reply.json()["error"]["type"] == "authentication_error"


def test_bad_json_is_a_400_in_the_paths_shape_and_logged(proxy: InProcessProxy) -> None:
    reply = proxy.request("POST", "/v1/messages", body=b"{not json", headers={"content-type": "application/json"})
    assert reply.status == 400 and reply.json()["error"]["type"] == "invalid_request_error"
    assert eventually(lambda: logged(proxy, "/v1/messages", 400))


def test_an_anthropic_client_with_v1_in_its_base_url_is_told_to_drop_it(proxy: InProcessProxy) -> None:
    reply = proxy.request("POST", "/v1/v1/messages", body=b"{}")
    assert reply.status == 404
    error = reply.json()
    assert error["type"] == "error", error  # Anthropic's shape, the client's own protocol
    message = error["error"]["message"]
    assert "drop the /v1" in message and f"{proxy.base} (without /v1)" in message.replace("localhost", "127.0.0.1")


def test_an_openai_client_with_a_doubled_v1_is_told_to_keep_one(proxy: InProcessProxy) -> None:
    reply = proxy.request("POST", "/v1/v1/chat/completions", body=b"{}")
    assert reply.status == 404 and "/v1, once" in reply.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/metrics/", "/api/status/", "/api/key/"])
def test_trailing_slash_admin_paths_still_need_the_key_and_get_no_cors(proxy: InProcessProxy, path: str) -> None:
    reply = proxy.request("GET", path, headers={"x-api-key": "", "origin": "http://evil.example"})
    assert reply.status == 401, (path, reply.status, reply.body[:200])
    assert "access-control-allow-origin" not in reply.headers


@pytest.mark.parametrize("client", ["openai", "anthropic"])
def test_with_no_account_the_sdks_do_not_retry(proxy: InProcessProxy, client: str) -> None:
    """`x-should-retry: false`: one request reaches the proxy although the SDK would retry twice. The
    metrics count an exchange as it finishes, so the count is exact once the SDK call has returned."""
    import anthropic
    import openai

    protocol, model = ("openai", "gpt-4o") if client == "openai" else ("anthropic", "claude-sonnet-4-6")

    def count() -> float:
        lines = proxy.request("GET", "/metrics").body.decode().splitlines()
        wanted = [line for line in lines if line.startswith("trayagent_requests_total{")]
        mine = [line for line in wanted if f'protocol="{protocol}"' in line and 'status="424"' in line]
        return sum(float(line.rsplit(" ", 1)[1]) for line in mine)

    before = count()
    if client == "openai":
        with openai.OpenAI(base_url=proxy.base + "/v1", api_key=KEY, timeout=10) as sdk:
            assert sdk.max_retries == 2
            with pytest.raises(openai.APIStatusError):
                sdk.responses.create(model=model, input="hi")
    else:
        with anthropic.Anthropic(base_url=proxy.base, api_key=KEY, timeout=10) as sdk:
            assert sdk.max_retries == 2
            with pytest.raises(anthropic.APIStatusError):
                sdk.messages.create(model=model, max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert count() == before + 1
