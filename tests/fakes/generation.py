"""The generation side of the fake Cloud Code: `streamGenerateContent`, `generateContent`, `countTokens`.

Replies are scripted per account (or for everyone) as `ScriptedReply`: chunks of parts (text, thoughts with
signatures, function calls), a finish reason and usage; `when=` (tests.fakes.requestshape) keeps a reply for
the requests of a given shape. Without a script the model answers "Hello from <model>" in three chunks, and
a JSON-mode request gets a JSON value of its schema in one. Stream misbehaviour comes from `Failure` fields:
`cut_after` (the connection drops after N chunks), `empty` (200 with no data), `unfinished` (a clean end without
the last chunk's finishReason and usage), `delay` (slow first byte). A reply's
`raw_before` puts raw SSE before chunk N (keep-alive comments, backend metadata events, anything odd).
Thought signatures are base64 on the wire, as Google sends them (the google-genai SDK decodes them).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.requestshape import Predicate, json_sample, wants_json

if TYPE_CHECKING:
    from tests.fakes.google import Failure, FakeAccount


@dataclass
class ScriptedReply:
    chunks: list[list[dict[str, Any]]]
    finish_reason: str = "STOP"
    usage: dict[str, int] | None = None
    email: str | None = None  # only for this account
    times: int = 1
    chunk_delay: float = 0.0
    raw_before: dict[int, bytes] = field(default_factory=dict)  # chunk index -> raw SSE written before it
    when: Predicate | None = None  # only for requests this is true of (given the inner request)


def text(value: str, signature: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"text": value}
    if signature:
        part["thoughtSignature"] = signature
    return part


def thought(value: str, signature: str | None = "c2lnLXRob3VnaHQtMQ==") -> dict[str, Any]:
    part: dict[str, Any] = {"text": value, "thought": True}
    if signature:
        part["thoughtSignature"] = signature
    return part


def function_call(name: str, args: dict[str, Any], signature: str | None = None, call_id: str | None = None):
    call: dict[str, Any] = {"name": name, "args": args}
    if call_id:
        call["id"] = call_id
    part: dict[str, Any] = {"functionCall": call}
    if signature:
        part["thoughtSignature"] = signature
    return part


def default_reply(model: str, request: dict[str, Any]) -> ScriptedReply:
    if wants_json(request):  # a client that asked for JSON retries anything else
        return ScriptedReply(chunks=[[text(json.dumps(json_sample(request)))]])
    return ScriptedReply(chunks=[[text("Hello")], [text(" from ")], [text(model)]])


def _usage(reply: ScriptedReply, request: dict[str, Any]) -> dict[str, int]:
    if reply.usage is not None:
        return reply.usage
    prompt = count_tokens(request)
    out = sum(len(str(p.get("text", ""))) // 4 + 1 for chunk in reply.chunks for p in chunk)
    return {"promptTokenCount": prompt, "candidatesTokenCount": out, "totalTokenCount": prompt + out}


def count_tokens(request: dict[str, Any]) -> int:
    """A stand-in tokenizer: a token per 4 characters of every text in contents and the system instruction."""
    texts: list[str] = []
    for content in [*(request.get("contents") or []), request.get("systemInstruction") or {}]:
        for part in (content or {}).get("parts") or []:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return sum(len(t) // 4 + 1 for t in texts)


def chunk_payloads(reply: ScriptedReply, model: str, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Each chunk as the backend wraps it: {"response": GenerateContentResponse}; the last carries the end."""
    payloads = []
    for i, parts in enumerate(reply.chunks):
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        response: dict[str, Any] = {"candidates": [candidate], "modelVersion": model, "responseId": "resp-fake-1"}
        if i == len(reply.chunks) - 1:
            candidate["finishReason"] = reply.finish_reason
            response["usageMetadata"] = _usage(reply, request)
        payloads.append({"response": response, "traceId": "trace-fake"})
    return payloads


def aggregate(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """The non-streaming reply: one response with every part, the last chunk's finish reason and usage."""
    if not payloads:
        return {"response": {"candidates": []}}
    parts = [p for payload in payloads for p in payload["response"]["candidates"][0]["content"]["parts"]]
    last = payloads[-1]["response"]
    candidate = {**last["candidates"][0], "content": {"role": "model", "parts": parts}}
    return {"response": {**last, "candidates": [candidate]}, "traceId": "trace-fake"}


def check_envelope(account: FakeAccount, body: dict[str, Any]) -> web.Response | None:
    """Refuse what the real backend refuses: a wrong project, an unknown model, a request without contents."""
    from tests.fakes.google import api_error

    if body.get("project") != account.project:
        return api_error(404, f"Project '{body.get('project')}' could not be found.", status_text="NOT_FOUND")
    model = body.get("model")
    if model not in account.models:
        return api_error(404, f"Requested entity was not found. (model {model})", status_text="NOT_FOUND")
    request = body.get("request")
    if not isinstance(request, dict) or not isinstance(request.get("contents"), list) or not request["contents"]:
        return api_error(400, "* GenerateContentRequest.contents: contents is not specified")
    for key in ("requestId", "userAgent"):
        if not body.get(key):
            return api_error(400, f"{key} is required")
    return None


async def stream(
    request: web.Request,
    payloads: list[dict[str, Any]],
    failure: Failure | None,
    chunk_delay: float,
    raw_before: dict[int, bytes] | None = None,
) -> web.StreamResponse:
    if failure is not None and failure.delay:
        await asyncio.sleep(failure.delay)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    if failure is not None and failure.empty:
        await response.write_eof()
        return response
    raw_before = raw_before or {}
    if failure is not None and failure.unfinished and payloads:
        last = json.loads(json.dumps(payloads[-1]))
        last["response"].pop("usageMetadata", None)
        for candidate in last["response"].get("candidates") or []:
            candidate.pop("finishReason", None)
        payloads = [*payloads[:-1], last]
    for i, payload in enumerate(payloads):
        if failure is not None and failure.cut_after is not None and i >= failure.cut_after:
            # Drop the connection mid-stream, as a dying backend does.
            assert request.transport is not None
            request.transport.close()
            return response
        if chunk_delay and i:
            await asyncio.sleep(chunk_delay)
        if i in raw_before:
            await response.write(raw_before[i])
        await response.write(b"data: " + json.dumps(payload).encode() + b"\r\n\r\n")
    await response.write_eof()
    return response


@dataclass
class GenerationScript:
    replies: list[ScriptedReply] = field(default_factory=list)

    def take(self, email: str, model: str, request: dict[str, Any]) -> ScriptedReply:
        for reply in self.replies:
            if reply.times <= 0 or reply.email not in (None, email):
                continue
            if reply.when is not None and not reply.when(request):
                continue
            reply.times -= 1
            return reply
        return default_reply(model, request)
