"""An OpenAI chat completions body → a ClientCall: the accepted fields, tools and tool_choice,
response_format, reasoning_effort and the sampling fields as one Gemini GenerateContentRequest.

Every field either means here what it means at OpenAI, or the request gets a 400 naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

from trayagent.translate.fields import OPENAI_CHAT_FIELDS as FIELDS
from trayagent.translate.fields import at, refuse
from trayagent.translate.gemini import first_user_text
from trayagent.translate.hub import ClientCall, ClientTarget
from trayagent.translate.openai_generation import Neutral, client_call, limit_output, read_common
from trayagent.translate.openai_messages import convert
from trayagent.translate.openai_reply import ReplyEcho
from trayagent.translate.schema import clean_tool_parameters, json_output
from trayagent.translate.thinking import Effort, model_family, thinking_config

# Fields translated into the Gemini request (or into how the reply is shaped).
MAPPED_FIELDS: Final = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "temperature",
        "top_p",
        "top_k",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "n",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "functions",
        "function_call",
        "response_format",
        "reasoning_effort",
        "prompt_cache_key",  # the conversation's sticky-session key
    }
)
# Fields real clients send that have no meaning upstream and change nothing in the answer: accepted, not sent.
IGNORED_FIELDS: Final[Mapping[str, str]] = {
    "user": "an end-user id for OpenAI's abuse monitoring",
    "safety_identifier": "an end-user id for OpenAI's abuse monitoring",
    "metadata": "tags for OpenAI's dashboard",
    "store": "OpenAI-side storage for evals and distillation; nothing is stored here",
    "service_tier": "OpenAI's billing and latency tier",
    "prompt_cache_retention": "Gemini caches shared prefixes by itself",
    "prompt_cache_options": "Gemini caches shared prefixes by itself",
    "prediction": "a latency hint; the answer is the same without it",
}
# Fields accepted only at the value that asks for nothing; any other value is a 400 naming the field.
NEUTRAL_VALUES: Final[Neutral] = {
    "logprobs": ((False,), "token log-probabilities are not available from Google's backend here; leave it out"),
    "top_logprobs": ((0,), "token log-probabilities are not available from Google's backend here; leave it out"),
    "logit_bias": (({},), "Gemini has no logit bias"),
    "modalities": ((["text"],), "only text output is available (no audio)"),
    "audio": ((), "audio output is not available"),
    "verbosity": (("medium",), "Gemini has no verbosity setting; leave it at medium or remove it"),
    "web_search_options": ((), "web search is not available through this proxy"),
    "moderation": ((), "OpenAI's moderation is not available through this proxy"),
}
ACCEPTED_FIELDS: Final = MAPPED_FIELDS.union(IGNORED_FIELDS, NEUTRAL_VALUES)  # a frozenset, as its type says

# OpenAI's efforts → the shared thinking settings' (which stop at "max"; xhigh sits above high).
REASONING_EFFORTS: Final[Mapping[str, Effort]] = {
    "none": "none",
    "minimal": "minimal",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "max",
    "max": "max",
}
_CHOICE_MODES: Final = {"none": "NONE", "auto": "AUTO", "required": "ANY"}


def parse_chat(body: dict[str, Any], target: ClientTarget) -> ClientCall:
    common = read_common(body, ACCEPTED_FIELDS, NEUTRAL_VALUES, "chat completions")
    upstream = target.upstream_model(common.model)
    conversation = convert(body.get("messages"))
    request: dict[str, Any] = {"contents": conversation.contents}
    if conversation.system:
        request["systemInstruction"] = {"parts": conversation.system}
    declarations, functions = _declarations(body, upstream)
    if declarations:
        request["tools"] = [{"functionDeclarations": declarations}]
    tool_config = _tool_config(body, declarations, functions)
    if tool_config is not None:
        request["toolConfig"] = tool_config
    effort = _effort(body)
    max_completion = FIELDS.positive(body, "max_completion_tokens")
    requested = max_completion if max_completion is not None else FIELDS.positive(body, "max_tokens")
    thinking = limit_output(common.config, upstream, requested, effort=effort)
    if effort is None:
        thinking = visible_thoughts(upstream)
    _response_format(body.get("response_format"), common.config)
    echo = ReplyEcho(
        model=common.model,
        n=common.n,
        include_usage=common.include_usage,
        functions=functions,
        single_call=not FIELDS.flag(body, "parallel_tool_calls", True),
    )
    return client_call(common, request, thinking, echo, first_user_text(request), body, target)


def _effort(body: Mapping[str, Any]) -> Effort | None:
    effort = body.get("reasoning_effort")
    if effort is None:
        return None
    if not isinstance(effort, str) or effort not in REASONING_EFFORTS:
        raise refuse("reasoning_effort", f"expected one of {', '.join(REASONING_EFFORTS)}, got {effort!r}")
    return REASONING_EFFORTS[effort]


def visible_thoughts(upstream: str) -> dict[str, Any] | None:
    """No effort asked: Gemini 2.5 and 3 think at their own default anyway, so ask only to see the thoughts
    (`reasoning_content`). Claude models think only when given a budget: nothing is sent for them."""
    return {"includeThoughts": True} if _thinks_by_default(upstream) else None


@lru_cache(maxsize=512)
def _thinks_by_default(upstream: str) -> bool:
    return model_family(upstream) in ("gemini-2.5", "gemini-3") and thinking_config(upstream, budget=-1) is not None


def _declaration(function: Mapping[str, Any], path: str, upstream: str) -> dict[str, Any]:
    # `strict` asks for arguments that follow the schema; Gemini decodes calls against the declared schema.
    FIELDS.check_keys(function, ("name", "description", "parameters", "strict"), path)
    name = FIELDS.as_str(function.get("name"), at(path, "name"))
    if not name:
        raise refuse(at(path, "name"), "required")
    declaration: dict[str, Any] = {"name": name}
    description = function.get("description")
    if description is not None and FIELDS.as_str(description, at(path, "description")):
        declaration["description"] = description
    parameters = function.get("parameters")
    if parameters is not None:
        FIELDS.as_dict(parameters, at(path, "parameters"))
    cleaned = clean_tool_parameters(parameters, upstream_model=upstream)
    if cleaned is not None:
        declaration["parameters"] = cleaned
    FIELDS.flag(function, "strict", False)
    return declaration


def _declarations(body: Mapping[str, Any], upstream: str) -> tuple[list[dict[str, Any]], bool]:
    """The function declarations, and whether they came through the deprecated `functions` field."""
    tools, functions = body.get("tools"), body.get("functions")
    if tools is not None and functions is not None:
        raise refuse("functions", "send tools or the deprecated functions, not both")
    declarations: list[dict[str, Any]] = []
    if functions is not None:
        for i, raw in enumerate(FIELDS.as_list(functions, "functions")):
            declarations.append(_declaration(FIELDS.as_dict(raw, at("functions", i)), at("functions", i), upstream))
    for i, raw in enumerate(FIELDS.as_list(tools, "tools") if tools is not None else ()):
        path = at("tools", i)
        tool = FIELDS.as_dict(raw, path)
        if tool.get("type") != "function":
            raise refuse(at(path, "type"), f"only function tools are supported here, got {tool.get('type')!r}")
        FIELDS.check_keys(tool, ("type", "function"), path)
        function = FIELDS.as_dict(tool.get("function"), at(path, "function"))
        declarations.append(_declaration(function, at(path, "function"), upstream))
    seen: set[str] = set()
    for i, declaration in enumerate(declarations):
        if declaration["name"] in seen:
            where = at("functions" if functions is not None else "tools", i)
            raise refuse(where, f"the function name {declaration['name']!r} is declared twice")
        seen.add(declaration["name"])
    return declarations, functions is not None


def _named(choice: Mapping[str, Any], path: str, names: set[str]) -> str:
    name = FIELDS.as_str(choice.get("name"), at(path, "name"))
    if name not in names:
        raise refuse(at(path, "name"), f"{name!r} is not a declared function")
    return name


def _tool_config(body: Mapping[str, Any], declarations: list[dict[str, Any]], functions: bool) -> dict[str, Any] | None:
    """tool_choice (or the deprecated function_call) → Gemini's functionCallingConfig."""
    key, other = ("function_call", "tool_choice") if functions else ("tool_choice", "function_call")
    if body.get(other) is not None:
        raise refuse(other, f"goes with {'tools' if other == 'tool_choice' else 'functions'}, which is not set")
    choice = body.get(key)
    if choice is None:
        return None
    names = {declaration["name"] for declaration in declarations}
    if isinstance(choice, str):
        modes = ("none", "auto") if functions else ("none", "auto", "required")
        if choice not in modes:
            raise refuse(key, f"expected {', '.join(modes)} or a named function, got {choice!r}")
        if not names:
            if choice == "required":
                raise refuse(key, "required needs tools")
            return None
        return {"functionCallingConfig": {"mode": _CHOICE_MODES[choice]}}
    choice = FIELDS.as_dict(choice, key)
    if functions:
        FIELDS.check_keys(choice, ("name",), key)
        return _only([_named(choice, key, names)], "ANY")
    kind = choice.get("type")
    if kind == "function":
        FIELDS.check_keys(choice, ("type", "function"), key)
        return _only(
            [_named(FIELDS.as_dict(choice.get("function"), at(key, "function")), at(key, "function"), names)], "ANY"
        )
    if kind != "allowed_tools":
        raise refuse(at(key, "type"), f"expected function or allowed_tools, got {kind!r}")
    FIELDS.check_keys(choice, ("type", "allowed_tools"), key)
    path = at(key, "allowed_tools")
    allowed = FIELDS.as_dict(choice.get("allowed_tools"), path)
    FIELDS.check_keys(allowed, ("mode", "tools"), path)
    mode = allowed.get("mode")
    if mode not in ("auto", "required"):
        raise refuse(at(path, "mode"), f"expected auto or required, got {mode!r}")
    chosen = []
    for i, raw in enumerate(FIELDS.as_list(allowed.get("tools"), at(path, "tools"))):
        entry = FIELDS.as_dict(raw, at(at(path, "tools"), i))
        if entry.get("type") != "function":
            raise refuse(at(at(at(path, "tools"), i), "type"), "only function tools are supported here")
        function = FIELDS.as_dict(entry.get("function"), at(at(path, "tools"), i) + ".function")
        chosen.append(_named(function, at(at(path, "tools"), i) + ".function", names))
    if mode == "auto" and set(chosen) == names:
        return {"functionCallingConfig": {"mode": "AUTO"}}
    # Gemini restricts calls with allowedFunctionNames in ANY mode, and in VALIDATED mode (a call among
    # those, or text): exactly `auto` over a subset.
    return _only(chosen, "ANY" if mode == "required" else "VALIDATED")


