"""The relay: the one I/O shell around every AI route. Body in, front end, dispatcher, bytes out, request logged.

A front end (translate/) is pure; everything with a socket or a clock happens here: the body limit while reading,
the no-account answer, headers with the first chunk, keep-alives on long silences, the error event after the first
byte, and the request log's exchange, opened and closed here whatever happens (`_Logged`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from sanic.response import HTTPResponse

from trayagent.errors import (
    InternalError,
    NeedsUser,
    NoAccountAvailable,
    ProxyError,
    RateLimited,
    StreamBroken,
    UpstreamFailed,
)
from trayagent.logsetup import LogOnce
from trayagent.proxy.body import parse_json_object, read_body
from trayagent.proxy.context import ProxyContext, ProxyRequest
from trayagent.proxy.dispatch import Dispatcher
from trayagent.proxy.exchange import Exchange
from trayagent.proxy.exhaustion import NO_ACCOUNT_MESSAGE
from trayagent.proxy.replies import json_reply
from trayagent.proxy.replyids import SecureIds
from trayagent.redact import redact
from trayagent.translate.hub import ClientCall, ClientProtocol, ClientTarget, Frontend, WholeReply

log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0  # silence after which a stream gets its protocol's keep-alive


IDS = SecureIds()
_NOTED = LogOnce(1000)  # the front ends' notes: fixed texts, each logged once
_NOT_SERVED = (
    "this version of trayagent does not forward this protocol to Google yet (Gemini-native /v1beta routes work)"
)


class _Logged:
    """The exchange's life as one context: a ProxyError closes it with its status, the client going away with 499,
    anything else with 500; the observers (monitor, metrics) always get it."""

    __slots__ = ("ctx", "exchange")

    def __init__(self, ctx: ProxyContext, exchange: Exchange) -> None:
        self.ctx = ctx
        self.exchange = exchange

    async def __aenter__(self) -> Exchange:
        return self.exchange

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        exchange = self.exchange
        if exchange.status == 0:
            if exc is None:
                exchange.close(200)
            elif isinstance(exc, ProxyError):
                exchange.close(exc.status_code, exc.message)
            elif isinstance(exc, asyncio.CancelledError | ConnectionError):
                exchange.close(499, "the client went away")
            else:
                exchange.close(500, "trayagent hit an internal error; the details are in its log")
        self.ctx.finish(exchange)


async def relay(
    request: ProxyRequest, protocol: ClientProtocol, frontend: Frontend | None, params: dict[str, str]
) -> HTTPResponse | None:
    """Serve one AI request through `frontend` (None: a protocol with no front end yet, answered 503)."""
    ctx = request.app.ctx
    runtime = ctx.runtime
    exchange = Exchange(protocol, request.path, "", stream=False, keep_bodies=runtime.config.monitor.log_bodies)
    async with _Logged(ctx, exchange):
        raw = await read_body(request, runtime.config.proxy.max_body_bytes)
        exchange.note_raw_request(raw)
        body = parse_json_object(raw)
        model = body.get("model")
        exchange.client_model = model if isinstance(model, str) else params.get("target", "")
        if frontend is None:
            raise _unavailable(ctx)
        catalog = ctx.catalog(runtime)
        query = {name: values[0] for name, values in request.args.items()} if request.args else {}
        target = ClientTarget(request.path, params, query, request.headers, catalog.upstream_model, ctx.responses.get)
        call = frontend.parse(body, target)
        exchange.client_model, exchange.stream = call.hub.model, call.stream
        _log_notes(call)
        dispatcher = _dispatcher(ctx)
        if call.stream and call.operation == "generate":
            await _stream(request, frontend, call, dispatcher, exchange)
            return None
        if call.operation == "count_tokens":
            reply, headers = await _count_tokens(dispatcher, call, exchange)
        else:
            reply, headers = await dispatcher.complete(call.hub, exchange)
        rendered = frontend.render(call, reply, IDS)
        if call.keep is not None:
            ctx.responses.keep(rendered, call.keep)
        response = json_reply(rendered, headers={**headers, **call.headers})
        exchange.note_response(response.body or b"")
        exchange.mark_first_byte()
        return response


async def _count_tokens(
    dispatcher: Dispatcher, call: ClientCall, exchange: Exchange
) -> tuple[Mapping[str, Any], dict[str, str]]:
    try:
        return await dispatcher.count_tokens(call.hub, exchange)
    except (RateLimited, NoAccountAvailable, StreamBroken, UpstreamFailed, InternalError) as exc:
        if not call.estimate_when_unanswered or isinstance(exc, NeedsUser):
            raise  # an estimate would hide what only the user can fix
        log.info("countTokens unanswered (%s); the front end's estimate goes out instead", redact(exc.message))
        return {}, dict(exc.extra_headers)


async def _stream(
    request: ProxyRequest, frontend: Frontend, call: ClientCall, dispatcher: Dispatcher, exchange: Exchange
) -> None:
    """Headers go out with the first chunk; a failure after that becomes the protocol's error event, never a
    silent end. The exchange closes with 200, the failure's status, or (client gone) 499 from `_Logged`."""
    reply = await dispatcher.stream(call.hub, exchange)
    try:
        encoder = frontend.encoder(call, IDS)
        response = await request.respond(
            headers={**reply.headers, **call.headers, "Cache-Control": "no-cache"},
            content_type=frontend.media_type(call),
        )
        exchange.mark_first_byte()
        keepalive = _KeepAlive(response, encoder.keepalive()) if KEEPALIVE_S > 0 else None
        error: str | None = None
        held = b""  # the chunk with the finish reason waits for the end, to go out with it in one write
        try:
            async for chunk in reply.chunks():
                data = encoder.feed(chunk)
                if data:
                    if held:
                        data, held = held + data, b""
                    if _finishes(chunk):
                        held = data
                        continue
                    exchange.note_response(data)
                    await response.send(data)
                    if keepalive is not None:
                        keepalive.sent()
        except Exception as exc:  # headers are out: whatever happened, the client reads it as a last event
            broken = exc if isinstance(exc, StreamBroken) else _unexpected(exc)
            data, status, error = held + encoder.fail(broken), broken.status_code, broken.message
        else:
            data, status, error = held + encoder.finish(), 200, None
            if call.keep is not None and isinstance(encoder, WholeReply) and encoder.response is not None:
                # Kept before the terminal event goes out: a client may continue from it the moment it reads it.
                request.app.ctx.responses.keep(encoder.response, call.keep)
        finally:
            if keepalive is not None:
                keepalive.stop()
        if data:
            exchange.note_response(data)
        await response.send(data, end_stream=True)  # the last events and the end of the body in one write
        exchange.close(status, error)
    finally:
        reply.close()


