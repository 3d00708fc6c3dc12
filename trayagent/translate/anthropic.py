"""The Anthropic front ends: `POST /v1/messages` (streamed and not) and `POST /v1/messages/count_tokens`.

Request translation lives in `anthropic_request` / `anthropic_content`, the reply in `anthropic_reply`, the
stream in `anthropic_stream`; this module binds them to the `Frontend` seam. Errors use Anthropic's shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from trayagent.errors import InternalError, ProxyError
from trayagent.translate.anthropic_reply import render_message
from trayagent.translate.anthropic_request import Echo, parse_body
from trayagent.translate.anthropic_stream import MessagesEncoder
from trayagent.translate.error_shapes import render_anthropic_error
from trayagent.translate.hub import EVENT_STREAM, ClientCall, ClientProtocol, ClientTarget, ReplyIds, StreamEncoder


class MessagesFrontend:
    """`POST /v1/messages` (also `?beta=true`, Claude Code's form)."""

    protocol: ClientProtocol = "anthropic"

    def parse(self, body: dict[str, Any], target: ClientTarget) -> ClientCall:
        return parse_body(body, target)

    def media_type(self, call: ClientCall) -> str:
        return EVENT_STREAM

    def encoder(self, call: ClientCall, ids: ReplyIds) -> StreamEncoder:
        return MessagesEncoder(_echo(call), ids)

    def render(self, call: ClientCall, reply: Mapping[str, Any], ids: ReplyIds) -> Any:
        """The message; a reply Google broke (malformed call, empty) raises the ProxyError to answer instead."""
        return render_message(_echo(call), reply, ids)

    def render_error(self, error: ProxyError) -> dict[str, Any]:
        return render_anthropic_error(error)


class CountTokensFrontend:
    """`POST /v1/messages/count_tokens`: the same translation, counted by Google's countTokens."""

    protocol: ClientProtocol = "anthropic"

    def parse(self, body: dict[str, Any], target: ClientTarget) -> ClientCall:
        return parse_body(body, target, count_tokens=True)

    def media_type(self, call: ClientCall) -> str:
        return "application/json"

    def encoder(self, call: ClientCall, ids: ReplyIds) -> StreamEncoder:
        raise InternalError("count_tokens replies are never streamed")

    def render(self, call: ClientCall, reply: Mapping[str, Any], ids: ReplyIds) -> Any:
        # Claude Code compacts its context from this number: Google's count, else our estimate, never 0.
        total = reply.get("totalTokens")
        if isinstance(total, bool) or not isinstance(total, int) or total <= 0:
            total = _echo(call).estimate
        return {"input_tokens": total}

    def render_error(self, error: ProxyError) -> dict[str, Any]:
        return render_anthropic_error(error)


def _echo(call: ClientCall) -> Echo:
    echo = call.echo
    if not isinstance(echo, Echo):
        raise InternalError("an Anthropic reply needs the call its front end parsed")
    return echo


MESSAGES: Final = MessagesFrontend()
COUNT_TOKENS: Final = CountTokensFrontend()
