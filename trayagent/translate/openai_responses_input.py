"""The `input` of a Responses request as a Gemini conversation: messages, function and custom tool calls with
their outputs, and reasoning items whose blob puts the thought signatures back onto the parts they came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from trayagent.errors import BadRequest
from trayagent.translate import reasoning_blob
from trayagent.translate.fields import OPENAI_RESPONSES_FIELDS as FIELDS
from trayagent.translate.gemini import add_turn
from trayagent.translate.media import AUDIO_FORMATS, inline_part, media_part
from trayagent.translate.nesting import nesting_message, too_deep
from trayagent.translate.openai_responses_tools import CUSTOM_INPUT, gemini_name

_ROLES: Final = {"user": "user", "assistant": "model", "system": "system", "developer": "system"}
_TEXT_PARTS: Final = ("input_text", "output_text", "text")
_AUDIO_FORMATS: Final = ("mp3", "wav")  # what input_audio.format takes in the Responses API


class Conversation:
    """The input read: Gemini contents, the system instruction's parts, notes to log. (A plain slotted class: made
    for every request, it costs a third of a dataclass with default factories.)"""

    __slots__ = ("contents", "declared", "notes", "system")

    def __init__(self) -> None:
        self.contents: list[dict[str, Any]] = []
        self.system: list[dict[str, Any]] = []  # systemInstruction parts, in order
        self.notes: list[str] = []
        # The tool lists this request's `additional_tools` input items declare (Codex declares its tools there),
        # by JSON path: declared with the top-level tools (openai_responses.py). A stored turn's are not again.
        self.declared: list[tuple[str, object]] = []


def read_conversation(
    input_: object, instructions: object, family: str, history: Sequence[object] = ()
) -> Conversation:
    """`instructions`, the `history` of a stored response this one continues (its items), then `input` → contents
    and system parts. `family` is the upstream model family: a blob from another family holds signatures that
    model would refuse, so they are not replayed."""
    reader = _Reader(family)
    if instructions is not None:
        if FIELDS.as_str(instructions, "instructions"):
            reader.out.system.append({"text": instructions})
    for index, item in enumerate(history):
        reader.item(f"previous_response_id[{index}]", item)
    reader.declaring = True
    if isinstance(input_, str):
        reader.add("user", [{"text": input_}] if input_ else [])
    elif isinstance(input_, list):
        for index, item in enumerate(input_):
            if not reader.plain_message(item):
                reader.item(f"input[{index}]", item)
    else:
        raise BadRequest("input: expected a string or a list of input items")
    reader.finish()
    return reader.out


class _Reader:
    def __init__(self, family: str) -> None:
        self.out = Conversation()
        self._family = family
        self._calls: dict[str, str] = {}  # call_id → Gemini function name, for the outputs
        self._unanswered: dict[str, str] = {}  # call_id → where the call stands in input
        self._signatures: list[reasoning_blob.Entry] = []  # for the model turn being built
        self._unreplayed = 0
        self.declaring = False  # whether additional_tools items declare (this request's input, not the history)

    def add(self, role: str, parts: list[dict[str, Any]]) -> None:
        if role == "user":
            self._resolve()
        add_turn(self.out.contents, role, parts)  # adjacent same-role items make one turn

    def plain_message(self, item: Any) -> bool:
        """A message of text parts (the commonest item) read in fewer steps than `item` takes; False, having
        done nothing, for any other item."""
        try:  # by indexing: any other shape (no object, a key missing, a role no string names) raises
            role = _ROLES[item["role"]] if item.get("type", "message") == "message" else None
            content = item["content"]
        except (AttributeError, KeyError, TypeError):
            return False
        if role is None or type(content) is not list:
            return False
        parts = []
        for block in content:
            try:
                kind, text = block["type"], block["text"]
            except (KeyError, TypeError):
                return False
            if type(text) is not str or kind not in _TEXT_PARTS:
                return False
            if text:
                parts.append({"text": text})
        if role == "system":
            self.out.system.extend(parts)
        elif role == "model" or not self._signatures:  # `add` without its call when there is nothing to resolve
            add_turn(self.out.contents, role, parts)
        else:
            self.add(role, parts)
        return True

    def item(self, path: str, item: object) -> None:
        if not isinstance(item, dict):
            raise BadRequest(f"{path}: expected an input item object")
        kind = item.get("type", "message")
        if kind == "message":
            self._message(path, item)
        elif kind in ("function_call", "custom_tool_call"):
            self._call(path, item, kind == "custom_tool_call")
        elif kind in ("function_call_output", "custom_tool_call_output"):
            self._output(path, item)
        elif kind == "reasoning":
            self._reasoning(path, item)
        elif kind == "additional_tools":
            if self.declaring:
                self.out.declared.append((f"{path}.tools", item.get("tools")))
        elif kind == "item_reference":
            raise BadRequest(
                f"{path}: item_reference is not supported; continue with previous_response_id or send the items"
            )
        else:
            raise BadRequest(f"{path}: input items of type {kind!r} are not supported")

    def finish(self) -> None:
        self._resolve()
        if self._unanswered:
            call_id, path = next(iter(self._unanswered.items()))
            raise BadRequest(f"{path}: no function_call_output answers call_id {call_id!r}")
        if not self.out.contents:
            raise BadRequest("input: holds no message for the model")
        if self._unreplayed:
            self.out.notes.append(
                f"{self._unreplayed} reasoning item(s) carried no signatures for this model and were not replayed"
            )

    def _message(self, path: str, item: Mapping[str, Any]) -> None:
        given = item.get("role")
        role = _ROLES.get(given) if isinstance(given, str) else None
        if role is None:
            raise BadRequest(f"{path}.role: expected user, assistant, system or developer")
        parts = _content(f"{path}.content", item.get("content"), role)
        if role == "system":
            self.out.system.extend(parts)
        else:
            self.add(role, parts)

    def _call(self, path: str, item: Mapping[str, Any], custom: bool) -> None:
        call_id = FIELDS.non_empty(item, "call_id", path)
        name = gemini_name(FIELDS.non_empty(item, "name", path), FIELDS.optional_str(item, "namespace", path) or None)
        if custom:
            args: object = {CUSTOM_INPUT: FIELDS.string(item, "input", path)}
        else:
            arguments = FIELDS.string(item, "arguments", path)
            try:
                args = orjson.loads(arguments) if arguments.strip() else {}
            except orjson.JSONDecodeError:
                raise BadRequest(f"{path}.arguments: not valid JSON") from None
            if not isinstance(args, dict):
                raise BadRequest(f"{path}.arguments: expected a JSON object")
            if too_deep(args):
                raise BadRequest(f"{path}.arguments: {nesting_message('the JSON')}")
        self._calls[call_id] = name
        self._unanswered[call_id] = path
        self.add("model", [{"functionCall": {"name": name, "args": args, "id": call_id}}])

    def _output(self, path: str, item: Mapping[str, Any]) -> None:
        call_id = FIELDS.non_empty(item, "call_id", path)
        name = self._calls.get(call_id)
        if name is None:
            raise BadRequest(f"{path}.call_id: {call_id!r} answers no function_call before it in input")
        self._unanswered.pop(call_id, None)
        output = item.get("output")
        extra: list[dict[str, Any]] = []
        if isinstance(output, str):
            result = output
        elif isinstance(output, list):
            parts = _content(f"{path}.output", output, "user")
            result = "".join(part["text"] for part in parts if "text" in part)
            extra = [part for part in parts if "text" not in part]  # images and files ride beside the result
        else:
            raise BadRequest(f"{path}.output: expected a string or a list of content parts")
        response = {"name": name, "id": call_id, "response": {"result": result}}
        self.add("user", [{"functionResponse": response}, *extra])

    def _reasoning(self, path: str, item: Mapping[str, Any]) -> None:
        try:
            blob = reasoning_blob.unpack(item.get("encrypted_content"))
        except reasoning_blob.CorruptBlob:
            raise BadRequest(f"{path}.encrypted_content: this reasoning blob was altered") from None
        if blob is None or blob.family != self._family:
            # Another provider's reasoning, or signatures of another model family: nothing Google would take.
            self._unreplayed += 1
            return
        thoughts = []
        for entry in blob.entries:
            if entry[0] == "t":
                thoughts.append({"text": entry[1], "thought": True, "thoughtSignature": entry[2]})
            else:
                self._signatures.append(entry)
        self.add("model", thoughts)

    def _resolve(self) -> None:
        """Put the blob's call and text signatures onto the model turn that just ended."""
        if not self._signatures:
            return
        contents = self.out.contents
        if contents and contents[-1]["role"] == "model":
            parts = contents[-1]["parts"]
            for entry in self._signatures:
                _sign(parts, entry)
        self._signatures = []