def _only(chosen: list[str], mode: str) -> dict[str, Any]:
    return {"functionCallingConfig": {"mode": mode, "allowedFunctionNames": chosen}}


def _response_format(value: Any, config: dict[str, Any]) -> None:
    """json_object → JSON output; json_schema → JSON constrained by the schema (schema.json_output)."""
    if value is None:
        return
    fmt = FIELDS.as_dict(value, "response_format")
    kind = fmt.get("type")
    if kind == "text":
        FIELDS.check_keys(fmt, ("type",), "response_format")
        return
    if kind == "json_object":
        FIELDS.check_keys(fmt, ("type",), "response_format")
        config["responseMimeType"] = "application/json"
        return
    if kind != "json_schema":
        raise refuse("response_format.type", f"expected text, json_object or json_schema, got {kind!r}")
    FIELDS.check_keys(fmt, ("type", "json_schema"), "response_format")
    spec = FIELDS.as_dict(fmt.get("json_schema"), "response_format.json_schema")
    # `strict` asks for output that follows the schema: responseSchema is enforced, so it is honoured.
    FIELDS.check_keys(spec, ("name", "description", "schema", "strict"), "response_format.json_schema")
    FIELDS.as_str(spec.get("name"), "response_format.json_schema.name")
    FIELDS.flag(spec, "strict", False)
    config["responseMimeType"] = "application/json"
    schema = spec.get("schema")
    if schema is None:
        return
    schema = FIELDS.as_dict(schema, "response_format.json_schema.schema")
    description = FIELDS.optional_str(spec, "description", "response_format.json_schema")
    config.update(json_output(schema, description))
