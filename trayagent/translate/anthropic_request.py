"""An Anthropic Messages (or count_tokens) body → the Gemini request, plus what the reply must echo.

Top-level fields, tools, tool_choice, sampling, thinking and effort, the sticky-session key. The message content
itself is `anthropic_content.History`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, NamedTuple

import orjson

from trayagent.errors import BadRequest
from trayagent.translate.anthropic_content import History, estimate_tokens, gemini_name
from trayagent.translate.fields import ANTHROPIC_FIELDS as FIELDS
from trayagent.translate.gemini import conversation_key
from trayagent.translate.hub import DROPPED_TOOLS_HEADER, ClientCall, ClientTarget, HubRequest
from trayagent.translate.schema import clean_tool_parameters, json_output
from trayagent.translate.thinking import Effort, set_output_limit, thinking_config

# Accepted and ignored: they steer Anthropic's own servers (context editing, containers, MCP connectors,
# capacity tiers, prompt-cache breakpoints) and have no Cloud Code meaning. Named once in the request log.
IGNORED_FIELDS: Final = frozenset(
    {
        "betas",
        "billing_policy",
        "cache_control",
        "compaction",
        "container",
        "context_management",
        "diagnostics",
        "fallback_credit_token",
        "fallbacks",
        "inference_geo",
        "mcp_servers",
        "service_tier",
        "speed",
        "thread",
        "user_profile_id",
        "workspace_id",
    }
)
_MESSAGE_FIELDS: Final = frozenset(
    {"model", "messages", "system", "max_tokens", "stream", "metadata", "stop_sequences", "temperature", "top_p"}
    | {"top_k", "thinking", "output_config", "tools", "tool_choice"}
)
_COUNT_FIELDS: Final = frozenset(
    {"model", "messages", "system", "metadata", "thinking", "output_config", "tools", "tool_choice"}
)
# Anthropic's effort names → the thinking helper's (Google has nothing between high and max).
_EFFORTS: Final[Mapping[str, Effort]] = {"low": "low", "medium": "medium", "high": "high", "xhigh": "max", "max": "max"}
_MAX_STOP_SEQUENCES: Final = 5  # Google's limit; more is a 400 there
_SESSION_MARK: Final = "_session_"  # older Claude Code user ids: user_<hash>_account_<uuid>_session_<uuid>


class Echo(NamedTuple):
    """What the reply must honour: the model name asked for, hidden thinking text, the stop sequences (Google does
    not say which one matched), the client's tool names, one tool call at most, the local token estimate.
    (A named tuple: as immutable as a frozen dataclass, and a fraction of its cost to build, once a request.)"""

    model: str
    omit_thinking: bool = False
    stop_sequences: tuple[str, ...] = ()
    names: Mapping[str, str] = MappingProxyType({})
    single_tool: bool = False
    estimate: int = 1

    def tool_name(self, function: str) -> str:
        return self.names.get(function, function)


def parse_body(body: dict[str, Any], target: ClientTarget, *, count_tokens: bool = False) -> ClientCall:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise BadRequest("model: expected a model name")
    upstream = target.upstream_model(model)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: expected a non-empty list")

    history = History()
    system = body.get("system")
    if system is not None:
        history.add_system(system, "system")
    history.add_messages(messages)
    request: dict[str, Any] = {"contents": history.contents()}
    if history.system:
        request["systemInstruction"] = {"parts": history.system}

    dropped: list[str] = []
    declarations = _declarations(body.get("tools"), upstream, history.names, dropped)
    if declarations:
        request["tools"] = [{"functionDeclarations": declarations}]
    tool_config, single_tool = _tool_choice(body.get("tool_choice"), declarations)
    if tool_config is not None:
        request["toolConfig"] = tool_config

    output_config = FIELDS.optional_dict(body, "output_config")
    effort = _effort(output_config)
    thinking = FIELDS.optional_dict(body, "thinking")
    omit_thinking = thinking is not None and _display(thinking) == "omitted"
    stops: tuple[str, ...] = ()
    if not count_tokens:
        config, stops = _generation_config(body, upstream, thinking, effort, output_config)
        if config:
            request["generationConfig"] = config
        stream = FIELDS.as_bool(body.get("stream", False), "stream")
    else:
        stream = False

    known = _COUNT_FIELDS if count_tokens else _MESSAGE_FIELDS
    notes = sorted(history.notes)
    if not body.keys() <= known:  # some field is not one this front end reads: say which, once
        ignored = sorted(key for key in body if key not in known)
        anthropic_only = [key for key in ignored if key in IGNORED_FIELDS]
        if anthropic_only:
            notes.append("ignored Anthropic-only fields: " + ", ".join(anthropic_only))
        unknown = [key for key in ignored if key not in IGNORED_FIELDS]
        if unknown:
            notes.append("ignored unknown fields: " + ", ".join(unknown))
    headers: dict[str, str] = {}
    if dropped:
        notes.append("dropped Anthropic server tools: " + ", ".join(dropped))
        headers[DROPPED_TOOLS_HEADER] = ",".join(dropped)
    echo = Echo(
        model=model,
        omit_thinking=omit_thinking,
        stop_sequences=stops,
        names={f: n for f, n in history.names.items() if f != n} if history.names else {},
        single_tool=single_tool,
        estimate=estimate_tokens(request) if count_tokens else 1,
    )
    # Claude Code echoes thinking signatures itself: only those Google issued for the answering family go back up.
    # Only thinking blocks carry one here; without them the dispatcher has nothing to check.
    hub = HubRequest(model, request, _session(body, target, request), verify_signatures=history.signed)
    return ClientCall(
        hub=hub,
        operation="count_tokens" if count_tokens else "generate",
        stream=stream,
        echo=echo,
        headers=headers,
        notes=tuple(notes),
        estimate_when_unanswered=count_tokens,
    )


def _declarations(tools: Any, upstream: str, names: dict[str, str], dropped: list[str]) -> list[dict[str, Any]]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise BadRequest("tools: expected a list")
    declarations: list[dict[str, Any]] = []
    declared: set[str] = set()
    for i, tool in enumerate(tools):
        path = f"tools.{i}"
        tool = FIELDS.as_dict(tool, path)
        kind = tool.get("type")
        if kind not in (None, "custom"):
            # Hosted tools (web_search_…, code_execution_…) run on Anthropic's servers; Google has none of them.
            dropped.append(str(kind))
            continue
        name = FIELDS.non_empty(tool, "name", path)
        function = gemini_name(name)
        if function in declared or names.get(function, name) != name:
            raise BadRequest(f"{path}.name: tool {name!r} is declared twice")
        declared.add(function)
        names[function] = name
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise BadRequest(f"{path}.input_schema: expected a JSON Schema object")
        declaration: dict[str, Any] = {"name": function}
        description = _description(tool, path)
        if description:
            declaration["description"] = description
        # defer_loading tools are declared like the rest: Google has no tool search, so all are known up front.
        parameters = clean_tool_parameters(schema, upstream_model=upstream)
        if parameters is not None:
            declaration["parameters"] = parameters
        declarations.append(declaration)
    return declarations


def _description(tool: Mapping[str, Any], path: str) -> str:
    description = FIELDS.string(tool, "description", path, "")
    examples = tool.get("input_examples")
    if examples is None:
        return description
    if not isinstance(examples, list):
        raise BadRequest(f"{path}.input_examples: expected a list")
    # Examples guide the model at Anthropic; Google's declaration has no slot for them, the description does.
    shown = "\n".join(orjson.dumps(example).decode() for example in examples)
    return f"{description}\n\nExample inputs:\n{shown}" if description else f"Example inputs:\n{shown}"


def _tool_choice(choice: Any, declarations: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, bool]:
    if choice is None:
        return None, False
    if not isinstance(choice, dict):
        raise BadRequest("tool_choice: expected an object")
    kind = choice.get("type")
    single = FIELDS.as_bool(choice.get("disable_parallel_tool_use", False), "tool_choice.disable_parallel_tool_use")
    if kind == "tool":
        name = choice.get("name")
        if not isinstance(name, str) or gemini_name(name) not in {d["name"] for d in declarations}:
            raise BadRequest(f"tool_choice.name: no tool named {name!r} is declared")
        config = {"mode": "ANY", "allowedFunctionNames": [gemini_name(name)]}
    elif kind in ("auto", "any", "none"):
        config = {"mode": str(kind).upper()}
    else:
        raise BadRequest(f"tool_choice.type: expected 'auto', 'any', 'tool' or 'none', got {kind!r}")
    if not declarations or kind == "auto":
        return None, single  # AUTO is Google's default; without tools there is nothing to configure
    return {"functionCallingConfig": config}, single


def _generation_config(
    body: Mapping[str, Any],
    upstream: str,
    thinking: Mapping[str, Any] | None,
    effort: Effort | None,
    output_config: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        raise BadRequest("max_tokens: field required")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise BadRequest("max_tokens: expected an integer")
    if max_tokens < 1:
        raise BadRequest("max_tokens: must be at least 1")
    config: dict[str, Any] = {}
    thinking_settings = _thinking(thinking, upstream, effort)
    set_output_limit(config, upstream, max_tokens, thinking_settings)
    for key, name in (("temperature", "temperature"), ("top_p", "topP")):
        value = FIELDS.number(body, key, 0, 1)
        if value is not None:
            config[name] = value
    top_k = FIELDS.positive(body, "top_k")
    if top_k is not None:
        config["topK"] = top_k
    stops = _stop_sequences(body.get("stop_sequences"))
    if stops:
        config["stopSequences"] = list(stops)
    if output_config is not None and output_config.get("format") is not None:
        config.update(_response_format(output_config["format"]))
    if thinking_settings:
        config["thinkingConfig"] = thinking_settings
    return config, stops


def _thinking(thinking: Mapping[str, Any] | None, upstream: str, effort: Effort | None) -> dict[str, Any] | None:
    if thinking is None:
        # No thinking asked: the model's default, thoughts hidden; an effort still sets how hard it thinks.
        return thinking_config(upstream, effort=effort, include_thoughts=False) if effort else None
    kind = thinking.get("type")
    if kind == "enabled":
        return thinking_config(upstream, budget=FIELDS.positive(thinking, "budget_tokens", "thinking", required=True))
    if kind == "adaptive":
        return thinking_config(upstream, effort=effort or "high")  # Anthropic's default effort is high
    if kind == "disabled":
        return thinking_config(upstream, effort="none", include_thoughts=False)
    raise BadRequest(f"thinking.type: expected 'enabled', 'adaptive' or 'disabled', got {kind!r}")


def _display(thinking: Mapping[str, Any]) -> str | None:
    display = thinking.get("display")
    if display not in (None, "summarized", "omitted"):
        raise BadRequest(f"thinking.display: expected 'summarized' or 'omitted', got {display!r}")
    return display


def _effort(output_config: Mapping[str, Any] | None) -> Effort | None:
    if output_config is None or output_config.get("effort") is None:
        return None
    effort = output_config["effort"]
    if not isinstance(effort, str) or effort not in _EFFORTS:
        raise BadRequest(f"output_config.effort: expected low, medium, high, xhigh or max, got {effort!r}")
    return _EFFORTS[effort]


def _response_format(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or spec.get("type") != "json_schema" or not isinstance(spec.get("schema"), dict):
        raise BadRequest("output_config.format: expected {type: 'json_schema', schema: {...}}")
    return json_output(spec["schema"])


def _stop_sequences(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise BadRequest("stop_sequences: expected a list of non-empty strings")
    if len(value) > _MAX_STOP_SEQUENCES:
        raise BadRequest(f"stop_sequences: Google accepts at most {_MAX_STOP_SEQUENCES}, got {len(value)}")
    return tuple(value)


def _session(body: Mapping[str, Any], target: ClientTarget, request: Mapping[str, Any]) -> str | None:
    """Claude Code's session id (inside metadata.user_id, or its header), else the user id, else the first
    user message: one conversation stays on one account."""
    metadata = FIELDS.optional_dict(body, "metadata")
    user_id = FIELDS.optional_str(metadata, "user_id", "metadata") if metadata is not None else None
    session: str | None = None
    if user_id and user_id.startswith("{"):
        try:
            decoded = orjson.loads(user_id)
        except orjson.JSONDecodeError:
            decoded = None
        if isinstance(decoded, dict) and isinstance(decoded.get("session_id"), str):
            session = decoded["session_id"]
    session = session or target.headers.get("x-claude-code-session-id")
    if not session and user_id:
        mark = user_id.rfind(_SESSION_MARK)
        session = user_id[mark + len(_SESSION_MARK) :] if mark >= 0 else user_id
    return conversation_key(request, session)
