"""OpenAI-compatible routes: chat completions, legacy completions, responses and the model list."""

from __future__ import annotations

from sanic.response import HTTPResponse

from trayagent.errors import RouteNotFound
from trayagent.proxy.context import ProxyApp, ProxyRequest
from trayagent.proxy.models import alias_examples, model_names, routes_somewhere
from trayagent.proxy.replies import json_reply
from trayagent.proxy.routes.unavailable import post_without_account
from trayagent.translate.gemini import openai_model_list


async def list_models(request: ProxyRequest) -> HTTPResponse:
    ctx = request.app.ctx
    names = model_names(ctx)
    names += [alias for alias in alias_examples() if alias not in names]
    return json_reply(openai_model_list(names, int(ctx.started_at)))


async def get_model(request: ProxyRequest, target: str) -> HTTPResponse:
    ctx = request.app.ctx
    if not routes_somewhere(ctx, target):
        raise RouteNotFound(f"The model '{target}' does not exist; GET /v1/models lists the models")
    return json_reply(openai_model_list([target], int(ctx.started_at))["data"][0])


def register(app: ProxyApp) -> None:
    for path, name in (
        ("/v1/chat/completions", "openai_chat"),
        ("/v1/completions", "openai_completions"),
        ("/v1/responses", "openai_responses"),
    ):
        app.add_route(post_without_account, path, methods=["POST"], name=name, stream=True)
    app.add_route(list_models, "/v1/models", methods=["GET"], name="openai_models")
    app.add_route(get_model, "/v1/models/<target:path>", methods=["GET"], name="openai_model")
