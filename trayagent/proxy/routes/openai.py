"""OpenAI-compatible routes: chat completions, legacy completions, responses and the model list."""

from __future__ import annotations

from trayagent.proxy.context import ProxyApp
from trayagent.proxy.routes.unavailable import get_without_account, post_without_account


def register(app: ProxyApp) -> None:
    for path, name in (
        ("/v1/chat/completions", "openai_chat"),
        ("/v1/completions", "openai_completions"),
        ("/v1/responses", "openai_responses"),
    ):
        app.add_route(post_without_account, path, methods=["POST"], name=name, stream=True)
    app.add_route(get_without_account, "/v1/models", methods=["GET"], name="openai_models")
    app.add_route(get_without_account, "/v1/models/<target:path>", methods=["GET"], name="openai_model")
