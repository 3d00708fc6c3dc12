"""Anthropic message content → Gemini contents: blocks become parts, each tool call is paired with its result,
same-role turns are merged, and `role: "system"` messages join the system instruction.

Pure: dicts in, dicts out; a block the hub cannot carry is a BadRequest naming its path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from trayagent.errors import BadRequest
from trayagent.translate.fields import ANTHROPIC_FIELDS as FIELDS
from trayagent.translate.gemini import add_turn
from trayagent.translate.media import file_part, inline_part, mime_from_name

# Gemini function names: a letter or underscore first, then letters, digits, `_.:-`; Cloud Code keeps the
# older 64-character bound. Anthropic names may start with a digit or a dash and run to 128 characters.
_GEMINI_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
_UNSAFE_CHARS: Final = re.compile(r"[^A-Za-z0-9_.:-]")
# Blocks produced by Anthropic's own server tools (web search, code execution…): nothing Google can replay.
SERVER_TOOL_BLOCKS: Final = frozenset(
    {
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "mcp_tool_use",
        "mcp_tool_result",
        "container_upload",
    }
)
MISSING_RESULT: Final = "No result was sent back for this tool call."
# Claude Code puts `output_config` on its system message; a message has no other meaningful key.
MESSAGE_KEYS: Final = frozenset({"role", "content"})

Part = dict[str, Any]


def gemini_name(name: str) -> str:
    """The function name Google accepts for an Anthropic tool name: the same name whenever it is valid, else a
    deterministic safe form (so the same tool maps the same way on every turn)."""
    if _GEMINI_NAME.fullmatch(name):
        return name
    safe = _UNSAFE_CHARS.sub("_", name)
    if not safe[:1].isalpha() and safe[:1] != "_":
        safe = "_" + safe
    if len(safe) > 64:
        safe = safe[:55] + "_" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return safe


class History:
    """Walks `messages` once: system texts, the Gemini turns, the names the reply must map back, and notes."""

    def __init__(self) -> None:
        self.system: list[Part] = []
        self.turns: list[dict[str, Any]] = []  # merged as they come: no empty turn, no two of one role in a row
        self.names: dict[str, str] = {}  # Gemini function name → the client's tool name
        self.notes: set[str] = set()
        self._calls: dict[str, str] = {}  # tool_use id → Gemini function name
        self.signed = False  # some thinking block carries a signature (the only parts here that can)

    def add_messages(self, messages: list[Any]) -> None:
        """`messages`, each read by the fast path when it can be, else by add_message."""
        for i, message in enumerate(messages):
            if not self._add_plain(message):
                self.add_message(message, f"messages.{i}")

    def _add_plain(self, message: Any) -> bool:
        """The shapes nearly every turn has, read without building field paths: a user or assistant message of
        a string or of text blocks only. False (nothing done): anything else, which add_message reads and words
        the errors of. The turn is the one add_message would add."""
        if type(message) is not dict or len(message) != 2:  # with a valid role and content: those two keys only
            return False
        role = message.get("role")
        if role != "user" and role != "assistant":
            return False
        content = message.get("content")
        if type(content) is str:
            parts = [{"text": content}] if content else []
        else:
            texts = _plain_texts(content)
            if texts is None:
                return False
            parts = [{"text": text} for text in texts if text]
        add_turn(self.turns, "user" if role == "user" else "model", parts)
        return True

    def add_system(self, content: Any, path: str) -> None:
        if isinstance(content, str):
            if content:
                self.system.append({"text": content})
            return
        texts = _plain_texts(content)
        if texts is not None:  # text blocks only, all well formed: what the loop below would keep
            self.system += [{"text": text} for text in texts if text]
            return
        for i, block in enumerate(_blocks(content, path)):
            where = f"{path}.{i}"
            if block.get("type") != "text":
                raise BadRequest(f"{where}.type: system content holds text blocks only")
            text = FIELDS.string(block, "text", where)
            if text:
                self.system.append({"text": text})

    def add_message(self, message: Any, path: str) -> None:
        message = FIELDS.as_dict(message, path)
        role = message.get("role")
        content = message.get("content")
        extra = sorted(key for key in message if key not in MESSAGE_KEYS)
        if extra:
            self.notes.add("ignored message fields: " + ", ".join(extra))
        if role == "system":
            self.add_system(content, f"{path}.content")
            return
        if role not in ("user", "assistant"):
            raise BadRequest(f"{path}.role: expected 'user', 'assistant' or 'system', got {role!r}")
        parts: list[Part] = []
        if isinstance(content, str):
            if content:
                parts.append({"text": content})
        else:
            for i, block in enumerate(_blocks(content, f"{path}.content")):
                parts.extend(self._block(block, role, f"{path}.content.{i}"))
        add_turn(self.turns, "user" if role == "user" else "model", parts)

    def contents(self) -> list[dict[str, Any]]:
        """The turns, every function call answered."""
        return self._answer_calls(self.turns) if self._calls else self.turns  # no tool_use, no call to answer

    def _answer_calls(self, turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Google refuses a history where a model turn's function calls are not all answered by the next turn.
        # The answers go first, in the calls' order; a missing one becomes an error result.
        i = 0
        while i < len(turns):
            calls = [p["functionCall"] for p in turns[i]["parts"] if "functionCall" in p]
            if turns[i]["role"] == "model" and calls:
                if i + 1 == len(turns):
                    turns.append({"role": "user", "parts": []})
                following = turns[i + 1]
                answers = {p["functionResponse"]["id"]: p for p in following["parts"] if "functionResponse" in p}
                ordered = []
                for call in calls:
                    answer = answers.pop(call["id"], None)
                    if answer is None:
                        self.notes.add("tool calls without a result were answered with an error result")
                        response = {"error": MISSING_RESULT}
                        answer = {"functionResponse": {"name": call["name"], "id": call["id"], "response": response}}
                    ordered.append(answer)
                kept = {id(p) for p in answers.values()}  # answers to calls of an earlier turn stay where they are
                rest = [p for p in following["parts"] if "functionResponse" not in p or id(p) in kept]
                following["parts"] = ordered + rest
            i += 1
        return turns

    def _block(self, block: Mapping[str, Any], role: str, path: str) -> list[Part]:
        kind = block.get("type")
        if kind == "text":
            text = FIELDS.string(block, "text", path)
            return [{"text": text}] if text else []
        if kind == "image":
            return [image_part(block.get("source"), f"{path}.source")]
        if kind == "document":
            return document_parts(block, path)
        if kind == "search_result":
            return [{"text": _search_result_text(block, path)}]
        if kind == "tool_use":
            if role != "assistant":
                raise BadRequest(f"{path}.type: tool_use blocks belong to assistant messages")
            return [self._tool_use(block, path)]
        if kind == "tool_result":
            if role != "user":
                raise BadRequest(f"{path}.type: tool_result blocks belong to user messages")
            return self._tool_result(block, path)
        if kind == "thinking":
            if role != "assistant":
                raise BadRequest(f"{path}.type: thinking blocks belong to assistant messages")
            parts = _thinking_part(block, path)
            if parts and "thoughtSignature" in parts[0]:
                self.signed = True
            return parts
        if kind == "redacted_thinking":
            # Encrypted by Anthropic for Anthropic: no Google model can read it, and we never issue one.
            self.notes.add("redacted_thinking blocks were dropped")
            return []
        if kind in SERVER_TOOL_BLOCKS:
            self.notes.add(f"{kind} blocks were dropped (Anthropic server tools have no Google counterpart)")
            return []
        raise BadRequest(f"{path}.type: unknown content block type {kind!r}")

    def _tool_use(self, block: Mapping[str, Any], path: str) -> Part:
        call_id = FIELDS.non_empty(block, "id", path)
        name = FIELDS.non_empty(block, "name", path)
        args = FIELDS.as_dict(block.get("input", {}), f"{path}.input")
        function = gemini_name(name)
        self.names[function] = name
        self._calls[call_id] = function
        return {"functionCall": {"name": function, "args": args, "id": call_id}}

    def _tool_result(self, block: Mapping[str, Any], path: str) -> list[Part]:
        call_id = FIELDS.non_empty(block, "tool_use_id", path)
        is_error = FIELDS.as_bool(block.get("is_error", False), f"{path}.is_error")
        content = block.get("content")
        texts, media = self._result_content("" if content is None else content, f"{path}.content")
        output = "\n".join(texts)
        name = self._calls.get(call_id)
        if name is None:
            # No tool_use before it (a trimmed history): Google cannot pair it, but the model can still read it.
            self.notes.add("a tool_result without its tool_use was sent as text")
            return [{"text": f"[result of tool call {call_id}]\n{output}"}, *media]
        response = {"error" if is_error else "output": output}
        return [{"functionResponse": {"name": name, "id": call_id, "response": response}}, *media]

    def _result_content(self, content: Any, path: str) -> tuple[list[str], list[Part]]:
        if isinstance(content, str):
            return [content], []
        texts: list[str] = []
        media: list[Part] = []
        for i, block in enumerate(_blocks(content, path)):
            where = f"{path}.{i}"
            kind = block.get("type")
            if kind == "text":
                texts.append(FIELDS.string(block, "text", where))
            elif kind == "image":
                media.append(image_part(block.get("source"), f"{where}.source"))
            elif kind == "document":
                media.extend(document_parts(block, where))
            elif kind == "search_result":
                texts.append(_search_result_text(block, where))
            elif kind == "tool_reference":
                # ToolSearch's answer: the tool is now loaded. Every tool is declared up front here.
                tool = block.get("tool_name")
                texts.append(f"Tool {tool} is available." if isinstance(tool, str) else "")
            else:
                raise BadRequest(f"{where}.type: a tool_result cannot hold {kind!r} blocks")
        return texts, media


def image_part(source: Any, path: str) -> Part:
    source = FIELDS.as_dict(source, path)
    kind = source.get("type")
    if kind == "base64":
        return inline_part(FIELDS.string(source, "media_type", path), FIELDS.string(source, "data", path))
    if kind == "url":
        # Google needs a MIME type with a file URI; the URL's extension is all a pure translator can see.
        url = FIELDS.string(source, "url", path)
        return file_part(url, mime_from_name(url, "image/jpeg", kind="image/"))
    if kind == "file":
        raise BadRequest(f"{path}.type: Anthropic Files API ids cannot be read here; send base64 data or a URL")
    raise BadRequest(f"{path}.type: expected 'base64' or 'url', got {kind!r}")


def document_parts(block: Mapping[str, Any], path: str) -> list[Part]:
    where = f"{path}.source"
    source = FIELDS.as_dict(block.get("source"), where)
    parts: list[Part] = []
    heading = "\n".join(v for v in (block.get("title"), block.get("context")) if isinstance(v, str) and v)
    if heading:
        parts.append({"text": heading})
    kind = source.get("type")
    if kind == "base64":
        media_type = FIELDS.string(source, "media_type", where, "application/pdf")
        parts.append(inline_part(media_type, FIELDS.string(source, "data", where)))
    elif kind == "text":
        text = FIELDS.string(source, "data", where)
        if text:
            parts.append({"text": text})
    elif kind == "url":
        parts.append(file_part(FIELDS.string(source, "url", where), "application/pdf"))
    elif kind == "content":
        content = source.get("content")
        if isinstance(content, str):
            parts.append({"text": content})
        else:
            for i, inner in enumerate(_blocks(content, f"{where}.content")):
                at = f"{where}.content.{i}"
                if inner.get("type") == "text":
                    parts.append({"text": FIELDS.string(inner, "text", at)})
                elif inner.get("type") == "image":
                    parts.append(image_part(inner.get("source"), f"{at}.source"))
                else:
                    raise BadRequest(f"{at}.type: document content holds text and image blocks only")
    elif kind == "file":
        raise BadRequest(f"{where}.type: Anthropic Files API ids cannot be read here; send base64 data or a URL")
    else:
        raise BadRequest(f"{where}.type: expected 'base64', 'text', 'url' or 'content', got {kind!r}")
    return [part for part in parts if part.get("text") != ""]


def _thinking_part(block: Mapping[str, Any], path: str) -> list[Part]:
    thinking = FIELDS.string(block, "thinking", path, "")
    signature = FIELDS.string(block, "signature", path, "")
    if signature:
        # Copied as sent; whether this family issued it is the dispatcher's call (it drops foreign ones).
        return [{"text": thinking, "thought": True, "thoughtSignature": signature}]
    return [{"text": thinking, "thought": True}] if thinking else []


def _search_result_text(block: Mapping[str, Any], path: str) -> str:
    lines = [v for v in (block.get("title"), block.get("source")) if isinstance(v, str) and v]
    for i, inner in enumerate(_blocks(block.get("content"), f"{path}.content")):
        lines.append(FIELDS.string(inner, "text", f"{path}.content.{i}"))
    return "\n".join(lines)


def _plain_texts(content: Any) -> list[str] | None:
    """The texts of a list of well-formed text blocks (their other keys, such as cache_control, unread); None
    when `content` is anything else."""
    if type(content) is not list:
        return None
    texts: list[str] = []
    for block in content:
        if type(block) is not dict or block.get("type") != "text":
            return None
        text = block.get("text")
        if type(text) is not str:
            return None
        texts.append(text)
    return texts


def _blocks(content: Any, path: str) -> Sequence[Mapping[str, Any]]:
    if not isinstance(content, list):
        raise BadRequest(f"{path}: expected a string or a list of content blocks")
    for i, block in enumerate(content):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise BadRequest(f"{path}.{i}: expected a content block with a 'type'")
    return content


def estimate_tokens(request: Mapping[str, Any]) -> int:
    """A rough count for when Google cannot count: about four characters a token, an image or a file as 258
    tokens (Google's own figure for an image). Errs high, never 0: undercounting breaks auto-compaction."""
    chars = 0
    for key, value in request.items():
        if key != "contents":
            chars += len(orjson.dumps(value))
    for turn in request.get("contents") or ():
        for part in turn.get("parts") or ():
            if "inlineData" in part or "fileData" in part:
                chars += 258 * 4
            elif isinstance(part.get("text"), str) and len(part) == 1:
                chars += len(part["text"])
            else:
                chars += len(orjson.dumps(part))
    return max(1, -(-chars // 4))