def _sign(parts: list[dict[str, Any]], entry: reasoning_blob.Entry) -> None:
    if entry[0] == "c":
        for part in parts:
            call = part.get("functionCall")
            if call is not None and call.get("id") == entry[1]:
                part.setdefault("thoughtSignature", entry[2])
                return
        return
    for part in parts[::-1]:  # (not reversed(): mypyc 2.4 cannot compile it here)
        if "text" in part and not part.get("thought"):
            part.setdefault("thoughtSignature", entry[1])
            return
    parts.append({"text": "", "thoughtSignature": entry[1]})


def _content(path: str, content: object, role: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        raise BadRequest(f"{path}: expected a string or a list of content parts")
    parts = []
    for index, block in enumerate(content):
        part = _part(f"{path}[{index}]", block)
        if part is None:
            continue
        if role == "system" and "text" not in part:
            raise BadRequest(f"{path}[{index}]: system and developer messages take text only")
        parts.append(part)
    return parts


def _part(path: str, block: object) -> dict[str, Any] | None:
    if not isinstance(block, dict):
        raise BadRequest(f"{path}: expected a content part object")
    kind = block.get("type")
    if kind in _TEXT_PARTS or kind == "refusal":
        text = block.get("refusal" if kind == "refusal" else "text")
        if not isinstance(text, str):
            raise BadRequest(f"{path}.{'refusal' if kind == 'refusal' else 'text'}: expected a string")
        return {"text": text} if text else None
    if kind == "input_image":
        return _media(path, block, "image_url", "image/jpeg")
    if kind == "input_file":
        if isinstance(block.get("file_url"), str) and not block.get("file_data"):
            return _media(path, block, "file_url", "application/pdf")
        return _media(path, block, "file_data", "application/pdf")
    if kind == "input_audio":
        audio = block.get("input_audio")
        if (
            not isinstance(audio, dict)
            or not isinstance(audio.get("data"), str)
            or audio.get("format") not in _AUDIO_FORMATS
        ):
            raise BadRequest(f"{path}.input_audio: expected {{data: base64, format: mp3 or wav}}")
        return inline_part(AUDIO_FORMATS[audio["format"]], audio["data"])
    raise BadRequest(f"{path}: content parts of type {kind!r} are not supported")


def _media(path: str, block: Mapping[str, Any], key: str, default_mime: str) -> dict[str, Any]:
    if block.get("file_id") is not None:
        raise BadRequest(f"{path}.file_id: uploaded files are not served by this proxy; send the data or a URL")
    source = block.get(key)
    filename = block.get("filename")
    part = (
        media_part(source, default_mime, filename if isinstance(filename, str) else None)
        if isinstance(source, str)
        else None
    )
    if part is None:
        raise BadRequest(f"{path}.{key}: expected a base64 data URL or an http(s) URL")
    return part
