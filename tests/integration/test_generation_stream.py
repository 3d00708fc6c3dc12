"""GenerationClient and ChunkStream against a raw HTTP server on a loopback port that writes exactly the bytes
a test scripts: SSE cut anywhere across TCP writes, line endings, comments, in-stream errors, broken
connections, timeouts, and which failures move to the next Cloud Code base.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from tests.serverproc import free_port
from trayagent.config import UpstreamSettings
from trayagent.errors import GoogleError
from trayagent.upstream.generation import GenerationClient, is_real_chunk
from trayagent.upstream.session import open_session

pytestmark = pytest.mark.timeout(30)

TOKEN = "ya29.stream-test-token"
PAYLOAD = b'{"project":"p","model":"gemini-2.5-flash","request":{"contents":[]}}'


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Seen, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawServer:
    """HTTP/1.1 on a loopback port; each request is answered by `handler`, which writes raw bytes."""

    handler: Handler
    seen: list[Seen] = field(default_factory=list)
    closed_early: asyncio.Event = field(default_factory=asyncio.Event)  # the client hung up mid-answer
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def base(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}/v1internal"

    def bases_hit(self) -> list[str]:
        return [seen.target.split("/")[1] for seen in self.seen]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.seen.append(Seen(method, target, headers, body))
            await self.handler(self.seen[-1], writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.closed_early.set()
        finally:
            self._tasks.discard(task)
            writer.close()


@contextlib.asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[RawServer]:
    server = RawServer(handler)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def generation_client(
    *bases: str, read_timeout: float = 5.0, request_timeout: float = 10.0
) -> AsyncIterator[GenerationClient]:
    settings = UpstreamSettings(endpoints=tuple(bases), connect_timeout=2.0, read_timeout=read_timeout)
    session = open_session(settings)
    try:
        yield GenerationClient(session, settings, request_timeout)
    finally:
        await session.close()


# -- what the raw server writes -------------------------------------------------------------------


async def sse_answer(
    writer: asyncio.StreamWriter, pieces: list[bytes], *, pause: float = 0.002, end: str = "body"
) -> None:
    """A chunked 200 event stream, one HTTP chunk (and one TCP write) per piece. After the last piece,
    `end` is "body" (the closing chunk), "open" (nothing: the stream stays open), "reset" (the connection
    is aborted) or "close" (the socket is shut, the body left unfinished)."""
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    for piece in pieces:
        await asyncio.sleep(pause)  # so each piece leaves as its own segment and is read on its own
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        await writer.drain()
    if end == "reset":
        writer.transport.abort()
    elif end == "close":
        writer.close()
    elif end == "body":
        writer.write(b"0\r\n\r\n")
        await writer.drain()


async def json_answer(
    writer: asyncio.StreamWriter, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    for name, value in (headers or {}).items():
        head += f"{name}: {value}\r\n"
    writer.write(head.encode() + b"Connection: close\r\n\r\n" + data)
    await writer.drain()


def google_error(code: int, status: str, message: str = "scripted") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def reply_chunk(text: str, **extra: Any) -> dict[str, Any]:
    candidate = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0, **extra}
    return {"response": {"candidates": [candidate]}, "traceId": "t-1"}


def event(obj: Any, end: bytes = b"\r\n") -> bytes:
    return b"data: " + orjson.dumps(obj) + end + end


def texts(chunks: list[dict[str, Any]]) -> list[str]:
    return [part["text"] for chunk in chunks for part in chunk["candidates"][0]["content"]["parts"]]


async def read_all(client: GenerationClient) -> list[dict[str, Any]]:
    stream = await client.open_stream(PAYLOAD, TOKEN)
    return [chunk async for chunk in stream.chunks()]


# -- SSE framing over real TCP --------------------------------------------------------------------

# Two replies with a comment, a keep-alive blank event, an unknown field, `\n` then `\r\n`, characters of
# two, three and four bytes (a split may fall inside one), and the closing `[DONE]`.
SPLIT_STREAM = (
    b": keep-alive\n\n"
    + b'data: {"response":{"candidates":[{"content":{"parts":[{"text":"\xc3\xa9t\xc3\xa9 \xe2\x82\xac"}]}}]}}\n'
    + b"retry: 10\nfoo: bar\n\n"
    + b'data: {"response":{"candidates":[{"content":{"parts":[{"text":"\xf0\x9f\x99\x82"}]}}]}}\r\n\r\n'
    + b"data: [DONE]\r\n\r\n"
)
SPLIT_TEXTS = ["été €", "🙂"]


def test_every_two_way_split_across_tcp_writes() -> None:
    cuts = list(range(1, len(SPLIT_STREAM)))
    pending = list(cuts)

    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        at = pending.pop(0)
        await sse_answer(writer, [SPLIT_STREAM[:at], SPLIT_STREAM[at:]])

    async def main() -> list[list[str]]:
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            return [texts(await read_all(client)) for _ in cuts]

    results = asyncio.run(main())
    wrong = [(at, found) for at, found in zip(cuts, results, strict=True) if found != SPLIT_TEXTS]
    assert not pending and not wrong


def test_one_byte_per_tcp_write() -> None:
    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await sse_answer(writer, [SPLIT_STREAM[i : i + 1] for i in range(len(SPLIT_STREAM))], pause=0.0005)

    async def main() -> list[dict[str, Any]]:
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            return await read_all(client)

    assert texts(asyncio.run(main())) == SPLIT_TEXTS


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_line_ends(end: bytes) -> None:
    chunks = [reply_chunk("one"), reply_chunk("two", finishReason="STOP")]

    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await sse_answer(writer, [event(chunks[0], end) + event(chunks[1], end)])

    async def main() -> list[dict[str, Any]]:
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            return await read_all(client)

    got = asyncio.run(main())
    assert texts(got) == ["one", "two"]
    assert got[1]["candidates"][0]["finishReason"] == "STOP"
    assert "traceId" not in got[0]  # unwrapped from {"response": …}


def test_a_last_event_without_its_blank_line_is_kept() -> None:
    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await sse_answer(writer, [event(reply_chunk("first")), b"data: " + orjson.dumps(reply_chunk("last"))])

    async def main() -> list[dict[str, Any]]:
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            return await read_all(client)

    assert texts(asyncio.run(main())) == ["first", "last"]


def test_comments_done_and_metadata_chunks() -> None:
    meta = {"__cloudCodeMeta": {"backend": "x"}}
    usage_only = {"response": {"usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3}}}
    stream = [
        b": ping\r\n\r\n",
        b"\r\n\r\n",  # blank lines alone dispatch nothing
        event(meta),
        b"event: message\r\nid: 1\r\nx-custom: 1\r\n" + event(reply_chunk("hi")),
        event(usage_only),
        b"data: [DONE]\r\n\r\n",
    ]

    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await sse_answer(writer, stream)

    async def main() -> list[dict[str, Any]]:
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            return await read_all(client)

    got = asyncio.run(main())
    # ChunkStream hands every JSON object on; telling replies from backend metadata is is_real_chunk's job.
    assert got == [meta, reply_chunk("hi")["response"], usage_only["response"]]
    assert [is_real_chunk(chunk) for chunk in got] == [False, True, True]
    assert is_real_chunk({"promptFeedback": {"blockReason": "SAFETY"}})
    assert not is_real_chunk({})


def test_the_request_line_and_headers() -> None:
    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await sse_answer(writer, [event(reply_chunk("ok"))])

    async def main() -> RawServer:
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            await read_all(client)
            return server

    seen = asyncio.run(main()).seen[0]
    assert (seen.method, seen.target) == ("POST", "/a/v1internal:streamGenerateContent?alt=sse")
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["user-agent"].startswith("antigravity/")
    assert seen.body == PAYLOAD


# -- failures inside a stream ---------------------------------------------------------------------


def test_an_error_in_the_stream_is_a_failure_with_its_code() -> None:
    error = google_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted")
    error["error"]["details"] = [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.203s"},
    ]

    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await sse_answer(writer, [event(reply_chunk("part")), event(error), event(reply_chunk("never"))])

    async def main() -> tuple[list[dict[str, Any]], GoogleError]:
        got: list[dict[str, Any]] = []
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            stream = await client.open_stream(PAYLOAD, TOKEN)
            with pytest.raises(GoogleError) as info:
                async for chunk in stream.chunks():
                    got.append(chunk)
        return got, info.value

    got, failure = asyncio.run(main())
    assert texts(got) == ["part"]
    assert failure.status == 429
    assert orjson.loads(failure.body) == error  # whole, so the classifier can read RetryInfo


@pytest.mark.parametrize("code", ["oops", 200, 999, None])
def test_an_error_with_an_odd_code_is_a_500(code: Any) -> None:
    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await sse_answer(writer, [event({"error": {"code": code, "message": "bad"}})])

    async def main() -> None:
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            await read_all(client)

    with pytest.raises(GoogleError) as info:
        asyncio.run(main())
    assert info.value.status == 500


def test_data_that_is_not_json_is_a_502() -> None:
    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await sse_answer(writer, [event(reply_chunk("ok")), b"data: {not json\n\n"])

    async def main() -> None:
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            await read_all(client)

    with pytest.raises(GoogleError) as info:
        asyncio.run(main())
    assert info.value.status == 502 and "not JSON" in info.value.message


@pytest.mark.parametrize("end", ["reset", "close"])
@pytest.mark.parametrize("tail", [b'data: {"response":{"cand', b""], ids=["half-event", "between-events"])
def test_a_connection_cut_mid_stream(end: str, tail: bytes) -> None:
    """Never a silent end: a body left unfinished is a failure even when it stops between two events."""

    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await sse_answer(
            writer, [event(reply_chunk("first")), tail] if tail else [event(reply_chunk("first"))], end=end
        )

    async def main() -> tuple[list[dict[str, Any]], GoogleError]:
        got: list[dict[str, Any]] = []
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            stream = await client.open_stream(PAYLOAD, TOKEN)
            with pytest.raises(GoogleError) as info:
                async for chunk in stream.chunks():
                    got.append(chunk)
        return got, info.value

    got, failure = asyncio.run(main())
    assert texts(got) == ["first"]  # what came before the cut was delivered; the half event was not
    assert failure.status is None and "broke off" in failure.message


def test_a_silent_stream_times_out() -> None:
    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await sse_answer(writer, [event(reply_chunk("first"))], end="open")
        await asyncio.sleep(10)

    async def main() -> tuple[list[dict[str, Any]], GoogleError, float]:
        got: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        async with raw_server(handler) as server, generation_client(server.base("a"), read_timeout=0.3) as client:
            stream = await client.open_stream(PAYLOAD, TOKEN)
            started = loop.time()
            with pytest.raises(GoogleError) as info:
                async for chunk in stream.chunks():
                    got.append(chunk)
            return got, info.value, loop.time() - started

    got, failure, took = asyncio.run(main())
    assert texts(got) == ["first"]
    assert failure.status is None and "timed out" in failure.message
    assert took < 3


def test_no_answer_at_all_times_out() -> None:
    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)

    async def main() -> None:
        async with raw_server(handler) as server, generation_client(server.base("a"), read_timeout=0.3) as client:
            await client.open_stream(PAYLOAD, TOKEN)

    with pytest.raises(GoogleError) as info:
        asyncio.run(main())
    assert info.value.status is None and "in time" in info.value.message


def test_aclose_hangs_up_early() -> None:
    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await sse_answer(writer, [event(reply_chunk("first"))], end="open")
        for _ in range(200):  # keeps writing until the client hangs up
            await asyncio.sleep(0.01)
            writer.write(b"8\r\n: ping\n\n\r\n")
            await writer.drain()

    async def main() -> bool:
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            stream = await client.open_stream(PAYLOAD, TOKEN)
            chunks = stream.chunks()
            assert texts([await anext(chunks)]) == ["first"]
            stream.aclose()
            await asyncio.wait_for(server.closed_early.wait(), 5)
            await chunks.aclose()
            return server.closed_early.is_set()

    assert asyncio.run(main())


# -- opening a stream: non-200 answers and base fallback ------------------------------------------


def fallback_handler(first: Callable[[asyncio.StreamWriter], Awaitable[None]]) -> Handler:
    """Base "a" answers with `first`; base "b" streams a reply."""

    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        if seen.target.startswith("/a/"):
            await first(writer)
        else:
            await sse_answer(writer, [event(reply_chunk("from b"))])

    return handler


def answers(status: int, code: str, headers: dict[str, str] | None = None) -> Callable[..., Awaitable[None]]:
    async def write(writer: asyncio.StreamWriter) -> None:
        await json_answer(writer, status, google_error(status, code), headers)

    return write


@pytest.mark.parametrize(
    ("status", "code"), [(503, "UNAVAILABLE"), (500, "INTERNAL"), (404, "NOT_FOUND"), (408, "DEADLINE_EXCEEDED")]
)
def test_next_base_after(status: int, code: str) -> None:
    async def main() -> tuple[list[str], list[dict[str, Any]]]:
        async with raw_server(fallback_handler(answers(status, code))) as server:
            async with generation_client(server.base("a"), server.base("b")) as client:
                got = await read_all(client)
            return server.bases_hit(), got

    bases, got = asyncio.run(main())
    assert bases == ["a", "b"]
    assert texts(got) == ["from b"]


def test_next_base_after_an_unreachable_one() -> None:
    dead = f"http://127.0.0.1:{free_port()}/dead/v1internal"

    async def main() -> tuple[list[str], list[dict[str, Any]]]:
        async with raw_server(fallback_handler(answers(503, "UNAVAILABLE"))) as server:
            async with generation_client(dead, server.base("b")) as client:
                got = await read_all(client)
            return server.bases_hit(), got

    bases, got = asyncio.run(main())
    assert bases == ["b"] and texts(got) == ["from b"]


@pytest.mark.parametrize(
    ("status", "code"), [(429, "RESOURCE_EXHAUSTED"), (400, "INVALID_ARGUMENT"), (401, "UNAUTHENTICATED"), (403, "X")]
)
def test_no_other_base_after(status: int, code: str) -> None:
    async def main() -> tuple[list[str], GoogleError]:
        async with raw_server(fallback_handler(answers(status, code, {"Retry-After": "7"}))) as server:
            async with generation_client(server.base("a"), server.base("b")) as client:
                with pytest.raises(GoogleError) as info:
                    await read_all(client)
            return server.bases_hit(), info.value

    bases, failure = asyncio.run(main())
    assert bases == ["a"]
    assert failure.status == status
    assert orjson.loads(failure.body) == google_error(status, code)
    assert failure.headers["Retry-After"] == "7"  # the classifier reads it


def test_every_base_failing_gives_the_last_failure() -> None:
    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        status = 500 if seen.target.startswith("/a/") else 503
        await json_answer(writer, status, google_error(status, "X", f"from {seen.target[1]}"))

    async def main() -> tuple[list[str], GoogleError]:
        async with raw_server(handler) as server, generation_client(server.base("a"), server.base("b")) as client:
            with pytest.raises(GoogleError) as info:
                await read_all(client)
            return server.bases_hit(), info.value

    bases, failure = asyncio.run(main())
    assert bases == ["a", "b"]
    assert failure.status == 503 and b"from b" in failure.body


# -- countTokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [{"response": {"totalTokens": 42}, "traceId": "t"}, {"totalTokens": 42}],
    ids=["wrapped", "bare"],
)
def test_count_tokens_unwraps(body: dict[str, Any]) -> None:
    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        await json_answer(writer, 200, body)

    async def main() -> tuple[dict[str, Any], Seen]:
        async with raw_server(handler) as server, generation_client(server.base("a")) as client:
            reply = await client.count_tokens(b'{"request":{"contents":[]}}', TOKEN)
            return reply, server.seen[0]

    reply, seen = asyncio.run(main())
    assert reply == {"totalTokens": 42}
    assert seen.target == "/a/v1internal:countTokens"
    assert seen.body == b'{"request":{"contents":[]}}'


def test_count_tokens_falls_back_and_refuses_what_is_not_an_object() -> None:
    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        if seen.target.startswith("/a/"):
            await json_answer(writer, 503, google_error(503, "UNAVAILABLE"))
        else:
            await json_answer(writer, 200, b"[1, 2]")

    async def main() -> tuple[list[str], GoogleError]:
        async with raw_server(handler) as server, generation_client(server.base("a"), server.base("b")) as client:
            with pytest.raises(GoogleError) as info:
                await client.count_tokens(b"{}", TOKEN)
            return server.bases_hit(), info.value

    bases, failure = asyncio.run(main())
    assert bases == ["a", "b"]
    assert failure.status == 502


def test_count_tokens_429_goes_back_to_the_caller() -> None:
    async def main() -> tuple[list[str], GoogleError]:
        async with raw_server(fallback_handler(answers(429, "RESOURCE_EXHAUSTED"))) as server:
            async with generation_client(server.base("a"), server.base("b")) as client:
                with pytest.raises(GoogleError) as info:
                    await client.count_tokens(b"{}", TOKEN)
            return server.bases_hit(), info.value

    bases, failure = asyncio.run(main())
    assert bases == ["a"] and failure.status == 429
