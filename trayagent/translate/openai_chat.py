"""The OpenAI chat completions front end (`POST /v1/chat/completions`): `CHAT`, plugged into the relay.

Request side: `openai_chat_request` (fields, tools, response_format) and `openai_messages` (messages → contents);
reply side: `openai_chat_reply` (chat.completion objects and chunk streams) on `openai_reply` (finish reasons,
usage, SSE framing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trayagent.errors import ProxyError
from trayagent.translate.error_shapes import render_openai_error
from trayagent.translate.hub import ClientCall, ClientProtocol, ClientTarget, ReplyIds, StreamEncoder
from trayagent.translate.openai_chat_reply import ChatStream, render_chat
from trayagent.translate.openai_chat_request import parse_chat
from trayagent.translate.openai_reply import ReplyEcho

EVENT_STREAM = "text/event-stream"


def echo_of(call: ClientCall) -> ReplyEcho:
    echo = call.echo
    if not isinstance(echo, ReplyEcho):
        raise TypeError("this ClientCall was not parsed by an OpenAI front end")
    return echo


class ChatFrontend:
    protocol: ClientProtocol = "openai"

    def parse(self, body: dict[str, Any], target: ClientTarget) -> ClientCall:
        return parse_chat(body, target)

    def media_type(self, call: ClientCall) -> str:
        return EVENT_STREAM

    def encoder(self, call: ClientCall, ids: ReplyIds) -> StreamEncoder:
        return ChatStream(echo_of(call), ids)

    def render(self, call: ClientCall, reply: Mapping[str, Any], ids: ReplyIds) -> Any:
        return render_chat(echo_of(call), reply, ids)

    def render_error(self, error: ProxyError) -> dict[str, Any]:
        return render_openai_error(error)


CHAT = ChatFrontend()
