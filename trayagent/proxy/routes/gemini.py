"""Gemini-native routes: `/v1beta/models[/{model}]` and `POST /v1beta/models/{model}:{method}`.

The POST form is also served under `/v1/models/` because google-genai defaults to api_version "v1".
"""

from __future__ import annotations

from typing import NoReturn

from trayagent.errors import BadRequest, RouteNotFound
from trayagent.proxy.context import ProxyApp, ProxyRequest
from trayagent.proxy.routes.unavailable import get_without_account, post_without_account

METHODS = ("generateContent", "streamGenerateContent", "countTokens")


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


async def model_method(request: ProxyRequest, target: str) -> NoReturn:
    split_model_method(target)
    await post_without_account(request)


def register(app: ProxyApp) -> None:
    app.add_route(get_without_account, "/v1beta/models", methods=["GET"], name="gemini_models")
    app.add_route(get_without_account, "/v1beta/models/<target:path>", methods=["GET"], name="gemini_model")
    app.add_route(model_method, "/v1beta/models/<target:path>", methods=["POST"], name="gemini_call", stream=True)
    app.add_route(model_method, "/v1/models/<target:path>", methods=["POST"], name="gemini_call_v1", stream=True)
