"""Gemini's GenerateContent shape, the hub every protocol goes through: merging streamed chunks into one reply,
reading its candidates, parts and call ids, repairing refused thought signatures (and turning off the thinking their
loss leaves unopened), the model lists clients read, and the Gemini-native front end (validate, pass through, frame).

Pure: dicts in, dicts and bytes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import orjson

from trayagent.errors import BadRequest, ProxyError, RouteNotFound
from trayagent.translate.error_shapes import render_gemini_error
from trayagent.translate.hub import (
    EVENT_STREAM,
    ClientCall,
    ClientProtocol,
    ClientTarget,
    HubRequest,
    Operation,
    ReplyIds,
    session_key,
)

# Gemini accepts this in place of a signature it never issued (history from another client, a restart).
SKIP_SIGNATURE: Final = "skip_thought_signature_validator"
DEFAULT_INPUT_LIMIT: Final = 1_048_576
DEFAULT_OUTPUT_LIMIT: Final = 65_536
GENERATION_METHODS: Final = ("generateContent", "streamGenerateContent", "countTokens")


def merge_chunks(chunks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Streamed chunks → the one GenerateContentResponse a non-streaming caller expects.

    Each candidate (by `index`: `candidateCount` > 1 gives several) is merged on its own. Adjacent text parts of
    the same kind (thought or not) are joined. A signature closes its run: the signed piece joins the text
    before it and the signature moves onto the joined part (Cloud Code signs the last piece of a thought), but
    nothing is ever appended after a signed part. Function calls and inline data stay as they are. The finish
    reason, usage and safety ratings are the last ones seen.
    """
    merged: dict[str, Any] = {}
    candidates: dict[int, tuple[dict[str, Any], list[dict[str, Any]], list[str]]] = {}
    for chunk in chunks:
        for key, value in chunk.items():
            if key != "candidates":
                merged[key] = value  # usageMetadata, modelVersion, responseId, promptFeedback: last wins
        for found in chunk.get("candidates") or ():
            if not isinstance(found, dict):
                continue
            index = found.get("index", 0)
            if not isinstance(index, int):
                continue
            entry = candidates.get(index)
            if entry is None:
                entry = candidates[index] = ({}, [], ["model"])
            candidate, parts, role = entry
            for key, value in found.items():
                if key != "content":
                    candidate[key] = value
            content = found.get("content")
            if isinstance(content, dict):
                role[0] = content.get("role") or role[0]
                for part in content.get("parts") or ():
                    if isinstance(part, dict):
                        _append_part(parts, part)
    if candidates:
        merged["candidates"] = [
            {**candidate, "content": {"role": role[0], "parts": parts}, "index": index}
            for index, (candidate, parts, role) in sorted(candidates.items())
        ]
    return merged


def _append_part(parts: list[dict[str, Any]], part: Mapping[str, Any]) -> None:
    text = part.get("text")
    if isinstance(text, str) and parts:
        last = parts[-1]
        joinable = isinstance(last.get("text"), str) and "thoughtSignature" not in last
        if joinable and bool(last.get("thought")) == bool(part.get("thought")) and set(part) <= _TEXT_KEYS:
            last["text"] += text
            if "thoughtSignature" in part:
                last["thoughtSignature"] = part["thoughtSignature"]
            return
    parts.append(dict(part))


_TEXT_KEYS: Final = frozenset({"text", "thought", "thoughtSignature"})


def repair_signatures(request: Mapping[str, Any], model: str) -> dict[str, Any]:
    """The request with its history made acceptable after the upstream refused its thought signatures.

    Gemini models take the skip sentinel on every signed part; Claude models behind this API refuse the
    sentinel, so their thinking parts are dropped and the other parts lose their signatures.
    """
    claude = "claude" in model
    contents = []
    for content in request.get("contents") or ():
        if not isinstance(content, dict):
            contents.append(content)
            continue
        parts = []
        for part in content.get("parts") or ():
            if not isinstance(part, dict):
                parts.append(part)
                continue
            if claude and part.get("thought"):
                continue
            if "thoughtSignature" in part or (not claude and "functionCall" in part):
                part = {key: value for key, value in part.items() if key != "thoughtSignature"}
                if not claude:
                    part["thoughtSignature"] = SKIP_SIGNATURE
            parts.append(part)
        if parts or content.get("role") != "model":
            contents.append({**content, "parts": parts})
    return {**request, "contents": contents}


