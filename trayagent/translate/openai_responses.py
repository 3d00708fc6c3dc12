"""The OpenAI Responses API front end (`POST /v1/responses`): a request body → a Gemini request, and Gemini's
reply → the `response` object or its event stream. Codex CLI is the client it is shaped for.

The input and the tools are read by openai_responses_input.py and openai_responses_tools.py, the reply is built
by openai_responses_reply.py (its event bytes in openai_responses_events.py); this module reads the top-level
fields and assembles the call. `previous_response_id` continues a stored response: its input and output items,
found through `ClientTarget.stored`, come before the new input, and with `store` on the call asks the relay to
keep the reply with the whole conversation (`keep`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from trayagent.errors import BadRequest, ProxyError
from trayagent.translate.error_shapes import render_openai_error
from trayagent.translate.fields import OPENAI_RESPONSES_FIELDS as FIELDS
from trayagent.translate.gemini import conversation_key
from trayagent.translate.hub import (
    DROPPED_TOOLS_HEADER,
    EVENT_STREAM,
    ClientCall,
    ClientProtocol,
    ClientTarget,
    HubRequest,
    ReplyIds,
    StoredReply,
)
from trayagent.translate.openai_responses_input import read_conversation
from trayagent.translate.openai_responses_reply import ResponsesEcho, ResponseStream
from trayagent.translate.openai_responses_tools import collect_tools, function_calling
from trayagent.translate.schema import json_output
from trayagent.translate.thinking import Effort, model_family, set_output_limit, thinking_config

# Fields with a meaning here (read below).
HANDLED: Final = frozenset(
    {
        "model", "input", "instructions", "stream", "stream_options", "tools", "tool_choice", "parallel_tool_calls",
        "text", "reasoning", "max_output_tokens", "temperature", "top_p", "top_logprobs", "truncation", "metadata",
        "store", "include", "prompt_cache_key", "previous_response_id", "background", "max_tool_calls",
    }
)  # fmt: skip
# Accepted and ignored: they steer OpenAI's own service and mean nothing to Google. Nested ones too:
# text.verbosity (a length hint Gemini has no knob for), reasoning.context (we replay every reasoning item the
# client sends), a content part's `detail` and `prompt_cache_breakpoint`, stream_options.include_obfuscation.
IGNORED: Final = frozenset(
    {
        "client_metadata",  # Codex's session and turn ids (the session comes from prompt_cache_key)
        "prompt_cache_retention",
        "prompt_cache_options",
        "safety_identifier",
        "user",
        "service_tier",
    }
)
# Features that need state or services this proxy does not have: a 400 whenever they are asked for.
UNSUPPORTED: Final = {
    "conversation": "conversations are not stored here; send the whole conversation in input, or continue a stored "
    "response with previous_response_id",
    "prompt": "prompt templates live on OpenAI's side",
    "context_management": "server-side compaction is not done here",
    "moderation": "moderation is not done here",
    "image": "image context settings are not supported",
    "access_programs": "access programs are OpenAI's",
    "background_options": "background responses are not supported",
}
INCLUDABLE: Final = frozenset(
    {
        "reasoning.encrypted_content",  # always given: the reasoning blob carries the thought signatures
        # About items of hosted tools, which are dropped here: there is never anything to include.
        "file_search_call.results",
        "web_search_call.results",
        "web_search_call.action.sources",
        "message.input_image.image_url",
        "computer_call_output.output.image_url",
        "code_interpreter_call.outputs",
    }
)
# reasoning.effort → thinking.py's effort; xhigh sits between high and max, and max is the model's top budget.
EFFORTS: Final[Mapping[str, Effort]] = {
    "none": "none", "minimal": "minimal", "low": "low", "medium": "medium", "high": "high", "xhigh": "high",
    "max": "max",
}  # fmt: skip
SUMMARIES: Final = frozenset({"auto", "concise", "detailed"})


class ResponsesFrontend:
    protocol: ClientProtocol = "openai"

    def parse(self, body: dict[str, Any], target: ClientTarget) -> ClientCall:
        _check_fields(body)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise BadRequest("model: required")
        upstream = target.upstream_model(model)
        family = model_family(upstream)
        stream = FIELDS.flag(body, "stream", False)
        store = FIELDS.flag(body, "store", True)
        _check_stateless(body)
        previous_id = FIELDS.optional_str(body, "previous_response_id")
        history = _history(previous_id, target) if previous_id is not None else ()

        items = body.get("input")
        conversation = read_conversation(items, body.get("instructions"), family, history)
        listed = body.get("tools")
        groups = [("tools", listed), *conversation.declared] if listed is not None else conversation.declared
        tools = collect_tools(groups, upstream)
        tool_config, declarations = function_calling(body.get("tool_choice"), tools)

        effort, summary = _reasoning(body.get("reasoning"))
        generation = _generation(body, upstream, effort, summary is not None, family == "claude")
        text_format, verbosity = _text(body.get("text"), generation)

        request: dict[str, Any] = {"contents": conversation.contents}
        if conversation.system:
            request["systemInstruction"] = {"parts": conversation.system}
        if declarations:
            request["tools"] = [{"functionDeclarations": declarations}]
        if tool_config is not None:
            request["toolConfig"] = tool_config
        if generation:
            request["generationConfig"] = generation

        parallel = FIELDS.flag(body, "parallel_tool_calls", True)
        fields = _echoed(body, store, parallel, effort, summary, text_format, verbosity, previous_id)
        # Positional: made for every request, and a NamedTuple given keywords costs twice as much.
        echo = ResponsesEcho(model, family, tools.names, summary is not None, parallel, fields)
        client_session = FIELDS.optional_str(body, "prompt_cache_key") or target.headers.get("session-id")
        notes = [*tools.notes, *conversation.notes]
        headers = {}
        if tools.dropped:
            headers[DROPPED_TOOLS_HEADER] = ",".join(tools.dropped)
            notes.append("hosted tools with no Google counterpart were dropped: " + ", ".join(tools.dropped))
        if body.get("truncation") == "auto":
            notes.append("truncation auto: an input over the context window is not trimmed here")
        return ClientCall(
            hub=HubRequest(model, request, conversation_key(request, client_session)),
            stream=stream,
            echo=echo,
            headers=headers,
            notes=tuple(notes),
            keep=(*history, *_items(items)) if store else None,
        )

    def media_type(self, call: ClientCall) -> str:
        return EVENT_STREAM

    def encoder(self, call: ClientCall, ids: ReplyIds) -> ResponseStream:
        return ResponseStream(call.echo, ids)

    def render(self, call: ClientCall, reply: Mapping[str, Any], ids: ReplyIds) -> Any:
        builder = ResponseStream(call.echo, ids, events=False)
        builder.feed(reply)
        builder.finish()
        return builder.response

    def render_error(self, error: ProxyError) -> dict[str, Any]:
        return render_openai_error(error)


RESPONSES: Final = ResponsesFrontend()


_KNOWN: Final = HANDLED | IGNORED


def _check_fields(body: Mapping[str, Any]) -> None:
    if _KNOWN.issuperset(body):
        return  # the usual body: one set operation
    for key, value in body.items():
        if key in _KNOWN or value is None:
            continue
        if key in UNSUPPORTED:
            raise BadRequest(f"{key}: {UNSUPPORTED[key]}")
        raise BadRequest(f"{key}: unsupported field")


def _history(previous_id: str, target: ClientTarget) -> tuple[Any, ...]:
    """The conversation a stored response continues: its input items (earlier turns included), then its output.
    Instructions are not carried over (as at OpenAI): each request gives its own."""
    stored: StoredReply | None = target.stored(previous_id)
    if stored is None:
        raise BadRequest(
            f"previous_response_id: no response {previous_id!r} is stored here; the id is unknown or expired. This "
            "proxy keeps responses in memory only: for a limited time, until it restarts, and never those made "
            "with store: false. Send the whole conversation in input instead",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    output = stored.reply.get("output") or ()
    # A generated image has no input item to replay it as: the turn goes on without it.
    return (*stored.conversation, *(item for item in output if item.get("type") != "image_generation_call"))


def _items(input_: object) -> tuple[Any, ...]:
    """This request's input as the items a stored conversation holds (a string is one user message)."""
    if isinstance(input_, str):
        message = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": input_}]}
        return (message,) if input_ else ()
    return tuple(input_) if isinstance(input_, list) else ()


