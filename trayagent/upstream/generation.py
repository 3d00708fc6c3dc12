"""Generation calls on Cloud Code: the envelope, `streamGenerateContent?alt=sse` read chunk by chunk, countTokens.

They go through the one transport (`transport.py`) and its base fallback. Every failure, before the stream or
in it, is a `GoogleError` carrying what the failure classifier (`accounts/ratelimit.py`) needs: the status, the
body and the headers.
"""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import orjson

from trayagent.config import UpstreamSettings
from trayagent.errors import GoogleError
from trayagent.upstream.sse import SSEDecoder, event_json
from trayagent.upstream.transport import CloudCodeTransport, network_words

STREAM_METHOD = "streamGenerateContent?alt=sse"
_NO_HEADERS: Mapping[str, str] = {}


def generation_failure(
    message: str, status: int | None = None, body: bytes | str = b"", headers: Mapping[str, str] = _NO_HEADERS
) -> GoogleError:
    """A generation failure: the GoogleError the classifier reads (`body` defaults to the message)."""
    return GoogleError(message, status=status, body=body if body else message, headers=headers)


def envelope(project: str, model: str, request: Mapping[str, Any], session_id: str) -> bytes:
    """The v1internal wrapper around a Gemini request. The request's own key order is kept (prefix caching)."""
    inner = dict(request)
    inner.pop("model", None)
    inner["sessionId"] = session_id
    return orjson.dumps(
        {
            "project": project,
            "model": model,
            "userAgent": "antigravity",
            "requestType": "image_gen" if "image" in model else "agent",
            "requestId": f"agent-{uuid.uuid4()}",
            "request": inner,
        }
    )


def count_tokens_body(request: Mapping[str, Any]) -> bytes:
    """countTokens takes the bare request (no project, no model: those give a 400) without safetySettings."""
    inner = {key: value for key, value in request.items() if key not in ("safetySettings", "model")}
    return orjson.dumps({"request": inner})


def is_real_chunk(chunk: Mapping[str, Any]) -> bool:
    """A chunk that carries a reply (candidates, usage or feedback), not a keep-alive or backend metadata."""
    return "candidates" in chunk or "usageMetadata" in chunk or "promptFeedback" in chunk


class ReplyEnd:
    """Whether a streamed reply has ended the way Google ends one (spec/upstream.md: the last chunk carries
    `finishReason`): every candidate that appeared has its finishReason, or the prompt itself was blocked
    (`promptFeedback.blockReason`, then no candidate comes). A stream that stops cleanly short of that was cut
    off upstream, and its partial reply must not pass for a whole one."""

    __slots__ = ("_blocked", "_finished", "_open")

    def __init__(self) -> None:
        self._open: set[int] = set()
        self._finished: set[int] = set()
        self._blocked = False

    def see(self, chunk: Mapping[str, Any]) -> None:
        feedback = chunk.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason"):
            self._blocked = True
        candidates = chunk.get("candidates")
        if not isinstance(candidates, list):
            return
        for position, candidate in enumerate(candidates):
            if not isinstance(candidate, dict):
                continue
            index = candidate.get("index", position)
            index = index if isinstance(index, int) else position
            self._open.add(index)
            if candidate.get("finishReason"):
                self._finished.add(index)

    @property
    def complete(self) -> bool:
        return self._blocked or (bool(self._open) and self._open <= self._finished)


def unfinished_failure() -> GoogleError:
    return generation_failure("Google ended the stream without a finish reason (the reply was cut short)", 502)


class GenerationClient:
    def __init__(self, session: aiohttp.ClientSession, settings: UpstreamSettings, request_timeout: float) -> None:
        self._transport = CloudCodeTransport(session, settings)
        self._timeout = aiohttp.ClientTimeout(
            total=request_timeout, connect=settings.connect_timeout, sock_read=settings.read_timeout
        )

    async def open_stream(self, payload: bytes, access_token: str) -> ChunkStream:
        """Start a streamed generation; the HTTP status is 200 once this returns. Chunks come from the stream."""
        reply = await self._post(STREAM_METHOD, payload, access_token)
        return ChunkStream(reply, _host(str(reply.url)))

    async def count_tokens(self, payload: bytes, access_token: str) -> dict[str, Any]:
        reply = await self._post("countTokens", payload, access_token)
        try:
            raw = await reply.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise generation_failure(f"countTokens: the answer broke off ({network_words(exc)})") from None
        finally:
            reply.release()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise generation_failure("countTokens: the answer is not JSON", 502, raw) from None
        if not isinstance(data, dict):
            raise generation_failure("countTokens: the answer is not a JSON object", 502, raw)
        inner = data.get("response")
        return inner if isinstance(inner, dict) else data

    async def _post(self, method: str, payload: bytes, access_token: str) -> aiohttp.ClientResponse:
        return await self._transport.post(
            method, payload, access_token, timeout=self._timeout, accept="text/event-stream, application/json"
        )


class ChunkStream:
    """The chunks of one streamed reply, unwrapped from `{"response": …}`. Raises GoogleError when the
    stream breaks, times out or carries an error; `aclose()` frees the connection early."""

    __slots__ = ("_decoder", "_host", "_reply")

    def __init__(self, reply: aiohttp.ClientResponse, host: str) -> None:
        self._reply = reply
        self._host = host
        self._decoder = SSEDecoder()

    async def chunks(self) -> AsyncIterator[dict[str, Any]]:
        decoder = self._decoder
        content = self._reply.content
        try:
            while True:
                try:
                    data = await content.readany()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    raise generation_failure(f"the stream from {self._host} broke off ({network_words(exc)})") from None
                events = decoder.feed(data) if data else decoder.finish()
                for event in events:
                    chunk = self._parse(event.data)
                    if chunk is not None:
                        yield chunk
                if not data:
                    return
        finally:
            self._reply.release()

    def aclose(self) -> None:
        self._reply.close()

    def _parse(self, data: str) -> dict[str, Any] | None:
        try:
            chunk = event_json(data)
        except ValueError:
            raise generation_failure(f"the stream from {self._host} sent data that is not JSON", 502, data) from None
        if chunk is None:
            return None
        error = chunk.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            status = code if isinstance(code, int) and 400 <= code < 600 else 500
            raise generation_failure(f"the stream from {self._host} carried an error", status, orjson.dumps(chunk))
        return chunk


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc
