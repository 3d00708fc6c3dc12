"""Gemini-native model lists: `GET /v1beta/models` and `GET /v1beta/models/{model}`.

Generation (`POST …/models/{model}:{method}`) is a row of the AI route table, served by the relay through
`translate.gemini.GEMINI`.
"""

from __future__ import annotations

from sanic.response import HTTPResponse

from trayagent.errors import RouteNotFound
from trayagent.proxy.context import ProxyApp, ProxyRequest
from trayagent.proxy.replies import json_reply
from trayagent.translate.gemini import gemini_model, gemini_model_list


async def list_models(request: ProxyRequest) -> HTTPResponse:
    ctx = request.app.ctx
    return json_reply(gemini_model_list(ctx.catalog(ctx.runtime).names()))


async def get_model(request: ProxyRequest, target: str) -> HTTPResponse:
    ctx = request.app.ctx
    name = target.removeprefix("models/")
    if not ctx.catalog(ctx.runtime).knows(name):
        raise RouteNotFound(f"model '{name}' is not served here; GET /v1beta/models lists the models")
    return json_reply(gemini_model(name))


def register(app: ProxyApp) -> None:
    app.add_route(list_models, "/v1beta/models", methods=["GET"], name="gemini_models", ctx_protocol="gemini")
    app.add_route(
        get_model, "/v1beta/models/<target:path>", methods=["GET"], name="gemini_model", ctx_protocol="gemini"
    )
