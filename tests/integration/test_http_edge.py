"""What the proxy answers to requests no honest client sends, over raw sockets against a real in-process proxy:
key headers that are not UTF-8, JSON nested hundreds of levels deep, Host names that only look like loopback,
and heads the HTTP layer refuses (bad or doubled Content-Length, Content-Length with Transfer-Encoding, headers
over the limit, non-ASCII or control bytes in the URL). Each gets the right status in the path's own protocol
shape, and the log holds no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy
from tests.rawhttp import LogCapture, captured_log, error_shape_problem, request_bytes, send, tracebacks
from tests.serverproc import ServeProcess, free_port

pytestmark = pytest.mark.timeout(60)
KEY = "sk-edge-0123456789abcdef"
GEMINI = "/v1beta/models/gemini-2.5-flash:generateContent"

# One path per protocol shape; admin paths answer in OpenAI's shape.
PATHS = [
    ("/v1/chat/completions", "openai"),
    ("/v1/messages", "anthropic"),
    (GEMINI, "gemini"),
    ("/api/accounts", "openai"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcessProxy, LogCapture]]:
    google = FakeGoogle().start()
    home: Path = tmp_path_factory.mktemp("edge")
    with captured_log() as log:
        proxy = InProcessProxy(home, google, key=KEY).start()
        try:
            proxy.add_account("edge@example.com")
            yield proxy, log
        finally:
            proxy.stop()
            google.stop()


def host(proxy: InProcessProxy) -> tuple[bytes, bytes]:
    return b"Host", f"127.0.0.1:{proxy.port}".encode()


def key() -> tuple[bytes, bytes]:
    return b"x-api-key", KEY.encode()


def check(reply, status: int, protocol: str, log: LogCapture, mark: int, words: str = "") -> None:  # type: ignore[no-untyped-def]
    assert reply.status == status, (reply.status, reply.body[:300])
    body = reply.json()
    problem = error_shape_problem(protocol, status, body)
    assert problem is None, problem
    message = body["error"]["message"]
    assert words in message, message
    assert "needs its API key" not in message
    assert not tracebacks(log.since(mark)), log.since(mark)


# -- 1. a key header that is not UTF-8 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", [(b"Authorization", b"Bearer \xff\xfe"), (b"x-api-key", b"\xff\xfe"), (b"x-goog-api-key", b"sk-\xc3")]
)
@pytest.mark.parametrize(("path", "protocol"), PATHS)
def test_a_key_that_is_not_utf8_is_a_401_in_the_paths_shape(
    served: tuple[InProcessProxy, LogCapture], header: tuple[bytes, bytes], path: str, protocol: str
) -> None:
    proxy, log = served
    mark = log.mark()
    method = b"GET" if path.startswith("/api/") else b"POST"
    body = b"" if method == b"GET" else b"{}"
    reply = send(proxy.port, request_bytes(method, path.encode(), [host(proxy), header], body))
    check(reply, 401, protocol, log, mark, "not UTF-8")


def test_a_key_that_is_not_utf8_is_logged_once_per_client(served: tuple[InProcessProxy, LogCapture]) -> None:
    proxy, log = served
    for _ in range(5):
        reply = send(proxy.port, request_bytes(b"POST", b"/v1/messages", [host(proxy), (b"x-api-key", b"\xfe")], b"{}"))
        assert reply.status == 401
    # Whatever the other tests of this module sent before, this client (127.0.0.1) is in the log once at most.
    assert log.text().count("bytes that are not UTF-8") <= 1
    assert not tracebacks(log.text())


def test_the_right_key_among_bytes_that_are_not_utf8_still_admits(served: tuple[InProcessProxy, LogCapture]) -> None:
    proxy, _ = served
    headers = [host(proxy), (b"Authorization", b"Bearer \xff"), key()]
    reply = send(proxy.port, request_bytes(b"GET", b"/api/status", headers))
    assert reply.status == 200, reply.body


# -- 3. JSON nested deeper than the bound -------------------------------------------------------------------

POST_PATHS = [
    ("/v1/chat/completions", "openai"),
    ("/v1/completions", "openai"),
    ("/v1/responses", "openai"),
    ("/v1/messages", "anthropic"),
    ("/v1/messages/count_tokens", "anthropic"),
    (GEMINI, "gemini"),
    ("/v1beta/models/gemini-2.5-flash:countTokens", "gemini"),
    ("/api/accounts", "openai"),
    ("/api/accounts/refresh", "openai"),
    ("/api/accounts/login", "openai"),
]


def nested(levels: int) -> bytes:
    """A body whose `x` makes the whole document `levels` deep (objects and arrays alternating)."""
    inner = b"1"
    for level in range(levels - 1):
        inner = b"[" + inner + b"]" if level % 2 else b'{"a":' + inner + b"}"
    return b'{"model":"gemini-2.5-flash","x":' + inner + b"}"


@pytest.mark.parametrize("levels", [129, 255, 600, 1024, 1100])
@pytest.mark.parametrize(("path", "protocol"), POST_PATHS)
def test_json_nested_too_deep_is_a_400_that_says_so(
    served: tuple[InProcessProxy, LogCapture], path: str, protocol: str, levels: int
) -> None:
    proxy, log = served
    mark = log.mark()
    headers = [host(proxy), key(), (b"Content-Type", b"application/json")]
    reply = send(proxy.port, request_bytes(b"POST", path.encode(), headers, nested(levels)))
    check(reply, 400, protocol, log, mark, "more than 128 levels deep")


def test_json_nested_to_the_bound_is_accepted(served: tuple[InProcessProxy, LogCapture]) -> None:
    proxy, log = served
    mark = log.mark()
    args = b"1"
    for _ in range(127 - 6):  # the document nests exactly 128 levels: its tool call's args take the rest
        args = b"[" + args + b"]"
    body = (
        b'{"contents":[{"role":"user","parts":[{"text":"hi"}]},'
        b'{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":' + args + b"}}}]},"
        b'{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"r":1}}}]}]}'
    )
    headers = [host(proxy), key(), (b"Content-Type", b"application/json")]
    reply = send(proxy.port, request_bytes(b"POST", GEMINI.encode(), headers, body))
    assert reply.status == 200, reply.body[:300]
    assert not tracebacks(log.since(mark))


@pytest.mark.parametrize("levels", [129, 300])
def test_tool_call_arguments_nested_too_deep_are_a_400(served: tuple[InProcessProxy, LogCapture], levels: int) -> None:
    """JSON inside a string (OpenAI's `arguments`) is held to the same bound as the body."""
    proxy, log = served
    mark = log.mark()
    arguments = '{"a":' + "[" * (levels - 1) + "]" * (levels - 1) + "}"
    body = {
        "model": "gemini-2.5-flash",
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ],
    }
    headers = [host(proxy), key(), (b"Content-Type", b"application/json")]
    reply = send(proxy.port, request_bytes(b"POST", b"/v1/chat/completions", headers, orjson.dumps(body)))
    check(reply, 400, "openai", log, mark, "arguments")


