"""The front-end seam: a front end that exists only in this test plugs in with one route-table row and nothing
else, and the relay gives it everything the shipped ones get — routing, an account, the upstream, headers with
the first chunk, the error event after it, errors in its protocol's shape, the request log and the metrics."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.fakes.generation import text
from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy
from tests.polling import eventually
from trayagent.errors import BadRequest, ProxyError
from trayagent.proxy.routetable import AiRoute
from trayagent.translate.error_shapes import render_openai_error
from trayagent.translate.hub import ClientCall, ClientProtocol, ClientTarget, HubRequest, ReplyIds

pytestmark = pytest.mark.timeout(60)
KEY = "sk-seam-0123456789abcdef"
ALICE = "alice@example.com"


class LinesFrontend:
    """`{"model", "say", "stream"}` in; the reply's text as plain lines out (`+` per chunk, `.` at the end)."""

    protocol: ClientProtocol = "openai"

    def parse(self, body: dict[str, Any], target: ClientTarget) -> ClientCall:
        say = body.get("say")
        if not isinstance(say, str):
            raise BadRequest("say: expected a string")
        hub = HubRequest(
            body.get("model", "gemini-2.5-flash"), {"contents": [{"role": "user", "parts": [{"text": say}]}]}
        )
        return ClientCall(hub, stream=bool(body.get("stream")), echo=target.upstream_model(hub.model))

    def media_type(self, call: ClientCall) -> str:
        return "text/plain"

    def encoder(self, call: ClientCall, ids: ReplyIds) -> LinesEncoder:
        return LinesEncoder()

    def render(self, call: ClientCall, reply: Mapping[str, Any], ids: ReplyIds) -> Any:
        parts = reply["candidates"][0]["content"]["parts"]
        return {"said": "".join(part.get("text", "") for part in parts), "routed_to": call.echo, "id": ids.new("l-")}

    def render_error(self, error: ProxyError) -> dict[str, Any]:
        return render_openai_error(error)


class LinesEncoder:
    def feed(self, chunk: Mapping[str, Any]) -> bytes:
        parts = chunk["candidates"][0]["content"]["parts"]
        return ("+" + "".join(part.get("text", "") for part in parts) + "\n").encode()

    def finish(self) -> bytes:
        return b".\n"

    def fail(self, error: ProxyError) -> bytes:
        return f"! {error.status_code} {error.message}\n".encode()

    def keepalive(self) -> bytes:
        return b""


ROW = AiRoute("/test/lines", "test_lines", "openai", LinesFrontend())
UNSERVED = AiRoute("/test/unserved", "test_unserved", "anthropic", None)  # a row whose front end is not written yet


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessProxy]:
    google = FakeGoogle().start()
    home: Path = tmp_path_factory.mktemp("seam")
    server = InProcessProxy(home, google, key=KEY, ai_routes=[ROW, UNSERVED]).start()
    try:
        server.add_account(ALICE)
        yield server
    finally:
        server.stop()
        google.stop()


def post(proxy: InProcessProxy, body: Any) -> Any:
    return proxy.request("POST", "/test/lines", body=orjson.dumps(body), headers={"content-type": "application/json"})


def test_a_plain_reply_is_rendered_by_the_plugged_in_front_end(proxy: InProcessProxy) -> None:
    proxy.google.reply([text("Hello ")], [text("there")], finish_reason="STOP")
    reply = post(proxy, {"model": "gpt-4o", "say": "hi"})
    assert reply.status == 200, reply.body
    found = reply.json()
    assert found["said"] == "Hello there" and found["routed_to"] == "gemini-2.5-flash"
    assert reply.headers["x-mapped-model"] == "gemini-2.5-flash" and reply.headers["x-account"] == "al***@ex***"
    assert proxy.google.calls_to("streamGenerateContent")[-1].body["request"]["contents"][0]["parts"] == [
        {"text": "hi"}
    ]


def test_a_stream_goes_out_chunk_by_chunk_and_ends_with_its_terminal_line(proxy: InProcessProxy) -> None:
    proxy.google.reply([text("one")], [text("two")], finish_reason="STOP")
    reply = post(proxy, {"say": "count", "stream": True})
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/plain")
    assert reply.body == b"+one\n+two\n.\n"


def test_a_failure_after_the_first_chunk_is_the_front_ends_error_line(proxy: InProcessProxy) -> None:
    proxy.google.reply([text("one")], [text("two")], [text("three")], finish_reason="STOP")
    proxy.google.fail("streamGenerateContent", 200, cut_after=1)
    reply = post(proxy, {"model": "gemini-3-pro-high", "say": "count", "stream": True})
    lines = reply.body.decode().splitlines()
    assert lines[0] == "+one" and lines[-1].startswith("! 502 the reply from Google broke off part-way")


def test_refusals_are_in_the_routes_protocol_and_logged(proxy: InProcessProxy) -> None:
    bad = post(proxy, {"say": 3})
    assert bad.status == 400 and bad.json()["error"]["message"] == "say: expected a string"
    not_json = proxy.request("POST", "/test/lines", body=b"{nope")
    assert not_json.status == 400 and not_json.json()["error"]["type"] == "invalid_request_error"
    unauthenticated = proxy.request("POST", "/test/lines", body=b"{}", headers={"x-api-key": "sk-wrong"})
    assert unauthenticated.status == 401 and "error" in unauthenticated.json()

    def refusals_logged() -> bool:
        rows = proxy.request("GET", "/api/logs").json()["requests"]
        return sum(row["path"] == "/test/lines" and row["status"] == 400 for row in rows) >= 2

    assert eventually(refusals_logged), proxy.request("GET", "/api/logs").json()
    metrics = proxy.request("GET", "/metrics").body.decode()
    assert 'status="400"' in metrics and 'protocol="openai"' in metrics


def test_a_row_without_a_front_end_says_so_in_its_protocol_and_is_not_retried(proxy: InProcessProxy) -> None:
    reply = proxy.request("POST", "/test/unserved", body=b'{"model": "claude-sonnet-4-6"}')
    assert reply.status == 424 and reply.headers["x-should-retry"] == "false"
    error = reply.json()
    assert error["type"] == "error" and "does not forward this protocol" in error["error"]["message"]
    assert "1 Google account(s) are ready" in error["error"]["message"]