def fit_thinking_to_history(request: Mapping[str, Any], model: str) -> Mapping[str, Any]:
    """The request with thinking off when a Claude model would refuse it on: with thinking on, Claude wants the
    assistant turn of the tool loop in progress (the model turn the last user turn answers) to open with its
    signed thinking ("a final `assistant` message must start with a thinking block"). That thinking is gone when
    its signature could not be vouched for (another model family's, one issued before a restart, a repair), and
    Anthropic's own advice is then to turn thinking off. Anything else is returned as it is, cheaply."""
    if "claude" not in model:
        return request
    config = request.get("generationConfig")
    contents = request.get("contents")
    if not isinstance(config, dict) or "thinkingConfig" not in config or not isinstance(contents, list):
        return request
    if len(contents) < 2 or not isinstance(contents[-1], dict) or not isinstance(contents[-2], dict):
        return request
    answers, turn = contents[-1], contents[-2]
    if answers.get("role") == "model" or turn.get("role") != "model":
        return request
    parts = [part for part in turn.get("parts") or () if isinstance(part, dict)]
    if not any("functionResponse" in part for part in answers.get("parts") or () if isinstance(part, dict)):
        return request
    if not any("functionCall" in part for part in parts):
        return request
    if parts[0].get("thought") and parts[0].get("thoughtSignature"):
        return request
    kept = {key: value for key, value in config.items() if key != "thinkingConfig"}
    return {**request, "generationConfig": kept}


def add_turn(contents: list[dict[str, Any]], role: str, parts: list[dict[str, Any]]) -> None:
    """A turn onto Gemini `contents`: adjacent turns of one role merge into one, an empty turn is dropped."""
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def first_candidate(reply: Mapping[str, Any]) -> Mapping[str, Any]:
    """Candidate 0 of a reply or chunk (the only answer when the client cannot ask for several); {} when absent."""
    for candidate in reply.get("candidates") or ():
        if isinstance(candidate, dict) and candidate.get("index", 0) == 0:
            return candidate
    return {}


_PLAIN_CANDIDATE_KEYS: Final = frozenset({"content", "index", "finishReason"})


def lone_text(chunk: Mapping[str, Any]) -> tuple[str, bool] | None:
    """(text, stops) for the commonest stream chunk, which says nothing else: one candidate (index 0) holding one
    bare non-empty text part (no thought, no signature), no prompt feedback, usage riding along or not, and no
    finish reason but STOP (`stops`: it is there; a reply's last chunk is often such a piece of text). None for
    any other chunk, which the stream encoders read the general way. (Their fast path: most of a streamed reply
    is such chunks, so the shape is read by unpacking, in as few steps as it takes.)"""
    try:
        (candidate,) = chunk["candidates"]  # exactly one
        (part,) = candidate["content"]["parts"]  # holding exactly one part
        text = part["text"]
    except (KeyError, TypeError, ValueError):  # another shape (a string or a list where an object goes: TypeError)
        return None
    # Indexed by a string, the candidate and the part are objects (the chunk is parsed JSON).
    if type(text) is not str or not text or len(part) != 1:
        return None
    if "promptFeedback" in chunk or not _PLAIN_CANDIDATE_KEYS.issuperset(candidate):
        return None
    if "index" in candidate and candidate["index"] != 0:
        return None
    if "finishReason" not in candidate:
        return text, False
    return (text, True) if candidate["finishReason"] == "STOP" else None


def parts_of(candidate: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A candidate's content parts, the well-formed (object) ones only."""
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    return [part for part in parts or () if isinstance(part, dict)]


class CallIds:
    """Function call ids for one reply: Google's own when it gives one, else `call_…`; never twice in a reply
    (the client answers each call by id, so two calls sharing one would be indistinguishable)."""

    def __init__(self, ids: ReplyIds, prefix: str = "call_") -> None:
        self._ids = ids
        self._prefix = prefix  # Anthropic's are `toolu_…`
        self._used: set[str] = set()

    def take(self, call: Mapping[str, Any]) -> str:
        given = call.get("id")
        call_id = given if isinstance(given, str) and given and given not in self._used else self._ids.new(self._prefix)
        self._used.add(call_id)
        return call_id


def conversation_key(request: Mapping[str, Any], client_session_id: str | None = None) -> str | None:
    """`session_key` for a Gemini request: from the client's own session id when it gives one, else from the first
    user text (read only then: clients that name their sessions, Codex and Claude Code, spare that walk)."""
    if client_session_id and client_session_id.strip():
        return session_key(None, client_session_id)
    return session_key(first_user_text(request))


def first_user_text(request: Mapping[str, Any]) -> str | None:
    """The text of the first user turn: what identifies a conversation for sticky sessions."""
    for content in request.get("contents") or ():
        if isinstance(content, dict) and content.get("role", "user") == "user":
            parts = content.get("parts") or ()
            texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
            if texts:
                return "".join(texts)
    return None


def gemini_model(name: str, display_name: str | None = None) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": display_name or name,
        "description": f"{name}, served by trayagent",
        "inputTokenLimit": DEFAULT_INPUT_LIMIT,
        "outputTokenLimit": DEFAULT_OUTPUT_LIMIT,
        "supportedGenerationMethods": list(GENERATION_METHODS),
    }