# -- 6. the Host header, parsed strictly --------------------------------------------------------------------


@pytest.mark.parametrize(
    "hosts",
    [
        [b"[::1].evil.example"],
        [b"127.0.0.1:{port}.evil.example"],
        [b"127.0.0.1:{port}@evil.example"],
        [b"localhost:evil.example"],
        [b""],
        [],
        [b"127.0.0.1:{port}", b"evil.example"],
        [b"127.0.0.1:{port}", b"127.0.0.1:{port}"],
    ],
    ids=["bracket-suffix", "port-suffix", "userinfo", "name-port", "empty", "missing", "two-foreign", "two-same"],
)
@pytest.mark.parametrize(("path", "protocol"), [*PATHS, ("/healthz", "openai")])
def test_a_host_that_is_not_exactly_one_loopback_name_is_refused(
    served: tuple[InProcessProxy, LogCapture], hosts: list[bytes], path: str, protocol: str
) -> None:
    proxy, log = served
    mark = log.mark()
    headers = [(b"Host", h.replace(b"{port}", str(proxy.port).encode())) for h in hosts] + [key()]
    method = b"POST" if path.startswith("/v1") else b"GET"
    reply = send(proxy.port, request_bytes(method, path.encode(), headers, b"{}" if method == b"POST" else b""))
    check(reply, 400, protocol, log, mark, "Host")


