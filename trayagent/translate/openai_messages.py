"""OpenAI chat messages → Gemini contents and system instruction: roles, content parts (text, images, audio,
files), assistant tool calls as functionCall parts carrying the call id, tool results matched to their calls
by id, reasoning text as thought parts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from trayagent.translate.fields import OPENAI_CHAT_FIELDS as FIELDS
from trayagent.translate.fields import at, refuse
from trayagent.translate.gemini import add_turn
from trayagent.translate.media import AUDIO_FORMATS, WEB_SCHEMES, data_url_part, inline_part, link_part, mime_from_name
from trayagent.translate.nesting import nesting_message, too_deep

# Part fields with no Gemini counterpart, accepted and not forwarded: cache hints (OpenAI's
# `prompt_cache_breakpoint`, the Anthropic-style `cache_control` some OpenAI clients add; Gemini caches
# prefixes by itself) and `detail`, a resolution hint for images.
PART_HINTS: Final = ("prompt_cache_breakpoint", "cache_control")

# Keys each role may carry. `name` (a participant name; Gemini has none) is accepted and not forwarded.
# An assistant message echoed from a reply object also brings `refusal`, `annotations`, `audio`,
# `function_call` as nulls or empty lists; they are accepted when they say nothing.
ROLE_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset(
        {
            "role",
            "content",
            "name",
            "tool_calls",
            "function_call",
            "refusal",
            "reasoning_content",
            "reasoning",
            "audio",
            "annotations",
        }
    ),
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
    "function": frozenset({"role", "content", "name"}),
}


class Conversation:
    """The converted messages: Gemini contents, the system instruction's parts, and the call ids seen. (A plain
    slotted class: made for every request, it costs a third of a dataclass with default factories.)"""

    __slots__ = ("call_names", "contents", "legacy_pending", "pending", "system")

    def __init__(self) -> None:
        self.contents: list[dict[str, Any]] = []
        self.system: list[dict[str, Any]] = []
        self.call_names: dict[str, str] = {}  # call id → function name
        self.pending: dict[str, int] = {}  # call id → the assistant message that made it
        self.legacy_pending: list[str] = []  # names of unanswered legacy function_calls

    def add(self, role: str, parts: list[dict[str, Any]]) -> None:
        """Adjacent turns of one role are merged; empty turns are dropped."""
        add_turn(self.contents, role, parts)

    def require_answers(self) -> None:
        """Every tool call must be answered before the conversation goes on (OpenAI and Gemini both insist)."""
        if self.pending:
            first = min(self.pending.values())
            ids = ", ".join(sorted(self.pending))
            raise refuse(at(at("messages", first), "tool_calls"), f"no tool message answers the call(s) {ids}")


def convert(messages: Any) -> Conversation:
    items = FIELDS.as_list(messages, "messages")
    if not items:
        raise refuse("messages", "at least one message is required")
    conversation = Conversation()
    for index, raw in enumerate(items):
        if type(raw) is dict and len(raw) == 2:  # the commonest message: a role and a string, on a short path
            role, content = raw.get("role"), raw.get("content")
            if type(content) is str and type(role) is str and role in _PLAIN:
                _add_plain(conversation, role, content)
                continue
        path = at("messages", index)
        message = FIELDS.as_dict(raw, path)
        role = message.get("role")
        keys = ROLE_KEYS.get(role) if isinstance(role, str) else None
        if keys is None:
            raise refuse(at(path, "role"), f"expected one of {', '.join(ROLE_KEYS)}, got {role!r}")
        FIELDS.check_keys(message, keys, path)
        if role in ("system", "developer"):
            conversation.system.extend(_text_parts(message.get("content"), at(path, "content")))
        elif role == "user":
            conversation.require_answers()
            conversation.add("user", _user_parts(message.get("content"), at(path, "content")))
        elif role == "assistant":
            conversation.require_answers()
            conversation.add("model", _assistant_parts(message, path, index, conversation))
        elif role == "tool":
            conversation.add("user", [_tool_result(message, path, conversation)])
        else:
            conversation.add("user", [_function_result(message, path, conversation)])
    conversation.require_answers()
    if not conversation.contents:
        raise refuse("messages", "no user or assistant message has any content")
    return conversation


_PLAIN: Final = frozenset({"system", "developer", "user", "assistant"})


def _add_plain(conversation: Conversation, role: str, content: str) -> None:
    """`{"role": role, "content": content}` as the general reader below takes it, in fewer steps."""
    if role == "user" or role == "assistant":
        conversation.require_answers()
        if content:
            conversation.add("user" if role == "user" else "model", [{"text": content}])
    elif content:
        conversation.system.append({"text": content})


def _text_parts(content: Any, path: str) -> list[dict[str, Any]]:
    """System, developer and tool content: a string or text parts."""
    return _user_parts(content, path, kinds=("text",))


def _user_parts(
    content: Any, path: str, kinds: tuple[str, ...] = ("text", "image_url", "input_audio", "file")
) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts = []
    for i, raw in enumerate(FIELDS.as_list(content, path)):
        part_path = at(path, i)
        part = FIELDS.as_dict(raw, part_path)
        kind = part.get("type")
        if kind not in kinds:
            raise refuse(at(part_path, "type"), f"expected {' or '.join(kinds)} here, got {kind!r}")
        FIELDS.check_keys(part, ("type", kind, *PART_HINTS), part_path)
        if kind == "text":
            text = FIELDS.as_str(part.get("text"), at(part_path, "text"))
            if text:
                parts.append({"text": text})
        elif kind == "image_url":
            image = FIELDS.as_dict(part.get("image_url"), at(part_path, "image_url"))
            FIELDS.check_keys(image, ("url", "detail"), at(part_path, "image_url"))
            url_path = at(part_path, "image_url.url")
            parts.append(_media(FIELDS.as_str(image.get("url"), url_path), url_path))
        elif kind == "input_audio":
            parts.append(_audio(FIELDS.as_dict(part.get("input_audio"), at(part_path, "input_audio")), part_path))
        else:
            parts.append(_file(FIELDS.as_dict(part.get("file"), at(part_path, "file")), at(part_path, "file")))
    return parts


def _inline(url: str, path: str) -> dict[str, Any]:
    part = data_url_part(url)
    if part is None:
        raise refuse(path, "a data: URL must be data:<type>;base64,<data>")
    return part


def _media(url: str, path: str) -> dict[str, Any]:
    if url.startswith("data:"):
        return _inline(url, path)
    part = link_part(url, "image/jpeg", WEB_SCHEMES)
    if part is None:
        raise refuse(path, "expected a data: URL or an http(s) URL")
    return part


def _audio(audio: Mapping[str, Any], path: str) -> dict[str, Any]:
    FIELDS.check_keys(audio, ("data", "format"), at(path, "input_audio"))
    data = FIELDS.as_str(audio.get("data"), at(path, "input_audio.data"))
    fmt = audio.get("format")
    mime = AUDIO_FORMATS.get(fmt) if isinstance(fmt, str) else None
    if mime is None:
        raise refuse(at(path, "input_audio.format"), f"expected one of {', '.join(AUDIO_FORMATS)}, got {fmt!r}")
    return inline_part(mime, data)


def _file(file: Mapping[str, Any], path: str) -> dict[str, Any]:
    FIELDS.check_keys(file, ("file_data", "file_id", "filename"), path)
    if file.get("file_id") is not None:
        raise refuse(at(path, "file_id"), "uploaded files are not available through this proxy; send file_data")
    data = FIELDS.as_str(file.get("file_data"), at(path, "file_data"))
    if data.startswith("data:"):
        return _inline(data, at(path, "file_data"))
    filename = file.get("filename")
    return inline_part(mime_from_name(filename if isinstance(filename, str) else None, "application/pdf"), data)


def _assistant_parts(
    message: Mapping[str, Any], path: str, index: int, conversation: Conversation
) -> list[dict[str, Any]]:
    for key in ("audio",):
        if message.get(key) is not None:
            raise refuse(at(path, key), "audio replies cannot be sent back: this proxy has no audio output")
    parts: list[dict[str, Any]] = []
    reasoning = message.get("reasoning_content")
    reasoning_key = "reasoning_content"
    if reasoning is None:
        reasoning, reasoning_key = message.get("reasoning"), "reasoning"
    if reasoning is not None:
        text = FIELDS.as_str(reasoning, at(path, reasoning_key))
        if text:
            parts.append({"text": text, "thought": True})
    content = message.get("content")
    if content is not None:
        if isinstance(content, str):
            if content:
                parts.append({"text": content})
        else:
            for i, raw in enumerate(FIELDS.as_list(content, at(path, "content"))):
                parts.extend(_assistant_content_part(raw, at(at(path, "content"), i)))
    refusal = message.get("refusal")
    if refusal is not None and FIELDS.as_str(refusal, at(path, "refusal")):
        parts.append({"text": refusal})
    for i, raw in enumerate(FIELDS.as_list(message.get("tool_calls") or [], at(path, "tool_calls"))):
        parts.append(_tool_call(raw, at(at(path, "tool_calls"), i), index, conversation))
    legacy = message.get("function_call")
    if legacy is not None:
        function = FIELDS.as_dict(legacy, at(path, "function_call"))
        name, args = _function(function, at(path, "function_call"))
        conversation.legacy_pending.append(name)
        parts.append({"functionCall": {"name": name, "args": args}})
    return parts


def _assistant_content_part(raw: Any, path: str) -> list[dict[str, Any]]:
    part = FIELDS.as_dict(raw, path)
    kind = part.get("type")
    if kind not in ("text", "refusal"):
        raise refuse(at(path, "type"), f"an assistant message holds text or refusal parts, got {kind!r}")
    FIELDS.check_keys(part, ("type", kind, *PART_HINTS), path)
    text = FIELDS.as_str(part.get(kind), at(path, kind))
    return [{"text": text}] if text else []


def _function(function: Mapping[str, Any], path: str) -> tuple[str, dict[str, Any]]:
    FIELDS.check_keys(function, ("name", "arguments"), path)
    name = FIELDS.as_str(function.get("name"), at(path, "name"))
    if not name:
        raise refuse(at(path, "name"), "required")
    arguments = function.get("arguments")
    if arguments is None or arguments == "":
        return name, {}
    try:
        args = orjson.loads(FIELDS.as_str(arguments, at(path, "arguments")))
    except orjson.JSONDecodeError as error:
        raise refuse(at(path, "arguments"), f"not valid JSON ({error})") from None
    if not isinstance(args, dict):
        raise refuse(at(path, "arguments"), "must be a JSON object")
    if too_deep(args):
        raise refuse(at(path, "arguments"), nesting_message("the JSON"))
    return name, args


def _tool_call(raw: Any, path: str, index: int, conversation: Conversation) -> dict[str, Any]:
    call = FIELDS.as_dict(raw, path)
    kind = call.get("type", "function")
    if kind != "function":
        raise refuse(at(path, "type"), f"only function tool calls are supported here, got {kind!r}")
    FIELDS.check_keys(call, ("id", "type", "function"), path)
    call_id = FIELDS.as_str(call.get("id"), at(path, "id"))
    if not call_id:
        raise refuse(at(path, "id"), "required")
    if call_id in conversation.pending:
        raise refuse(at(path, "id"), f"the call id {call_id} appears twice")
    name, args = _function(FIELDS.as_dict(call.get("function"), at(path, "function")), at(path, "function"))
    conversation.call_names[call_id] = name
    conversation.pending[call_id] = index
    # The id travels as the functionCall's id: the dispatcher restores the thought signature Google gave
    # this call by it, and Gemini matches the functionResponse to it.
    return {"functionCall": {"name": name, "args": args, "id": call_id}}


def _result_value(content: Any, path: str) -> dict[str, Any]:
    text = "".join(part["text"] for part in _text_parts(content, path))
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            pass
        else:
            if not too_deep(value):  # too deep to pass on as JSON: Google gets it as the text it is
                return {"result": value}
    return {"result": text}


def _tool_result(message: Mapping[str, Any], path: str, conversation: Conversation) -> dict[str, Any]:
    call_id = FIELDS.as_str(message.get("tool_call_id"), at(path, "tool_call_id"))
    name = conversation.call_names.get(call_id)
    if name is None:
        raise refuse(at(path, "tool_call_id"), f"{call_id!r} answers no tool call of an earlier assistant message")
    if conversation.pending.pop(call_id, None) is None:
        raise refuse(at(path, "tool_call_id"), f"the call {call_id} is answered twice")
    response = _result_value(message.get("content"), at(path, "content"))
    return {"functionResponse": {"name": name, "id": call_id, "response": response}}


def _function_result(message: Mapping[str, Any], path: str, conversation: Conversation) -> dict[str, Any]:
    name = FIELDS.as_str(message.get("name"), at(path, "name"))
    if name not in conversation.legacy_pending:
        raise refuse(at(path, "name"), f"no earlier assistant function_call named {name!r} is waiting for a result")
    conversation.legacy_pending.remove(name)
    content = message.get("content")
    response = _result_value(content if content is not None else "", at(path, "content"))
    return {"functionResponse": {"name": name, "response": response}}