def _finishes(chunk: Mapping[str, Any]) -> bool:
    """A chunk giving a finish reason: the upstream's last, or all but (a usage-only chunk may follow)."""
    candidates = chunk.get("candidates")
    return isinstance(candidates, list) and any(
        isinstance(candidate, dict) and "finishReason" in candidate for candidate in candidates
    )


class _KeepAlive:
    """Sends the protocol's keep-alive when nothing went out for KEEPALIVE_S: one timer per stream, not per chunk."""

    __slots__ = ("_data", "_handle", "_last", "_loop", "_response", "_task")

    def __init__(self, response: Any, data: bytes) -> None:
        self._response = response
        self._data = data
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._task: asyncio.Task[None] | None = None
        self._handle: asyncio.TimerHandle | None = None
        if data:
            self._handle = self._loop.call_later(KEEPALIVE_S, self._check)

    def sent(self) -> None:
        self._last = self._loop.time()

    def _check(self) -> None:
        idle = self._loop.time() - self._last
        if idle >= KEEPALIVE_S and (self._task is None or self._task.done()):
            self._task = self._loop.create_task(self._response.send(self._data))
            self._last = self._loop.time()
            idle = 0.0
        self._handle = self._loop.call_later(max(KEEPALIVE_S - idle, 0.5), self._check)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def _unexpected(exc: Exception) -> StreamBroken:
    log.error("a stream failed part-way", exc_info=exc)
    return StreamBroken("trayagent hit an internal error part-way through the reply; the details are in its log")


def _dispatcher(ctx: ProxyContext) -> Dispatcher:
    backend = ctx.backend
    if backend is None:
        raise _no_account(ctx)
    return backend.dispatcher  # with no usable account, the dispatcher's exhaustion error says why


def _no_account(ctx: ProxyContext) -> NeedsUser:
    registry = ctx.registry
    counts = registry.counts() if registry is not None else {"total": 0, "available": 0}
    if counts["total"] == 0:
        return NeedsUser(NO_ACCOUNT_MESSAGE)
    return NeedsUser(
        f"all {counts['total']} Google account(s) are disabled or need verification: "
        "see `trayagent accounts list`, then sign in again or verify them"
    )


def _unavailable(ctx: ProxyContext) -> NeedsUser:
    registry = ctx.registry
    if registry is None or not registry.enabled():
        return _no_account(ctx)
    return NeedsUser(f"{len(registry.enabled())} Google account(s) are ready, but {_NOT_SERVED}")


def _log_notes(call: ClientCall) -> None:
    for note in call.notes:
        if _NOTED.first(note):
            log.info("%s", redact(note))
