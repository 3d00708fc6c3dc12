"""OpenAI's model list: `GET /v1/models` and `GET /v1/models/{model}` (the Gemini shape for google-genai).

Generation routes (chat completions, completions, responses) are rows of the AI route table (proxy/routetable.py).
"""

from __future__ import annotations

from sanic.response import HTTPResponse

from trayagent.errors import RouteNotFound
from trayagent.proxy.catalog import alias_examples
from trayagent.proxy.context import ProxyApp, ProxyRequest
from trayagent.proxy.replies import json_reply
from trayagent.proxy.routes import gemini
from trayagent.translate.gemini import openai_model_list


def from_gemini_sdk(request: ProxyRequest) -> bool:
    """google-genai defaults to api_version "v1", so its model list lands on OpenAI's `/v1/models` path; its
    own header (or its key placement) tells it apart from an OpenAI client."""
    headers = request.headers
    return "x-goog-api-client" in headers or "x-goog-api-key" in headers or "key" in request.args


async def list_models(request: ProxyRequest) -> HTTPResponse:
    if from_gemini_sdk(request):
        return await gemini.list_models(request)
    ctx = request.app.ctx
    names = ctx.catalog(ctx.runtime).names()
    names += [alias for alias in alias_examples() if alias not in names]
    return json_reply(openai_model_list(names, int(ctx.started_at)))


async def get_model(request: ProxyRequest, target: str) -> HTTPResponse:
    if from_gemini_sdk(request):
        return await gemini.get_model(request, target)
    ctx = request.app.ctx
    if not ctx.catalog(ctx.runtime).knows(target):
        raise RouteNotFound(f"The model '{target}' does not exist; GET /v1/models lists the models")
    return json_reply(openai_model_list([target], int(ctx.started_at))["data"][0])


def register(app: ProxyApp) -> None:
    app.add_route(list_models, "/v1/models", methods=["GET"], name="openai_models", ctx_protocol="openai")
    app.add_route(get_model, "/v1/models/<target:path>", methods=["GET"], name="openai_model", ctx_protocol="openai")
