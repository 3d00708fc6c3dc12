"""What chat and legacy completion replies share: the finish reason for every way a Gemini candidate ends,
token usage in OpenAI's words, the SSE framing of their streams (chunks, finish chunks, usage chunk, `[DONE]`,
the error event), and the Frontend both endpoints are built as."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

import orjson

from trayagent.errors import ProxyError, StreamBroken
from trayagent.translate.error_shapes import render_openai_error
from trayagent.translate.gemini import lone_text, parts_of
from trayagent.translate.hub import (
    EVENT_STREAM,
    SSE_KEEPALIVE,
    ClientCall,
    ClientProtocol,
    ClientTarget,
    ReplyIds,
    StreamEncoder,
    sse_event,
)
from trayagent.translate.outcome import block_reason, finish_outcome, token_counts

DONE: Final = b"data: [DONE]\n\n"


class ReplyEcho(NamedTuple):
    """What an OpenAI reply repeats or honours, decided at parse time (the ClientCall's `echo`; a NamedTuple,
    built once per request, is cheaper to make than a frozen dataclass)."""

    model: str  # the name the client asked for, never the upstream one
    n: int = 1
    include_usage: bool = False
    functions: bool = False  # the deprecated `functions` API: answer with `function_call`, one call
    single_call: bool = False  # `parallel_tool_calls: false`: at most one call per choice
    prompt: str | None = None  # legacy completions with `echo: true`: the prompt opens each choice


class Ending:
    """How one candidate went: its finish reason and whether it produced calls or anything visible."""

    __slots__ = ("called", "message", "reason", "visible")

    def __init__(self) -> None:
        self.reason: str | None = None
        self.message: str | None = None
        self.visible = False
        self.called = False

    def observe(self, candidate: Mapping[str, Any]) -> None:
        reason = candidate.get("finishReason")
        if isinstance(reason, str) and reason:
            self.reason = reason
        message = candidate.get("finishMessage")
        if isinstance(message, str) and message:
            self.message = message


def finish_reason(ending: Ending, *, blocked: str | None = None, calls_word: str = "tool_calls") -> str:
    """The OpenAI finish_reason for a candidate, or StreamBroken when it ended with nothing usable.

    `blocked` is the prompt's blockReason (Google refused the prompt itself: no candidate at all). A botched call
    or a malformed reply is an error: OpenAI answers its own "The model produced invalid content" with a 5xx, which
    the SDKs retry, and a retry is the cure, since these are stochastic (`stop` would hand the client an empty
    success; `content_filter` or `length` would send it the wrong way). Other ends without a usable reason are
    decided by what the candidate holds: calls, visible output, or nothing (an error)."""
    outcome = finish_outcome(ending.reason)
    if outcome == "filtered" or (blocked and outcome is None and not ending.visible and not ending.called):
        return "content_filter"
    if outcome in ("bad_call", "malformed"):
        detail = f": {ending.message}" if ending.message else ""
        raise StreamBroken(f"The model produced an unusable reply ({ending.reason}{detail}); try again")
    if outcome == "length":
        return "length"
    if ending.called:
        return calls_word
    if outcome == "call_limit":
        return "length"
    if ending.visible:
        return "stop"
    detail = f" ({ending.reason})" if ending.reason else ""
    raise StreamBroken(f"The model returned an empty reply{detail}; try again")


def usage(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """Gemini's usageMetadata → OpenAI usage: prompt tokens include the cached ones, completion tokens the
    thinking (as OpenAI's include reasoning)."""
    counts = token_counts(meta)
    return {
        "prompt_tokens": counts.input,
        "completion_tokens": counts.output,
        "total_tokens": counts.total,
        "prompt_tokens_details": {"cached_tokens": counts.cached},
        "completion_tokens_details": {"reasoning_tokens": counts.reasoning},
    }


_USAGE: Final = (
    b'{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d},'
    b'"completion_tokens_details":{"reasoning_tokens":%d}}'
)


def usage_json(meta: Mapping[str, Any] | None) -> bytes:
    """`usage(meta)` serialised, from a template (the last chunk of every stream carries it)."""
    counts = token_counts(meta)
    return _USAGE % (counts.input, counts.output, counts.total, counts.cached, counts.reasoning)


def candidates_by_index(reply: Mapping[str, Any], n: int) -> list[tuple[int, Mapping[str, Any]]]:
    """The candidates a reply holds, as (choice index, candidate), in index order; indexes beyond `n` dropped."""
    candidates = reply.get("candidates")
    if type(candidates) is list and len(candidates) == 1:  # the usual chunk: one plain candidate
        candidate = candidates[0]
        index = candidate.get("index", 0) if type(candidate) is dict else None
        if type(index) is int and 0 <= index < n:
            return [(index, candidate)]
    found: dict[int, Mapping[str, Any]] = {}
    for position, candidate in enumerate(candidates or ()):
        if not isinstance(candidate, dict):
            continue
        index = candidate.get("index", position)
        if isinstance(index, int) and 0 <= index < n and index not in found:
            found[index] = candidate
    return sorted(found.items())


def answered(reply: Mapping[str, Any], n: int) -> tuple[list[tuple[int, Mapping[str, Any]]], str | None]:
    """The candidates to render as choices and the prompt's block reason. A refused prompt has no candidate:
    every choice is then an empty filtered one. No candidate and no reason is the empty-reply error."""
    blocked = block_reason(reply)
    found = candidates_by_index(reply, n)
    if not found and blocked:
        found = [(index, {}) for index in range(n)]
    if not found:
        finish_reason(Ending())  # raises StreamBroken
    return found, blocked


def render_reply(
    echo: ReplyEcho,
    reply: Mapping[str, Any],
    ids: ReplyIds,
    kind: tuple[str, str],
    choice: Callable[[int, Mapping[str, Any], str | None], dict[str, Any]],
) -> dict[str, Any]:
    """A merged GenerateContentResponse → the reply object; `kind` is (id prefix, object name), `choice` makes
    one choice from (index, candidate, the prompt's block reason) and raises StreamBroken when it is unusable."""
    reply_id, created = ids.new(kind[0]), ids.now()
    found, blocked = answered(reply, echo.n)
    return {
        "id": reply_id,
        "object": kind[1],
        "created": created,
        "model": echo.model,
        "choices": [choice(index, candidate, blocked) for index, candidate in found],
        "usage": usage(reply.get("usageMetadata")),
    }


def error_event(error: ProxyError) -> bytes:
    """The event the openai SDK's Stream raises APIError on (a `data:` whose object has `error`), then
    `[DONE]` so clients reading to the end stop there too."""
    return sse_event(orjson.dumps(render_openai_error(error))) + DONE


class ReplyStream(ABC):
    """The frame of an OpenAI stream: subclasses say what a chunk's choices look like.

    The frame around a chunk's choices is the same in every chunk but the usage one, so it is serialised once
    per stream (`_frame_open` + choices + `_frame_close`), and `part_choices` gives its choices already encoded.

    A candidate that ends unusably (a malformed call, nothing at all) raises StreamBroken from `feed`, as an
    upstream failure does, and the relay answers with `fail()`. Finish reasons are sent at `finish()`; one that
    only then turns out unusable (no finishReason ever came, nothing was produced) becomes the error event."""

    object_name = "chat.completion.chunk"

    def __init__(self, echo: ReplyEcho, ids: ReplyIds, id_prefix: str) -> None:
        self.echo = echo
        self.ids = ids
        head = {"id": ids.new(id_prefix), "object": self.object_name, "created": ids.now(), "model": echo.model}
        # OpenAI sends `usage: null` on every chunk but the last when the usage chunk was asked for.
        self._frame_open = b"data: " + orjson.dumps(head)[:-1] + b',"choices":['
        self._frame_close = b'],"usage":null}\n\n' if echo.include_usage else b"]}\n\n"
        self.endings = [Ending() for _ in range(echo.n)]
        self._usage: Mapping[str, Any] | None = None
        self._blocked: str | None = None
        self._started = False
        self._closed = False
        self._pending = b""  # what a feed that raised had produced

    # -- what subclasses provide ----------------------------------------------------------------------

    def opening(self) -> list[bytes]:
        """The choices of the first chunk, each serialised as JSON (empty: no opening chunk)."""
        return []

    @abstractmethod
    def part_choices(self, index: int, part: Mapping[str, Any], ending: Ending) -> list[bytes]:
        """The choice entries one Gemini part becomes, in order (one chunk each), each serialised as JSON."""

    @abstractmethod
    def text_choice(self, index: int, text: str, ending: Ending) -> bytes:
        """The choice entry a bare, non-empty text part becomes, serialised as JSON (what `part_choices` gives
        for `{"text": text}`: the stream's commonest choice, made on a short path)."""

    @abstractmethod
    def final_choice(self, index: int, reason: str) -> bytes:
        """The choice of the last chunk, carrying the finish reason, serialised as JSON."""

    def calls_word(self) -> str:
        return "tool_calls"

    # -- the StreamEncoder protocol ----------------------------------------------------------------------

    def _open(self) -> bytes:
        self._started = True
        choices = self.opening()
        return self._frame_open + b",".join(choices) + self._frame_close if choices else b""

    def feed(self, chunk: Mapping[str, Any]) -> bytes:
        if self._closed:
            return b""
        plain = lone_text(chunk)
        if plain is not None:  # most chunks: one piece of text for choice 0 (the general path gives the same bytes)
            text, stops = plain
            opening = b"" if self._started else self._open()
            meta = chunk.get("usageMetadata")
            if isinstance(meta, dict):
                self._usage = meta
            ending = self.endings[0]
            choice = self.text_choice(0, text, ending)
            if stops:  # STOP after visible text: a usable end, nothing for finish_reason to refuse
                ending.reason = "STOP"
            return opening + self._frame_open + choice + self._frame_close
        out = [b"" if self._started else self._open()]
        meta = chunk.get("usageMetadata")
        if isinstance(meta, dict):
            self._usage = meta
        if "promptFeedback" in chunk:
            self._blocked = block_reason(chunk) or self._blocked
        frame_open, frame_close = self._frame_open, self._frame_close
        for index, candidate in candidates_by_index(chunk, self.echo.n):
            ending = self.endings[index]
            for part in parts_of(candidate):
                for choice in self.part_choices(index, part, ending):
                    out.append(frame_open + choice + frame_close)
            ending.observe(candidate)
            if ending.reason is not None:
                # The candidate is over: an unusable ending fails the stream now, so the relay ends it with
                # fail() and logs the failure; what this chunk held still goes out first, from fail().
                try:
                    finish_reason(ending, calls_word=self.calls_word())
                except StreamBroken:
                    self._pending = b"".join(out)
                    raise
        return b"".join(out)

    def finish(self) -> bytes:
        if self._closed:
            return b""
        opening = b"" if self._started else self._open()
        self._closed = True
        try:
            reasons = [
                finish_reason(ending, blocked=self._blocked, calls_word=self.calls_word()) for ending in self.endings
            ]
        except StreamBroken as error:
            return opening + error_event(error)
        frame_open, frame_close = self._frame_open, self._frame_close
        out = [opening]
        out += [frame_open + self.final_choice(index, reason) + frame_close for index, reason in enumerate(reasons)]
        if self.echo.include_usage:  # the usage chunk: no choices, the usage (the frame with `usage: null` is not it)
            out.append(b'%s],"usage":%s}\n\n' % (frame_open, usage_json(self._usage)))
        out.append(DONE)
        return b"".join(out)

    def fail(self, error: ProxyError) -> bytes:
        if self._closed:
            return b""
        self._closed = True
        return self._pending + error_event(error)

    def keepalive(self) -> bytes:
        return b"" if self._closed else SSE_KEEPALIVE


def echo_of(call: ClientCall) -> ReplyEcho:
    echo = call.echo
    if not isinstance(echo, ReplyEcho):
        raise TypeError("this ClientCall was not parsed by an OpenAI front end")
    return echo


class OpenAIFrontend:
    """An OpenAI endpoint as a Frontend, from its parser, its stream encoder and its renderer."""

    protocol: ClientProtocol = "openai"

    def __init__(
        self,
        parse: Callable[[dict[str, Any], ClientTarget], ClientCall],
        stream: Callable[[ReplyEcho, ReplyIds], ReplyStream],
        render: Callable[[ReplyEcho, Mapping[str, Any], ReplyIds], dict[str, Any]],
    ) -> None:
        self._parse = parse
        self._stream = stream
        self._render = render

    def parse(self, body: dict[str, Any], target: ClientTarget) -> ClientCall:
        return self._parse(body, target)

    def media_type(self, call: ClientCall) -> str:
        return EVENT_STREAM

    def encoder(self, call: ClientCall, ids: ReplyIds) -> StreamEncoder:
        return self._stream(echo_of(call), ids)

    def render(self, call: ClientCall, reply: Mapping[str, Any], ids: ReplyIds) -> Any:
        return self._render(echo_of(call), reply, ids)

    def render_error(self, error: ProxyError) -> dict[str, Any]:
        return render_openai_error(error)