@pytest.mark.parametrize("name", [b"evil.example", b"192.168.1.5:{port}", b"[::2]:{port}", b"localhost.evil.example"])
def test_a_well_formed_foreign_host_is_a_403(served: tuple[InProcessProxy, LogCapture], name: bytes) -> None:
    proxy, log = served
    mark = log.mark()
    headers = [(b"Host", name.replace(b"{port}", str(proxy.port).encode())), key()]
    reply = send(proxy.port, request_bytes(b"POST", b"/v1/messages", headers, b"{}"))
    check(reply, 403, "anthropic", log, mark, "not a loopback name")


@pytest.mark.parametrize(
    "name", [b"127.0.0.1:{port}", b"localhost", b"LocalHost:{port}", b"[::1]:{port}", b"a.localhost"]
)
def test_loopback_hosts_are_served(served: tuple[InProcessProxy, LogCapture], name: bytes) -> None:
    proxy, _ = served
    headers = [(b"Host", name.replace(b"{port}", str(proxy.port).encode())), key()]
    assert send(proxy.port, request_bytes(b"GET", b"/api/status", headers)).status == 200


# -- 7. heads the HTTP layer refuses ------------------------------------------------------------------------


def head_cases(port: int, path: bytes) -> dict[str, tuple[bytes, int, str]]:
    """name → (request bytes, status, words in the message); each carries the right key."""
    h = [(b"Host", f"127.0.0.1:{port}".encode()), (b"x-api-key", KEY.encode())]
    return {
        "bad-content-length": (request_bytes(b"POST", path, [*h, (b"Content-Length", b"abc")]), 400, "Content-Length"),
        "negative-content-length": (
            request_bytes(b"POST", path, [*h, (b"Content-Length", b"-2")], b"{}", length=False),
            400,
            "Content-Length",
        ),
        "doubled-content-length": (
            request_bytes(
                b"POST", path, [*h, (b"Content-Length", b"2"), (b"Content-Length", b"2")], b"{}", length=False
            ),
            400,
            "2 Content-Length headers",
        ),
        "content-length-and-chunked": (
            request_bytes(
                b"POST",
                path,
                [*h, (b"Content-Length", b"7"), (b"Transfer-Encoding", b"chunked")],
                b"2\r\n{}\r\n0\r\n\r\n",
                length=False,
            ),
            400,
            "both Content-Length and Transfer-Encoding",
        ),
        "headers-over-the-limit": (
            request_bytes(b"POST", path, [*h, (b"X-Big", b"a" * 20_000)], b"{}"),
            431,
            "larger than trayagent reads",
        ),
        "non-ascii-url": (request_bytes(b"POST", path + "/é".encode(), h, b"{}"), 400, "not ASCII"),
        "nul-in-url": (request_bytes(b"POST", path + b"\x00x", h, b"{}"), 400, "control byte"),
        "control-byte-in-url": (request_bytes(b"POST", path + b"\x01", h, b"{}"), 400, "control byte"),
        "delete-in-url": (request_bytes(b"POST", path + b"\x7f", h, b"{}"), 400, "control byte"),
    }


