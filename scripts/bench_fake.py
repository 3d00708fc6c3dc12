"""A lean fake Google for `make bench`: zero think time, replies precomputed, raw asyncio HTTP/1.1 (keep-alive).

It speaks the wire format of shared/spec/upstream.md just enough for the proxy to hold one account and
generate: the OAuth token endpoint and userinfo, `loadCodeAssist`, `fetchAvailableModels`, `countTokens`,
`generateContent` (`{"response": …}` JSON) and `streamGenerateContent?alt=sse` (chunked SSE, one
`data: {"response": …}` event per chunk). tests/fakes/google.py is the faithful fake for tests; this one
trades its checks and scripting for speed, so that it is not what a benchmark measures.

    python scripts/bench_fake.py --port 0   # prints "listening PORT" once serving; on SIGTERM, its request counts
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
from collections import Counter
from collections.abc import Coroutine
from typing import Any

PROJECT = "bench-project-1"
EMAIL = "bench@example.com"
MODEL = "gemini-2.5-flash"
ACCESS_TOKEN_TTL_S = 7 * 86400  # long: no token refresh during a run

# The reply every target gets: four text chunks, the last with the finish reason and usage.
TEXTS = ["The quick brown fox ", "jumps over the lazy dog; ", "a benchmark needs a reply ", "of a few chunks."]
USAGE = {"promptTokenCount": 12, "candidatesTokenCount": 24, "totalTokenCount": 36}


def chunk_payloads() -> list[dict[str, Any]]:
    payloads = []
    for i, text in enumerate(TEXTS):
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
        response: dict[str, Any] = {"candidates": [candidate], "modelVersion": MODEL, "responseId": "bench-resp-1"}
        if i == len(TEXTS) - 1:
            candidate["finishReason"] = "STOP"
            response["usageMetadata"] = USAGE
        payloads.append({"response": response, "traceId": "bench-trace"})
    return payloads


def aggregated() -> dict[str, Any]:
    payloads = chunk_payloads()
    last = payloads[-1]["response"]
    parts = [{"text": "".join(TEXTS)}]
    candidate = {**last["candidates"][0], "content": {"role": "model", "parts": parts}}
    return {"response": {**last, "candidates": [candidate]}, "traceId": "bench-trace"}


def _json_response(status: int, body: Any) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode()
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 411: "Length Required"}
    head = (
        f"HTTP/1.1 {status} {reason.get(status, 'Error')}\r\n"
        f"Content-Type: application/json; charset=UTF-8\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def _sse_response() -> bytes:
    out = [b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"]
    for payload in chunk_payloads():
        event = b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\r\n\r\n"
        out.append(b"%x\r\n%s\r\n" % (len(event), event))
    out.append(b"0\r\n\r\n")
    return b"".join(out)


def _google_error(code: int, message: str, status: str) -> bytes:
    return _json_response(code, {"error": {"code": code, "message": message, "status": status}})


MODELS = {
    name: {"displayName": name, "supportsThinking": True, "quotaInfo": {"remainingFraction": 1.0}}
    # MODEL answers every row but Claude Code's, whose claude-opus-5-5 routes to claude-opus-4-6-thinking.
    for name in (MODEL, "gemini-2.5-pro", "gemini-3-flash", "claude-sonnet-4-6", "claude-opus-4-6-thinking")
}
STATIC = {
    (b"POST", b"/token"): _json_response(
        200,
        {"access_token": "bench-access-token", "expires_in": ACCESS_TOKEN_TTL_S, "token_type": "Bearer"},
    ),
    (b"GET", b"/userinfo"): _json_response(200, {"email": EMAIL, "name": "Bench", "verified_email": True}),
    (b"POST", b"/v1internal:loadCodeAssist"): _json_response(
        200,
        {
            "cloudaicompanionProject": PROJECT,
            "currentTier": {"id": "free-tier", "name": "Antigravity Free"},
            "allowedTiers": [{"id": "free-tier", "name": "Antigravity Free", "isDefault": True}],
        },
    ),
    (b"POST", b"/v1internal:fetchAvailableModels"): _json_response(200, {"models": MODELS}),
    (b"POST", b"/v1internal:countTokens"): _json_response(200, {"totalTokens": 12}),
    (b"POST", b"/v1internal:generateContent"): _json_response(200, aggregated()),
    (b"POST", b"/v1internal:streamGenerateContent?alt=sse"): _sse_response(),
}
GENERATION = {b"/v1internal:generateContent", b"/v1internal:streamGenerateContent?alt=sse"}
UNAUTHENTICATED = _google_error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
NOT_AN_ENVELOPE = _google_error(400, "Invalid JSON payload: expected the v1internal envelope", "INVALID_ARGUMENT")
NOT_FOUND = _google_error(404, "Method not found.", "NOT_FOUND")
LENGTH_REQUIRED = _json_response(411, {"error": "Content-Length required"})


class FakeUpstream(asyncio.Protocol):
    """One connection: requests parsed from the buffer as they complete, answered from STATIC."""

    counts: Counter[str] = Counter()

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            raw = buffer[:end]
            head = raw.lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else len(head)])
            elif b"\r\ntransfer-encoding:" in head:
                self._reply(LENGTH_REQUIRED)
                assert self.transport is not None
                self.transport.close()
                return
            if len(buffer) < end + 4 + length:
                break
            body = buffer[end + 4 : end + 4 + length]
            buffer = buffer[end + 4 + length :]
            self._answer(raw[: raw.find(b"\r\n")], head, body)
        self.buffer = buffer

    def _answer(self, line: bytes, head: bytes, body: bytes) -> None:
        method, _, rest = line.partition(b" ")
        path = rest.rpartition(b" ")[0]
        reply = STATIC.get((method, path))
        if reply is None:
            self.counts["404"] += 1
            self._reply(NOT_FOUND)
            return
        self.counts[path.decode()] += 1
        if path.startswith(b"/v1internal") and b"\r\nauthorization: bearer " not in head:
            reply = UNAUTHENTICATED
        elif path in GENERATION and not (body.startswith(b"{") and b'"project"' in body and b'"request"' in body):
            reply = NOT_AN_ENVELOPE
        self._reply(reply)

    def _reply(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FakeUpstream, "127.0.0.1", port, backlog=1024, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    print(f"listening {bound}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        server.close()
        print(json.dumps(dict(FakeUpstream.counts)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    run(serve(args.port))


def run(main: Coroutine[Any, Any, None]) -> None:
    """uvloop when it is there, as the proxy and the baseline use."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


if __name__ == "__main__":
    main()