def gemini_model_list(names: Iterable[str]) -> dict[str, Any]:
    return {"models": [gemini_model(name) for name in names]}


def openai_model_list(names: Iterable[str], created: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": created, "owned_by": _owner(name)} for name in names],
    }


def _owner(name: str) -> str:
    if name.startswith("claude"):
        return "anthropic"
    if name.startswith("gpt"):
        return "openai"
    return "google"


# -- the Gemini-native front end -----------------------------------------------------------------------------


def split_model_method(target: str) -> tuple[str, str]:
    """`models/gemini-2.5-flash:generateContent` or `gemini-2.5-flash:generateContent` → (model, method)."""
    model, sep, method = target.rpartition(":")
    if not sep:
        raise RouteNotFound(
            f"expected /v1beta/models/{{model}}:{{method}} with method one of {', '.join(GENERATION_METHODS)}"
        )
    model = model.removeprefix("models/")
    if not model:
        raise BadRequest("the model name is missing before ':' in the path")
    if method not in GENERATION_METHODS:
        raise RouteNotFound(f"unknown method '{method}'; trayagent serves {', '.join(GENERATION_METHODS)}")
    return model, method


def count_tokens_request(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """countTokens takes `{contents…}` or `{generateContentRequest: {model, contents…}}`."""
    inner = body.get("generateContentRequest")
    if inner is None:
        return body
    if not isinstance(inner, dict):
        raise BadRequest("generateContentRequest must be an object")
    return {key: value for key, value in inner.items() if key != "model"}


def check_contents(body: Mapping[str, Any]) -> None:
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise BadRequest("contents must be a non-empty list of {role, parts} objects")
    for index, content in enumerate(contents):
        if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
            raise BadRequest(f"contents[{index}] must be an object with a list of parts")


class GeminiFrontend:
    """`POST …/models/{model}:{method}`: the body passes through unchanged (ids, sentinels, JSON schemas
    included); the reply is the upstream's chunks, as SSE with `alt=sse`, else as one JSON array."""

    protocol: ClientProtocol = "gemini"

    def parse(self, body: dict[str, Any], target: ClientTarget) -> ClientCall:
        model, method = split_model_method(target.params.get("target", ""))
        request: Mapping[str, Any] = body
        if method == "countTokens":
            request = count_tokens_request(body)
        check_contents(request)
        hub = HubRequest(model, request, session_key(first_user_text(request)))
        operation: Operation = "count_tokens" if method == "countTokens" else "generate"
        stream = method == "streamGenerateContent"
        return ClientCall(hub, operation, stream, echo=target.query.get("alt") == "sse")

    def media_type(self, call: ClientCall) -> str:
        return EVENT_STREAM if call.echo else "application/json; charset=utf-8"

    def encoder(self, call: ClientCall, ids: ReplyIds) -> GeminiEncoder:
        return GeminiEncoder(sse=bool(call.echo))

    def render(self, call: ClientCall, reply: Mapping[str, Any], ids: ReplyIds) -> Any:
        if call.operation == "count_tokens":
            return {"totalTokens": reply.get("totalTokens", 0), **reply}
        return reply

    def render_error(self, error: ProxyError) -> dict[str, Any]:
        return render_gemini_error(error)


class GeminiEncoder:
    """SSE `data:` events, or the elements of one JSON array written as they come (`[`, `,`, `]`)."""

    __slots__ = ("_opening", "_sse")

    def __init__(self, *, sse: bool) -> None:
        self._sse = sse
        self._opening = b"["

    def feed(self, chunk: Mapping[str, Any]) -> bytes:
        return self._element(orjson.dumps(chunk))

    def finish(self) -> bytes:
        if self._sse:
            return b""
        return b"]" if self._opening != b"[" else b"[]"

    def fail(self, error: ProxyError) -> bytes:
        return self._element(orjson.dumps(render_gemini_error(error))) + self.finish()

    def keepalive(self) -> bytes:
        return b""  # neither a JSON array nor google-genai's SSE reader has room for one

    def _element(self, data: bytes) -> bytes:
        if self._sse:
            return b"data: " + data + b"\r\n\r\n"
        opening, self._opening = self._opening, b",\r\n"
        return opening + data


GEMINI: Final = GeminiFrontend()