CASES = list(head_cases(0, b"/"))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(("path", "protocol"), PATHS)
def test_a_head_the_http_layer_refuses_gets_the_right_status_in_the_paths_shape(
    served: tuple[InProcessProxy, LogCapture], case: str, path: str, protocol: str
) -> None:
    proxy, log = served
    mark = log.mark()
    data, status, words = head_cases(proxy.port, path.encode())[case]
    check(send(proxy.port, data), status, protocol, log, mark, words)


def test_a_url_that_is_not_a_path_gets_a_400(served: tuple[InProcessProxy, LogCapture]) -> None:
    proxy, log = served
    mark = log.mark()
    reply = send(proxy.port, request_bytes(b"GET", b"nowhere\x00", [host(proxy), key()]))
    check(reply, 400, "openai", log, mark)


# -- the same against `trayagent serve`: its log file holds no traceback --------------------------------------


@pytest.mark.timeout(90)
def test_trayagent_serve_answers_the_edge_cases_without_a_traceback(
    tmp_path: Path, serve_factory: type[ServeProcess]
) -> None:
    port = free_port()
    server = serve_factory(tmp_path / "home", f"proxy:\n  port: {port}\n  auth_mode: strict\n  api_key: {KEY}\n")
    server.start()
    try:
        for case, (data, status, _) in head_cases(port, b"/v1/messages").items():
            reply = send(port, data)
            assert reply.status == status, (case, reply.status, reply.body[:300])
            assert error_shape_problem("anthropic", status, reply.json()) is None, (case, reply.body)
        bad_key = request_bytes(b"POST", b"/v1/messages", [(b"Host", b"localhost"), (b"x-api-key", b"\xff")], b"{}")
        for _ in range(3):
            assert send(port, bad_key).status == 401
        deep = request_bytes(b"POST", b"/v1/messages", [(b"Host", b"localhost"), key()], nested(300))
        assert send(port, deep).status == 400
        evil = request_bytes(b"GET", b"/api/status", [(b"Host", b"[::1].evil.example"), key()])
        assert send(port, evil).status == 400
    finally:
        assert server.stop() == 0
    output = server.output()
    assert not tracebacks(output), output
    assert output.count("bytes that are not UTF-8") == 1, output


# -- bodies over the limit, on the routes Sanic reads for us too ---------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcessProxy, LogCapture]]:
    """A proxy whose body limit is about 1 KB (the line continues its `proxy:` block)."""
    google = FakeGoogle().start()
    with captured_log() as log:
        proxy = InProcessProxy(tmp_path_factory.mktemp("small"), google, key=KEY, extra_yaml="  max_body_mb: 0.001\n")
        proxy.start()
        try:
            yield proxy, log
        finally:
            proxy.stop()
            google.stop()


def chunked(body: bytes) -> bytes:
    return b"".join(b"%x\r\n%b\r\n" % (len(piece), piece) for piece in (body[:600], body[600:])) + b"0\r\n\r\n"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize(("path", "protocol"), [("/v1/messages", "anthropic"), (GEMINI, "gemini"), *POST_PATHS[-3:]])
def test_a_body_over_the_limit_is_a_413_in_the_paths_shape(
    small: tuple[InProcessProxy, LogCapture], path: str, protocol: str, framing: str
) -> None:
    proxy, log = small
    mark = log.mark()
    body = b'{"pad": "' + b"x" * 2000 + b'"}'
    headers = [host(proxy), key(), (b"Content-Type", b"application/json")]
    if framing == "chunked":
        framed = [*headers, (b"Transfer-Encoding", b"chunked")]
        data = request_bytes(b"POST", path.encode(), framed, chunked(body), length=False)
    else:
        data = request_bytes(b"POST", path.encode(), headers, body)
    reply = send(proxy.port, data)
    assert reply.status == 413, (reply.status, reply.body[:300])
    assert error_shape_problem(protocol, 413, reply.json()) is None, reply.body
    assert not tracebacks(log.since(mark)), log.since(mark)