_STATEFUL: Final = frozenset({"background", "top_logprobs", "stream_options", "include"})


def _check_stateless(body: Mapping[str, Any]) -> None:
    """The fields that would need OpenAI's services, or data Google cannot give."""
    if _STATEFUL.isdisjoint(body):
        return  # most requests carry none of them
    if FIELDS.flag(body, "background", False):
        raise BadRequest("background: background responses are not supported; stream instead")
    if body.get("top_logprobs") not in (None, 0):
        raise BadRequest("top_logprobs: log probabilities are not available")
    FIELDS.optional_dict(body, "stream_options")
    include = body.get("include") or []
    if not isinstance(include, list) or not all(isinstance(value, str) for value in include):
        raise BadRequest("include: expected a list of strings")
    for value in include:
        if value == "message.output_text.logprobs":
            raise BadRequest("include: message.output_text.logprobs: log probabilities are not available")
        if value not in INCLUDABLE:
            raise BadRequest(f"include: {value!r} is not supported")


def _reasoning(reasoning: object) -> tuple[str | None, str | None]:
    """`reasoning` → (effort, summary) as the client gave them, checked."""
    if reasoning is None:
        return None, None
    reasoning = FIELDS.as_dict(reasoning, "reasoning")
    FIELDS.check_keys(reasoning, ("effort", "summary", "generate_summary", "context"), "reasoning")
    effort = reasoning.get("effort")
    if effort is not None and (not isinstance(effort, str) or effort not in EFFORTS):
        raise BadRequest(f"reasoning.effort: expected one of {', '.join(sorted(EFFORTS))}")
    summary = reasoning.get("summary", reasoning.get("generate_summary"))
    if summary is not None and (not isinstance(summary, str) or summary not in SUMMARIES):
        raise BadRequest("reasoning.summary: expected auto, concise or detailed")
    if reasoning.get("context") not in (None, "auto", "current_turn", "all_turns"):
        raise BadRequest("reasoning.context: expected auto, current_turn or all_turns")
    return effort, summary


