"""Anthropic-compatible routes: messages and token counting."""

from __future__ import annotations

from trayagent.proxy.context import ProxyApp
from trayagent.proxy.routes.unavailable import post_without_account


def register(app: ProxyApp) -> None:
    app.add_route(post_without_account, "/v1/messages", methods=["POST"], name="anthropic_messages", stream=True)
    app.add_route(
        post_without_account,
        "/v1/messages/count_tokens",
        methods=["POST"],
        name="anthropic_count_tokens",
        stream=True,
    )
