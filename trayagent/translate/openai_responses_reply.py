"""The Responses reply built from Gemini parts: output items (reasoning, message, function_call,
custom_tool_call), the event sequence the SDK and Codex read, and the final `response` object.

One builder serves both paths: the stream encoder feeds it chunk by chunk and sends its events; `render` feeds
it the merged reply with events off and returns the object. Thought signatures leave in reasoning items'
`encrypted_content` (reasoning_blob.py): the open reasoning item takes those that arrive before it closes; a
signature-only reasoning item goes out before the next item, or before the end, for those that come later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

import orjson

from trayagent.errors import ProxyError
from trayagent.translate import openai_responses_events as wire
from trayagent.translate import reasoning_blob
from trayagent.translate.gemini import CallIds, first_candidate, lone_text, parts_of
from trayagent.translate.hub import SSE_KEEPALIVE, ReplyIds
from trayagent.translate.openai_responses_tools import CUSTOM_INPUT, ToolName
from trayagent.translate.outcome import TokenCounts, block_reason, finish_explanation, finish_outcome, token_counts

Status = Literal["completed", "incomplete", "failed"]
_ENDED: Final = {"incomplete": b"response.incomplete", "failed": b"response.failed"}
_IMAGE_FORMATS: Final = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp", "image/gif": "gif"}
# ProxyError.kind → the ResponseError code the SDK knows; Codex retries server_error and rate_limit_exceeded
# and shows invalid_prompt at once.
_ERROR_CODES: Final = {"rate_limit": "rate_limit_exceeded", "invalid_request": "invalid_prompt"}
_CALLS: Final = frozenset({"function_call", "custom_tool_call"})
_ANSWERS: Final = _CALLS | {"message", "image_generation_call"}
Kind = Literal["reasoning", "message", "whole"]
_NOTHING: Final[Mapping[str, Any]] = MappingProxyType({})


class ResponsesEcho(NamedTuple):
    """What the reply repeats or honours: the client's model name, the upstream family (for the blob), the
    client's names of the declared tools, whether summaries were asked for, parallel calls, and the request
    settings the `response` object echoes. (A NamedTuple: made once per request, cheaper than a dataclass.)"""

    model: str
    family: str
    names: Mapping[str, ToolName] = _NOTHING
    summary: bool = False
    parallel: bool = True
    fields: Mapping[str, Any] = _NOTHING


# How the response ended: what its `response` object is made of (`ResponseStream.response`): the status, the
# error, incomplete_details, the token counts and completed_at. (A plain tuple: a NamedTuple costs as much to
# make as a dozen steps of the request path.)
_Final = tuple[Status, dict[str, Any] | None, dict[str, Any] | None, TokenCounts, int | None]


@dataclass(slots=True)
class _Open:
    """The reasoning or message item still receiving text."""

    kind: Kind  # "whole": an item that arrives complete (a call, an image) and is never left open
    index: int
    item: dict[str, Any]
    texts: list[str] = field(default_factory=list)
    part_open: bool = False
    at_json: bytes = b""  # a message's `"item_id":…,"output_index":…` serialised, for its templates


class ResponseStream:
    """Hub chunks → Responses events (when `events`) and, at the end, the `response` object in `response`."""

    # The state's immutable starting values, as class attributes: one is made for every request, and each
    # assignment in __init__ is a step on the request path. An instance's own value replaces one when set.
    _seq = 0
    _final: _Final | None = None  # how the response ended, once it has
    _response: dict[str, Any] | None = None
    _open: _Open | None = None
    _call_ids: CallIds | None = None  # made at the first call: most replies have none
    _usage: Mapping[str, Any] | None = None
    _finish: str | None = None
    _finish_message: str | None = None
    _blocked: str | None = None
    _started = False
    _ended = False
    _fields_json = b""  # `,` + the echoed request settings' JSON members, once the stream starts
    _id_json = b""  # the response's id as JSON, once the stream starts
    _model_json = b""  # the client's model name as JSON, once the stream starts

    def __init__(self, echo: ResponsesEcho, ids: ReplyIds, *, events: bool = True) -> None:
        self._echo = echo
        self._ids = ids
        self._events = events
        self._out: list[bytes] = []
        self._id = ids.new("resp_")
        self._created = ids.now()
        self.output: list[dict[str, Any]] = []
        self._done_json: list[bytes] = []  # each output item's final JSON, as output_item.done sent it
        self._pending: list[reasoning_blob.Entry] = []  # signatures no reasoning item carries yet
        self._thought_run: list[str] = []  # thought text since the last signed thought

    @property
    def response(self) -> dict[str, Any] | None:
        """The `response` object once the stream has ended (WholeReply), made when first asked for."""
        if self._response is None and self._final is not None:
            status, error, incomplete, counts, completed_at = self._final
            usage = {
                "input_tokens": counts.input,
                "input_tokens_details": {"cached_tokens": counts.cached, "cache_write_tokens": 0},
                "output_tokens": counts.output,
                "output_tokens_details": {"reasoning_tokens": counts.reasoning},
                "total_tokens": counts.total,
            }
            self._response = {**self._core(status, self.output, error, incomplete, usage), **self._echo.fields}
            if completed_at is not None:
                self._response["completed_at"] = completed_at
        return self._response

    # StreamEncoder
    def feed(self, chunk: Mapping[str, Any]) -> bytes:
        if self._ended:
            return b""
        opened = self._open
        if opened is None or opened.kind == "message":
            plain = lone_text(chunk)
            if plain is not None:  # most chunks: more text for the message (the same bytes as `_text` makes)
                text, stops = plain
                if stops:
                    self._finish, self._finish_message = "STOP", None
                usage = chunk.get("usageMetadata")
                if isinstance(usage, dict):
                    self._usage = usage
                if opened is not None:  # the message goes on: its delta alone
                    opened.texts.append(text)
                    self._seq += 1
                    return (
                        wire.TEXT_DELTA % (self._seq - 1, opened.at_json, orjson.dumps(text)) if self._events else b""
                    )
                self._start()  # the message opens (after the response starts, the first time)
                self._flush_signatures()
                opened = self._open = self._open_message()
                opened.texts.append(text)
                if self._events:
                    self._out.append(wire.TEXT_DELTA % (self._seq, opened.at_json, orjson.dumps(text)))
                self._seq += 1
                return self._take()
        if not self._started:
            self._start()
        usage = chunk.get("usageMetadata")
        if isinstance(usage, dict):
            self._usage = usage
        if "promptFeedback" in chunk:
            self._blocked = block_reason(chunk) or self._blocked
        candidate = first_candidate(chunk)  # Responses has no `n`: only the first candidate is an answer
        for part in parts_of(candidate):
            self._part(part)
        if isinstance(candidate.get("finishReason"), str):
            self._finish = candidate["finishReason"]
            message = candidate.get("finishMessage")
            self._finish_message = message if isinstance(message, str) else None
        return self._take()

    def finish(self) -> bytes:
        if self._ended:
            return b""
        self._start()
        status, error, incomplete = self._verdict()
        self._close("completed" if status == "completed" else "incomplete")
        self._flush_signatures()
        self._end(status, error, incomplete)
        return self._take()

    def fail(self, error: ProxyError) -> bytes:
        if self._ended:
            return b""
        self._start()
        code = _ERROR_CODES.get(error.kind, "server_error")
        self._emit("error", code=code, message=error.message, param=None)
        if self._open is not None:  # what had arrived stays in the failed response, marked incomplete
            self._materialize(self._open, "incomplete")
            self._open = None
        self._end("failed", {"code": code, "message": error.message}, None)
        return self._take()

    def keepalive(self) -> bytes:
        return SSE_KEEPALIVE

    # parts
    def _part(self, part: Mapping[str, Any]) -> None:
        signature = part.get("thoughtSignature")
        signed = signature if isinstance(signature, str) and signature else None
        call = part.get("functionCall")
        text = part.get("text")
        if isinstance(call, dict):
            self._call(call, signed)
        elif isinstance(text, str) and part.get("thought"):
            self._thought(text, signed)
        elif isinstance(text, str):
            self._text(text, signed)
        elif isinstance(part.get("inlineData"), Mapping):
            self._image(part["inlineData"])
        elif signed is not None:
            self._pending.append(["x", signed])

    def _thought(self, text: str, signature: str | None) -> None:
        if self._open is not None and self._open.kind == "message":
            self._close("completed")
        if self._open is None:
            item = {"id": self._ids.new("rs_"), "type": "reasoning", "summary": []}
            self._open = self._add(item, "reasoning")
        opened = self._open
        if text:
            self._thought_run.append(text)
            if self._echo.summary:
                if not opened.part_open:
                    opened.part_open = True
                    self._emit("response.reasoning_summary_part.added", **self._at(opened), summary_index=0,
                               part={"type": "summary_text", "text": ""})  # fmt: skip
                opened.texts.append(text)
                self._emit("response.reasoning_summary_text.delta", **self._at(opened), summary_index=0, delta=text)
        if signature is not None:
            self._pending.append(["t", "".join(self._thought_run), signature])
            self._thought_run.clear()

    def _text(self, text: str, signature: str | None) -> None:
        if signature is not None:
            self._pending.append(["x", signature])
        if self._open is not None and self._open.kind == "reasoning":
            self._close("completed")
        if not text:
            return
        if self._open is None:
            self._flush_signatures()
            self._open = self._open_message()
        opened = self._open
        opened.texts.append(text)
        if self._events:  # the commonest event, from a template: the bytes _emit would make of it
            self._out.append(wire.TEXT_DELTA % (self._seq, opened.at_json, orjson.dumps(text)))
        self._seq += 1

    def _open_message(self) -> _Open:
        """A message item, added, and its one output_text part, added (both events from templates)."""
        item_id, index = self._ids.new("msg_"), len(self.output)
        item = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress", "content": []}
        self.output.append(item)
        opened = _Open("message", index, item)
        opened.at_json = b'"item_id":%s,"output_index":%d' % (orjson.dumps(item_id), index)
        if self._events:
            seq = self._seq
            self._out.append(wire.MESSAGE_OPENED % (seq, index, orjson.dumps(item_id), seq + 1, opened.at_json))
        self._seq += 2
        return opened

    def _call(self, call: Mapping[str, Any], signature: str | None) -> None:
        if not self._echo.parallel and any(item["type"] in _CALLS for item in self.output):
            return  # parallel_tool_calls: false — the first call only
        if self._call_ids is None:
            self._call_ids = CallIds(self._ids)
        call_id = self._call_ids.take(call)
        if signature is not None:
            self._pending.append(["c", call_id, signature])
        self._close("completed")
        self._flush_signatures()
        name, args = call.get("name"), call.get("args")
        name = name if isinstance(name, str) else ""
        args = args if isinstance(args, Mapping) else {}
        known = self._echo.names.get(name) or ToolName(name)
        where = {"namespace": known.namespace} if known.namespace else {}
        if known.custom:
            value = _custom_input(args)
            item = {"id": self._ids.new("ctc_"), "type": "custom_tool_call", "call_id": call_id, "name": known.name}
            self._atomic({**item, **where, "input": ""}, "response.custom_tool_call_input", "input", value)
        else:
            arguments = orjson.dumps(args).decode()
            item = {"id": self._ids.new("fc_"), "type": "function_call", "call_id": call_id, "name": known.name}
            self._atomic({**item, **where, "arguments": ""}, "response.function_call_arguments", "arguments", arguments)

    def _atomic(self, item: dict[str, Any], event: str, key: str, value: str) -> None:
        """A call arrives whole from Gemini: added, one delta, done, item done."""
        if item["type"] == "function_call":
            item["status"] = "in_progress"
        opened = self._add(item, "whole")
        self._emit(f"{event}.delta", **self._at(opened), delta=value)
        self._emit(f"{event}.done", **self._at(opened), **{key: value})
        item[key] = value
        if item["type"] == "function_call":
            item["status"] = "completed"
        self._item_done(opened)

    def _image(self, data: Mapping[str, Any]) -> None:
        mime = data.get("mimeType")
        if not isinstance(mime, str) or not mime.startswith("image/") or not isinstance(data.get("data"), str):
            return  # Responses has no output item for other media
        self._close("completed")
        self._flush_signatures()
        item: dict[str, Any] = {"id": self._ids.new("ig_"), "type": "image_generation_call", "status": "completed"}
        if mime in _IMAGE_FORMATS:
            item["output_format"] = _IMAGE_FORMATS[mime]
        opened = self._add({**item, "status": "generating"}, "whole")
        opened.item.update(item, result=data["data"])
        self._item_done(opened)

    # items
    def _add(self, item: dict[str, Any], kind: Kind) -> _Open:
        index = len(self.output)
        self.output.append(item)
        self._emit("response.output_item.added", output_index=index, item=item)
        return _Open(kind, index, item)

    def _close(self, status: str) -> None:
        opened, self._open = self._open, None
        if opened is None:
            return
        if opened.kind == "reasoning" and opened.part_open:
            text = "".join(opened.texts)
            self._emit("response.reasoning_summary_text.done", **self._at(opened), summary_index=0, text=text)
            self._emit("response.reasoning_summary_part.done", **self._at(opened), summary_index=0,
                       part={"type": "summary_text", "text": text})  # fmt: skip
        elif opened.kind == "message":
            text = "".join(opened.texts)
            if self._events:  # both events from one template, the text serialised once for both
                text_json, at_json, seq = orjson.dumps(text), opened.at_json, self._seq
                self._out.append(wire.MESSAGE_TEXT_DONE % (seq, at_json, text_json, seq + 1, at_json, text_json))
            self._seq += 2
            self._materialize(opened, status, text)
            self._item_done(opened)
            return
        self._materialize(opened, status)
        self._item_done(opened)

    def _item_done(self, opened: _Open) -> None:
        """`response.output_item.done` with the item's final form (what `_emit` would send, from a template)."""
        if self._events:
            item_json = orjson.dumps(opened.item)
            self._done_json.append(item_json)
            self._out.append(wire.ITEM_DONE % (self._seq, opened.index, item_json))
        self._seq += 1

    def _materialize(self, opened: _Open, status: str, text: str | None = None) -> None:
        """The item's final form: its text joined (unless given), and (reasoning) the signatures it carries."""
        item = opened.item
        if text is None:
            text = "".join(opened.texts)
        if opened.kind == "reasoning":
            item["summary"] = [{"type": "summary_text", "text": text}] if opened.part_open else []
            if self._pending:
                item["encrypted_content"] = reasoning_blob.pack(self._echo.family, self._pending)
                self._pending = []
            self._thought_run.clear()  # an unsigned thought is not needed again
        else:
            item["content"] = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
            item["status"] = status

    def _flush_signatures(self) -> None:
        """Signatures that came after the last reasoning item closed, in a reasoning item of their own."""
        if not self._pending:
            return
        opened = self._add({"id": self._ids.new("rs_"), "type": "reasoning", "summary": []}, "reasoning")
        self._materialize(opened, "completed")
        self._item_done(opened)

    # the response
    def _verdict(self) -> tuple[Status, dict[str, Any] | None, dict[str, Any] | None]:
        outcome = finish_outcome(self._finish)
        answered = any(item["type"] in _ANSWERS for item in self.output)
        if outcome == "length":
            return "incomplete", None, {"reason": "max_output_tokens"}
        if outcome == "filtered" or (self._blocked is not None and not answered):
            return "incomplete", None, {"reason": "content_filter"}
        if outcome not in (None, "stop"):  # a botched call, a malformed reply, an end with no usable reason
            message = finish_explanation(self._finish or "OTHER", self._finish_message)
            return "failed", {"code": "server_error", "message": f"Upstream: {message}"}, None
        if outcome is None:  # Cloud Code's last chunk always has one: without it the reply was cut short
            return (
                "failed",
                {"code": "server_error", "message": "Upstream: the reply ended without a finish reason"},
                None,
            )
        if not answered:
            return "failed", {"code": "server_error", "message": "Upstream: the model returned an empty answer"}, None
        return "completed", None, None

    def _end(self, status: Status, error: dict[str, Any] | None, incomplete: dict[str, Any] | None) -> None:
        self._ended = True
        counts = token_counts(self._usage)
        completed_at = self._ids.now() if status == "completed" else None
        self._final = (status, error, incomplete, counts, completed_at)  # the dict form, made if asked for
        if not self._events:
            self._seq += 1
            return
        # The items as output_item.done sent them, unless one never got there (a failure part-way).
        done = self._done_json
        output_json = b"[" + b",".join(done) + b"]" if len(done) == len(self.output) else orjson.dumps(self.output)
        head, usage = (self._id_json, self._created), (counts.input, counts.cached, counts.output, counts.reasoning)
        tail = (*usage, counts.total, self._fields_json)
        if status == "completed":  # no error, no incomplete_details (`_verdict`): the template writes nulls
            event = wire.COMPLETED % (self._seq, *head, self._model_json, output_json, *tail, completed_at)
        else:
            name, verdict = _ENDED[status], (status.encode(), orjson.dumps(error), orjson.dumps(incomplete))
            event = wire.ENDED % (name, name, self._seq, *head, *verdict, self._model_json, output_json, *tail)
        self._out.append(event)
        self._seq += 1

    def _core(
        self,
        status: str,
        output: list[dict[str, Any]],
        error: dict[str, Any] | None = None,
        incomplete: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The `response` object's own fields (the dict `response` is made of; the stream writes the same from
        wire's templates); the echoed request settings follow them."""
        return {
            "id": self._id,
            "object": "response",
            "created_at": self._created,
            "status": status,
            "error": error,
            "incomplete_details": incomplete,
            "model": self._echo.model,
            "output": output,
            "usage": usage,
        }

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        if not self._events:
            self._seq += 2
            return
        # The echoed settings are serialised once per stream (Codex's tools make them the bulk of each response).
        fields = self._echo.fields
        fields_json = self._fields_json = b"," + orjson.dumps(fields)[1:-1] if fields else b""
        id_json = self._id_json = orjson.dumps(self._id)
        model_json = self._model_json = orjson.dumps(self._echo.model)
        response = (id_json, self._created, model_json, fields_json)
        self._out.append(wire.OPENING % (*response, *response))
        self._seq += 2

    # wire
    def _at(self, opened: _Open) -> dict[str, Any]:
        return {"item_id": opened.item["id"], "output_index": opened.index}

    def _emit(self, kind: str, **fields: Any) -> None:
        """One event: its type and sequence number, then `fields` (every event has some)."""
        if self._events:
            name = kind.encode()
            self._out.append(wire.EVENT % (name, name, self._seq, orjson.dumps(fields)[1:]))
        self._seq += 1

    def _take(self) -> bytes:
        out = b"".join(self._out)
        self._out.clear()
        return out


def _custom_input(args: Mapping[str, Any]) -> str:
    """The free text of a custom tool call (its one parameter); other shapes as their JSON, never lost."""
    value = args.get(CUSTOM_INPUT)
    if isinstance(value, str):
        return value
    strings = [item for item in args.values() if isinstance(item, str)]
    return strings[0] if len(args) == 1 and strings else orjson.dumps(args).decode()