def _generation(
    body: Mapping[str, Any], upstream: str, effort: str | None, summary: bool, claude: bool
) -> dict[str, Any]:
    generation: dict[str, Any] = {}
    temperature = FIELDS.number(body, "temperature", 0.0, 2.0)
    if temperature is not None:
        generation["temperature"] = temperature
    top_p = FIELDS.number(body, "top_p", 0.0, 1.0)
    if top_p is not None:
        generation["topP"] = top_p
    requested = FIELDS.positive(body, "max_output_tokens")
    # A summary needs the thoughts; asked without an effort, the model thinks as much as it likes (budget -1).
    # Claude's thoughts always come back: its signed thinking must be replayed whole on the next turn.
    thinking = thinking_config(
        upstream,
        effort=EFFORTS[effort] if effort is not None else None,
        budget=-1 if summary and effort is None else None,
        include_thoughts=summary or claude,
        output_cap=requested,  # max_output_tokens counts the reasoning too, as at OpenAI
    )
    set_output_limit(generation, upstream, requested, thinking)
    if thinking:
        generation["thinkingConfig"] = thinking
    if body.get("truncation") not in (None, "auto", "disabled"):
        raise BadRequest("truncation: expected auto or disabled")
    return generation


def _text(text: object, generation: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """`text.format` → the response MIME type and schema; (the format, the verbosity) as the response echoes."""
    if text is None:
        return {"type": "text"}, "medium"
    text = FIELDS.as_dict(text, "text")
    FIELDS.check_keys(text, ("format", "verbosity"), "text")
    verbosity = text.get("verbosity") or "medium"
    if verbosity not in ("low", "medium", "high"):
        raise BadRequest("text.verbosity: expected low, medium or high")
    format_ = text.get("format") or {"type": "text"}
    kind = format_.get("type") if isinstance(format_, dict) else None
    if kind == "json_schema":
        schema, name = format_.get("schema"), format_.get("name")
        if not isinstance(name, str) or not name:
            raise BadRequest("text.format.name: required")
        if not isinstance(schema, dict):
            raise BadRequest("text.format.schema: expected a JSON Schema object")
        description = format_.get("description")
        generation.update(json_output(schema, description if isinstance(description, str) else None))
    elif kind == "json_object":
        generation["responseMimeType"] = "application/json"
    elif kind != "text":
        raise BadRequest("text.format.type: expected text, json_object or json_schema")
    return format_, verbosity


def _echoed(
    body: Mapping[str, Any],
    store: bool,
    parallel: bool,
    effort: str | None,
    summary: str | None,
    text_format: dict[str, Any],
    verbosity: str,
    previous_id: str | None,
) -> dict[str, Any]:
    """The request settings a `response` object repeats, as the client gave them."""
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("metadata: expected an object of strings")
    return {
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "metadata": metadata or {},
        "parallel_tool_calls": parallel,
        "previous_response_id": previous_id,
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": effort, "summary": summary},
        "store": store,
        "temperature": body.get("temperature"),
        "text": {"format": text_format, "verbosity": verbosity},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p"),
        "truncation": body.get("truncation") or "disabled",
    }
