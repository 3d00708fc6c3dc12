"""The tools of a Responses request as Gemini function declarations: `function` as it is, `namespace` groups
flattened to `<namespace>__<name>`, `custom` (free-form text input) as a function taking one string, hosted tools
(web_search, tool_search, …) dropped and reported; `tool_choice` as Gemini's function-calling config.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from trayagent.errors import BadRequest
from trayagent.translate.fields import OPENAI_RESPONSES_FIELDS as FIELDS
from trayagent.translate.schema import clean_tool_parameters

# Gemini (and Claude behind Cloud Code) take function names of at most 64 characters from [A-Za-z0-9_-].
NAME_LIMIT: Final = 64
CUSTOM_INPUT: Final = "input"  # the one string parameter a custom tool's function declaration takes


@dataclass(frozen=True, slots=True)
class ToolName:
    """What the client calls a declared function: its name, its namespace, and whether it is a custom tool."""

    name: str
    namespace: str | None = None
    custom: bool = False


class ToolSet:
    """The declared tools as Gemini takes them. (A plain slotted class: made for every request, it costs a third
    of a dataclass with default factories.)"""

    __slots__ = ("declarations", "dropped", "names", "notes")

    def __init__(self) -> None:
        self.declarations: list[dict[str, Any]] = []
        self.names: dict[str, ToolName] = {}  # Gemini function name → the client's tool
        self.dropped: list[str] = []  # hosted tool types, in first-seen order
        self.notes: list[str] = []


def gemini_name(name: str, namespace: str | None = None) -> str:
    """The function name Gemini sees. Pure, so history items map the same way in every turn."""
    if not namespace:
        return name
    flat = f"{namespace}__{name}"
    if len(flat) <= NAME_LIMIT:
        return flat
    digest = hashlib.sha256(flat.encode()).hexdigest()[:10]
    return f"{flat[: NAME_LIMIT - 11]}_{digest}"


def collect_tools(groups: Sequence[tuple[str, object]], upstream_model: str) -> ToolSet:
    """Every tool list of the request (`tools`, then each `additional_tools` item), named by its JSON path.
    `upstream_model` is the model that will answer (Claude needs a schema even for a tool without arguments)."""
    tools = ToolSet()
    for path, listed in groups:
        if not isinstance(listed, list):
            raise BadRequest(f"{path}: expected a list of tools")
        for index, tool in enumerate(listed):
            _add(tools, f"{path}[{index}]", tool, None, upstream_model)
    return tools


def _add(tools: ToolSet, path: str, tool: object, namespace: str | None, upstream_model: str) -> None:
    if not isinstance(tool, dict):
        raise BadRequest(f"{path}: expected a tool object")
    kind = tool.get("type")
    if not isinstance(kind, str) or not kind:
        raise BadRequest(f"{path}.type: required")
    if kind == "namespace" and namespace is None:
        inner_name = _name(tool, path)
        inner = tool.get("tools")
        if not isinstance(inner, list):
            raise BadRequest(f"{path}.tools: expected a list of tools")
        for index, member in enumerate(inner):
            _add(tools, f"{path}.tools[{index}]", member, inner_name, upstream_model)
        return
    if kind not in ("function", "custom"):
        if kind not in tools.dropped:
            tools.dropped.append(kind)
        return
    name = _name(tool, path)
    flat = gemini_name(name, namespace)
    if flat in tools.names:
        tools.notes.append(f"{path}: a second tool named {flat!r} was left out")
        return
    description = FIELDS.optional_str(tool, "description", path)
    declaration: dict[str, Any] = {"name": flat}
    if description:
        declaration["description"] = description
    if kind == "function":
        parameters = clean_tool_parameters(tool.get("parameters"), upstream_model=upstream_model)
        if parameters is not None:
            declaration["parameters"] = parameters
    else:
        declaration["parameters"] = _custom_parameters(tool.get("format"), f"{path}.format")
    tools.declarations.append(declaration)
    tools.names[flat] = ToolName(name, namespace, kind == "custom")


def _name(tool: Mapping[str, Any], path: str) -> str:
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequest(f"{path}.name: required")
    return name


def _custom_parameters(format_: object, path: str) -> dict[str, Any]:
    """A custom tool takes free text; a grammar cannot constrain Gemini, so the model is told it instead."""
    description = "The tool's whole input, as free-form text."
    if isinstance(format_, dict) and format_.get("type") == "grammar":
        syntax, definition = format_.get("syntax"), format_.get("definition")
        if not isinstance(syntax, str) or not isinstance(definition, str):
            raise BadRequest(f"{path}: a grammar needs a `syntax` and a `definition`")
        description += f" It must match this {syntax} grammar:\n{definition}"
    elif format_ is not None and not (isinstance(format_, dict) and format_.get("type") == "text"):
        raise BadRequest(f"{path}: expected {{type: text}} or {{type: grammar, syntax, definition}}")
    return {
        "type": "OBJECT",
        "properties": {CUSTOM_INPUT: {"type": "STRING", "description": description}},
        "required": [CUSTOM_INPUT],
    }


def function_calling(choice: object, tools: ToolSet) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """`tool_choice` → (Gemini's toolConfig or None, the declarations to send)."""
    declared = tools.declarations
    if choice is None or choice == "auto":
        return None, declared
    if choice == "none":
        return {"functionCallingConfig": {"mode": "NONE"}}, declared
    if choice == "required":
        _need_tools(declared, "required")
        return {"functionCallingConfig": {"mode": "ANY"}}, declared
    if not isinstance(choice, dict):
        raise BadRequest("tool_choice: expected none, auto, required or a tool choice object")
    kind = choice.get("type")
    if kind in ("function", "custom"):
        name = _chosen(choice.get("name"), tools, "tool_choice.name")
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}, declared
    if kind == "allowed_tools":
        mode, listed = choice.get("mode"), choice.get("tools")
        if mode not in ("auto", "required") or not isinstance(listed, list):
            raise BadRequest("tool_choice: allowed_tools needs `mode` auto or required and a `tools` list")
        allowed = {_allowed(entry, tools, f"tool_choice.tools[{i}]") for i, entry in enumerate(listed)}
        kept = [declaration for declaration in declared if declaration["name"] in allowed]
        if mode == "auto":
            return None, kept  # the model may answer or call one of these, and nothing else is declared
        _need_tools(kept, "allowed_tools")
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": sorted(allowed)}}, kept
    raise BadRequest(f"tool_choice: {kind!r} names a hosted tool this proxy does not serve")


def _need_tools(declared: list[dict[str, Any]], what: str) -> None:
    if not declared:
        raise BadRequest(f"tool_choice: {what!r} needs at least one function or custom tool in tools")


def _chosen(name: object, tools: ToolSet, path: str) -> str:
    """A tool named by the client (bare, or already flattened) → its Gemini name."""
    if not isinstance(name, str) or not name:
        raise BadRequest(f"{path}: required")
    if name in tools.names:
        return name
    matches = [flat for flat, known in tools.names.items() if known.name == name]
    if len(matches) != 1:
        why = "is not among the declared tools" if not matches else "is ambiguous: several namespaces declare it"
        raise BadRequest(f"{path}: {name!r} {why}")
    return matches[0]


def _allowed(entry: object, tools: ToolSet, path: str) -> str:
    if not isinstance(entry, dict) or entry.get("type") not in ("function", "custom"):
        raise BadRequest(f"{path}: only function and custom tools can be allowed here")
    return _chosen(entry.get("name"), tools, f"{path}.name")
