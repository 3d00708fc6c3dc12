"""Gemini-native routes: `/v1beta/models[/{model}]` and `POST /v1beta/models/{model}:{method}`.

The body already is the hub format, so these routes only validate, dispatch and write. The POST form is
also served under `/v1/models/` because google-genai defaults to api_version "v1".
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from sanic.response import HTTPResponse

from trayagent.errors import BadRequest, ProxyError, RouteNotFound, StreamBroken
from trayagent.proxy.body import read_json_object
from trayagent.proxy.context import ProxyApp, ProxyContext, ProxyRequest
from trayagent.proxy.dispatch import Dispatcher
from trayagent.proxy.exchange import Exchange
from trayagent.proxy.models import model_names, routes_somewhere
from trayagent.proxy.replies import json_reply
from trayagent.proxy.routes.unavailable import no_account
from trayagent.translate.error_shapes import render_gemini_error
from trayagent.translate.gemini import GENERATION_METHODS, first_user_text, gemini_model, gemini_model_list
from trayagent.translate.hub import HubRequest, session_key

log = logging.getLogger(__name__)
METHODS = GENERATION_METHODS


def split_model_method(target: str) -> tuple[str, str]:
    """`models/gemini-2.5-flash:generateContent` or `gemini-2.5-flash:generateContent` → (model, method)."""
    model, sep, method = target.rpartition(":")
    if not sep:
        raise RouteNotFound(f"expected /v1beta/models/{{model}}:{{method}} with method one of {', '.join(METHODS)}")
    model = model.removeprefix("models/")
    if not model:
        raise BadRequest("the model name is missing before ':' in the path")
    if method not in METHODS:
        raise RouteNotFound(f"unknown method '{method}'; trayagent serves {', '.join(METHODS)}")
    return model, method


async def list_models(request: ProxyRequest) -> HTTPResponse:
    return json_reply(gemini_model_list(model_names(request.app.ctx)))


async def get_model(request: ProxyRequest, target: str) -> HTTPResponse:
    name = target.removeprefix("models/")
    if not routes_somewhere(request.app.ctx, name):
        raise RouteNotFound(f"model '{name}' is not served here; GET /v1beta/models lists the models")
    return json_reply(gemini_model(name))


async def model_method(request: ProxyRequest, target: str) -> HTTPResponse | None:
    model, method = split_model_method(target)
    ctx = request.app.ctx
    body = await read_json_object(request, ctx.config.proxy.max_body_bytes)
    if method == "countTokens":
        body = _count_tokens_request(body)
    _check_contents(body)
    dispatcher = _dispatcher(ctx)
    hub = HubRequest(model, body, session_key(first_user_text(body)))
    exchange = Exchange(
        "gemini",
        request.path,
        model,
        stream=method == "streamGenerateContent",
        keep_bodies=ctx.config.monitor.log_bodies,
    )
    exchange.note_request(body)
    if exchange.stream:
        await _stream(request, dispatcher, hub, exchange)
        return None
    try:
        if method == "countTokens":
            reply, headers = await dispatcher.count_tokens(hub, exchange)
            reply = {"totalTokens": reply.get("totalTokens", 0), **reply}
        else:
            reply, headers = await dispatcher.complete(hub, exchange)
    except ProxyError as exc:
        exchange.close(exc.status_code, exc.message)
        ctx.finish(exchange)
        raise
    response = json_reply(reply, headers=headers)
    exchange.note_response(response.body or b"")
    exchange.mark_first_byte()
    exchange.close(200)
    ctx.finish(exchange)
    return response


async def _stream(request: ProxyRequest, dispatcher: Dispatcher, hub: HubRequest, exchange: Exchange) -> None:
    """SSE with `alt=sse`, else one JSON array written element by element. Headers go out with the first
    chunk; a failure after that becomes a last error element, never a silent end."""
    ctx = request.app.ctx
    try:
        reply = await dispatcher.stream(hub, exchange)
    except ProxyError as exc:
        exchange.close(exc.status_code, exc.message)
        ctx.finish(exchange)
        raise
    sse = request.args.get("alt") == "sse"
    status: int = 499  # until the last byte is out
    error: str | None = "the client went away"
    try:
        response = await request.respond(
            headers={**reply.headers, "Cache-Control": "no-cache"},
            content_type="text/event-stream" if sse else "application/json; charset=utf-8",
        )
        exchange.mark_first_byte()
        opening = b"["
        try:
            async for chunk in reply.chunks():
                data = orjson.dumps(chunk)
                exchange.note_response(data)
                await response.send(b"data: " + data + b"\r\n\r\n" if sse else opening + data)
                opening = b",\r\n"
        except Exception as exc:  # headers are out: whatever happened, the client reads it as a last event
            broken = exc if isinstance(exc, StreamBroken) else _unexpected(exc)
            event = orjson.dumps(render_gemini_error(broken))
            await response.send(b"data: " + event + b"\r\n\r\n" if sse else opening + event)
            status, error = broken.status_code, broken.message
        else:
            status, error = 200, None
        if not sse:
            await response.send(b"]" if opening != b"[" else b"[]")
        await response.eof()
    finally:
        reply.close()
        exchange.close(status, error)
        ctx.finish(exchange)


def _unexpected(exc: Exception) -> StreamBroken:
    log.error("a stream failed part-way", exc_info=exc)
    return StreamBroken("trayagent hit an internal error part-way through the reply; the details are in its log")


def _dispatcher(ctx: ProxyContext) -> Dispatcher:
    if ctx.dispatcher is None:
        raise no_account(ctx)
    return ctx.dispatcher


def _count_tokens_request(body: dict[str, Any]) -> dict[str, Any]:
    """countTokens takes `{contents…}` or `{generateContentRequest: {model, contents…}}`."""
    inner = body.get("generateContentRequest")
    if inner is None:
        return body
    if not isinstance(inner, dict):
        raise BadRequest("generateContentRequest must be an object")
    return {key: value for key, value in inner.items() if key != "model"}


def _check_contents(body: dict[str, Any]) -> None:
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise BadRequest("contents must be a non-empty list of {role, parts} objects")
    for index, content in enumerate(contents):
        if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
            raise BadRequest(f"contents[{index}] must be an object with a list of parts")


def register(app: ProxyApp) -> None:
    app.add_route(list_models, "/v1beta/models", methods=["GET"], name="gemini_models")
    app.add_route(get_model, "/v1beta/models/<target:path>", methods=["GET"], name="gemini_model")
    app.add_route(model_method, "/v1beta/models/<target:path>", methods=["POST"], name="gemini_call", stream=True)
    app.add_route(model_method, "/v1/models/<target:path>", methods=["POST"], name="gemini_call_v1", stream=True)
