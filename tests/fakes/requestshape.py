"""The shape of a GenerateContentRequest, for scripting the fake by what a request asks rather than by order.

Real clients send side requests around the one a test cares about (Gemini CLI's JSON-mode model classifier,
a title or a next-speaker check), so a reply scripted with `when=` goes to the first request it matches.
Each predicate takes the inner request (the envelope's `request`). `json_sample` is the fake's answer to a
JSON-mode request nobody scripted: a value of the requested schema, as the real model would give.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]


def wants_json(request: dict[str, Any]) -> bool:
    config = request.get("generationConfig") or {}
    return config.get("responseMimeType") == "application/json"


def declared_tools(request: dict[str, Any]) -> set[str]:
    return {
        declaration.get("name", "")
        for tool in request.get("tools") or []
        for declaration in tool.get("functionDeclarations") or []
    }


def function_responses(request: dict[str, Any]) -> list[dict[str, Any]]:
    """Every functionResponse the client sent back, oldest first."""
    return [
        part["functionResponse"]
        for content in request.get("contents") or []
        for part in content.get("parts") or []
        if isinstance(part, dict) and isinstance(part.get("functionResponse"), dict)
    ]


def _last_parts(request: dict[str, Any]) -> list[dict[str, Any]]:
    contents = request.get("contents") or [{}]
    return [p for p in contents[-1].get("parts") or [] if isinstance(p, dict)]


def offers(tool: str) -> Predicate:
    """A turn that declares `tool` and does not end with a tool result: where a model would call it."""

    def match(request: dict[str, Any]) -> bool:
        return tool in declared_tools(request) and not any("functionResponse" in p for p in _last_parts(request))

    return match


def answers(tool: str) -> Predicate:
    """A turn that ends with the result of `tool`."""

    def match(request: dict[str, Any]) -> bool:
        return any(p.get("functionResponse", {}).get("name") == tool for p in _last_parts(request))

    return match


def json_sample(request: dict[str, Any]) -> Any:
    config = request.get("generationConfig") or {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema") or {}
    return _sample(schema)


def _sample(schema: dict[str, Any]) -> Any:
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):  # ["string", "null"]
        kind = next((k for k in kind if str(k).lower() != "null"), "null")
    kind = str(kind).lower()  # Gemini's own schemas spell types in capitals
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: _sample(spec) for name, spec in properties.items()}
    if kind == "array":
        return [_sample(schema["items"])] if isinstance(schema.get("items"), dict) else []
    minimum = schema.get("minimum", 1)
    return {"string": "fake", "integer": int(minimum), "number": float(minimum), "boolean": False}.get(kind)
