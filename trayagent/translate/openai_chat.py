"""The OpenAI chat completions front end (`POST /v1/chat/completions`), `CHAT`, and its reply side: Gemini
replies → `chat.completion` objects and `chat.completion.chunk` streams (text, reasoning text as
`reasoning_content`, tool calls with ids kept from Google or made unique, images as markdown data URLs).

The request side is `openai_chat_request` (fields, tools, response_format) on `openai_messages`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from trayagent.translate.gemini import CallIds, parts_of
from trayagent.translate.hub import ReplyIds
from trayagent.translate.openai_chat_request import parse_chat
from trayagent.translate.openai_reply import Ending, OpenAIFrontend, ReplyEcho, ReplyStream, finish_reason, render_reply


def _image(part: Mapping[str, Any]) -> str | None:
    """Inline data (image models) as markdown, the way chat apps show pictures in a text reply; on a line of
    its own (`_after` puts the line break when text precedes it)."""
    data = part.get("inlineData")
    if not isinstance(data, dict) or not isinstance(data.get("data"), str):
        return None
    mime = data.get("mimeType") if isinstance(data.get("mimeType"), str) else "application/octet-stream"
    url = f"data:{mime};base64,{data['data']}"
    return f"![image]({url})" if str(mime).startswith("image/") else f"[attachment]({url})"


def _after(previous: str, image: str) -> str:
    return image if not previous or previous.endswith("\n") else "\n\n" + image


def _call(part: Mapping[str, Any]) -> Mapping[str, Any] | None:
    call = part.get("functionCall")
    return call if isinstance(call, dict) and isinstance(call.get("name"), str) else None


def _arguments(call: Mapping[str, Any]) -> str:
    args = call.get("args")
    return orjson.dumps(args if isinstance(args, dict) else {}).decode()


def _message(candidate: Mapping[str, Any], echo: ReplyEcho, calls: CallIds) -> tuple[dict[str, Any], Ending]:
    texts: list[str] = []
    thoughts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    ending = Ending()
    for part in parts_of(candidate):
        if not isinstance(part, dict):
            continue
        call = _call(part)
        if call is not None:
            if echo.functions or echo.single_call:
                if tool_calls:
                    continue  # one call per choice was asked for
            tool_calls.append(
                {
                    "id": calls.take(call),
                    "type": "function",
                    "function": {"name": call["name"], "arguments": _arguments(call)},
                }
            )
            continue
        text = part.get("text")
        if isinstance(text, str):
            (thoughts if part.get("thought") else texts).append(text)
            continue
        image = _image(part)
        if image is not None:
            texts.append(_after(texts[-1] if texts else "", image))
    ending.observe(candidate)
    content = "".join(texts)
    ending.visible = bool(content)
    ending.called = bool(tool_calls)
    message: dict[str, Any] = {"role": "assistant", "content": content or None}
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if tool_calls and echo.functions:
        message["function_call"] = tool_calls[0]["function"]
    elif tool_calls:
        message["tool_calls"] = tool_calls
    message["refusal"] = None
    message["annotations"] = []
    return message, ending


def render_chat(echo: ReplyEcho, reply: Mapping[str, Any], ids: ReplyIds) -> dict[str, Any]:
    """A merged GenerateContentResponse → `chat.completion`; StreamBroken when a candidate is unusable."""
    calls = CallIds(ids)
    words = "function_call" if echo.functions else "tool_calls"

    def choice(index: int, candidate: Mapping[str, Any], blocked: str | None) -> dict[str, Any]:
        message, ending = _message(candidate, echo, calls)
        reason = finish_reason(ending, blocked=blocked, calls_word=words)
        return {"index": index, "message": message, "logprobs": None, "finish_reason": reason}

    return render_reply(echo, reply, ids, ("chatcmpl-", "chat.completion"), choice)


class ChatStream(ReplyStream):
    """`chat.completion.chunk` events: the role first (every choice, in index order, as the SDK's
    accumulator needs), then one delta per Gemini part, the finish reasons, the usage chunk, `[DONE]`."""

    object_name = "chat.completion.chunk"

    def __init__(self, echo: ReplyEcho, ids: ReplyIds) -> None:
        super().__init__(echo, ids, "chatcmpl-")
        self._calls: CallIds | None = None  # made at the first call: most replies have none
        self._call_counts = [0] * echo.n
        self._last_text = [""] * echo.n  # each choice's last content delta, for where an image starts

    def opening(self) -> list[bytes]:
        return [_OPENING % index for index in range(self.echo.n)]

    def part_choices(self, index: int, part: Mapping[str, Any], ending: Ending) -> list[bytes]:
        call = _call(part) if "functionCall" in part else None
        if call is not None:
            return [orjson.dumps(choice) for choice in self._call_choices(index, call, ending)]
        text = part.get("text")
        if isinstance(text, str):
            if not text:
                return []  # a signature-only part: the dispatcher keeps the signature, the client has nothing
            if part.get("thought"):
                return [_delta(index, b"reasoning_content", text)]
            return [self.text_choice(index, text, ending)]
        image = _image(part)
        if image is None:
            return []
        ending.visible = True
        image = _after(self._last_text[index], image)
        self._last_text[index] = image
        return [_delta(index, b"content", image)]

    def text_choice(self, index: int, text: str, ending: Ending) -> bytes:
        ending.visible = True
        self._last_text[index] = text
        return _delta(index, b"content", text)

    def _call_choices(self, index: int, call: Mapping[str, Any], ending: Ending) -> list[dict[str, Any]]:
        position = self._call_counts[index]
        if position and (self.echo.functions or self.echo.single_call):
            return []  # one call per choice was asked for
        self._call_counts[index] += 1
        ending.called = True
        name, arguments = call["name"], _arguments(call)
        if self.echo.functions:
            return [
                _choice(index, {"function_call": {"name": name, "arguments": ""}}),
                _choice(index, {"function_call": {"arguments": arguments}}),
            ]
        # As OpenAI streams a call: its id, type and name with empty arguments, then the arguments.
        if self._calls is None:
            self._calls = CallIds(self.ids)
        head = {"index": position, "id": self._calls.take(call), "type": "function"}
        return [
            _choice(index, {"tool_calls": [{**head, "function": {"name": name, "arguments": ""}}]}),
            _choice(index, {"tool_calls": [{"index": position, "function": {"arguments": arguments}}]}),
        ]

    def final_choice(self, index: int, reason: str) -> bytes:
        return _FINAL % (index, orjson.dumps(reason))

    def calls_word(self) -> str:
        return "function_call" if self.echo.functions else "tool_calls"


def _choice(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}


# Choices as `orjson.dumps(_choice(…))` writes them, from templates: the role that opens each choice, the last
# (empty) delta with the finish reason, and a delta of one string (`_delta`).
_OPENING: Final = b'{"index":%d,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}'
_FINAL: Final = b'{"index":%d,"delta":{},"logprobs":null,"finish_reason":%s}'
_DELTA_END: Final = b'},"logprobs":null,"finish_reason":null}'


def _delta(index: int, key: bytes, text: str) -> bytes:
    """`_choice(index, {key: text})` serialised, without building the dicts: the stream's commonest choice."""
    return b'{"index":%d,"delta":{"%s":%s%s' % (index, key, orjson.dumps(text), _DELTA_END)


CHAT: Final = OpenAIFrontend(parse_chat, ChatStream, render_chat)
