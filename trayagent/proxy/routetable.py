"""The AI route table: each path, its protocol and its front end. The one place a new protocol is plugged in.

Every row is served by the relay. The protocol rides on the Sanic route (`route.ctx.protocol`), so every error
of that path — 401, 405, 413, a 5xx — is rendered in the protocol's own shape. A row without a front end
answers 503 in its protocol's shape, logged and counted like any other request.

The store rows read back what the Responses API kept (`store`): answered from memory by plain handlers, never
relayed, with OpenAI's key check and error shapes like the generation rows.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from sanic.response import HTTPResponse

from trayagent.proxy.context import ProxyApp, ProxyRequest
from trayagent.proxy.relay import relay
from trayagent.proxy.routes import responses
from trayagent.translate.anthropic import COUNT_TOKENS, MESSAGES
from trayagent.translate.gemini import GEMINI
from trayagent.translate.hub import ClientProtocol, Frontend
from trayagent.translate.openai_chat import CHAT
from trayagent.translate.openai_completions import COMPLETIONS
from trayagent.translate.openai_responses import RESPONSES


@dataclass(frozen=True, slots=True)
class AiRoute:
    path: str
    name: str
    protocol: ClientProtocol
    frontend: Frontend | None


AI_ROUTES: tuple[AiRoute, ...] = (
    AiRoute("/v1/chat/completions", "openai_chat", "openai", CHAT),
    AiRoute("/v1/completions", "openai_completions", "openai", COMPLETIONS),
    AiRoute("/v1/responses", "openai_responses", "openai", RESPONSES),
    AiRoute("/v1/messages", "anthropic_messages", "anthropic", MESSAGES),
    AiRoute("/v1/messages/count_tokens", "anthropic_count_tokens", "anthropic", COUNT_TOKENS),
    AiRoute("/v1beta/models/<target:path>", "gemini_call", "gemini", GEMINI),
    # google-genai defaults to api_version "v1": the same calls under /v1/models/{model}:{method}.
    AiRoute("/v1/models/<target:path>", "gemini_call_v1", "gemini", GEMINI),
)


@dataclass(frozen=True, slots=True)
class StoreRoute:
    path: str
    name: str
    method: str
    handler: Callable[..., Coroutine[Any, Any, HTTPResponse]]


STORE_ROUTES: tuple[StoreRoute, ...] = (
    StoreRoute("/v1/responses/<response_id>", "openai_response", "GET", responses.retrieve),
    StoreRoute("/v1/responses/<response_id>", "openai_response_delete", "DELETE", responses.delete),
    StoreRoute("/v1/responses/<response_id>/input_items", "openai_response_input_items", "GET", responses.input_items),
)


def register(app: ProxyApp, routes: Iterable[AiRoute] = AI_ROUTES) -> None:
    for stored in STORE_ROUTES:
        app.add_route(stored.handler, stored.path, methods=[stored.method], name=stored.name, ctx_protocol="openai")
    for row in routes:
        app.add_route(
            _handler(row),
            row.path,
            methods=["POST"],
            name=row.name,
            stream=True,
            ctx_protocol=row.protocol,
        )


def _handler(row: AiRoute) -> Callable[..., Coroutine[Any, Any, HTTPResponse | None]]:
    protocol, frontend = row.protocol, row.frontend

    async def handle(request: ProxyRequest, **params: Any) -> HTTPResponse | None:
        return await relay(request, protocol, frontend, params)

    handle.__name__ = row.name
    return handle
