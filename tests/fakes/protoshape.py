"""The JSON types Google's proto parser insists on in a GenerateContentRequest, so the fake answers a malformed
request with Google's 400 ("Invalid JSON payload received") instead of tripping over it.

Only the field types are checked (an object where an object goes, a list where a list goes), not which fields
exist: the fake stays as lenient about names as the tests need, and as strict about types as the real parser.
"""

from __future__ import annotations

from typing import Any

_OBJECT_FIELDS = ("systemInstruction", "generationConfig", "toolConfig")
_LIST_FIELDS = ("contents", "tools", "safetySettings")
_PART_OBJECTS = ("functionCall", "functionResponse", "inlineData", "fileData", "executableCode")


def proto_problem(request: Any) -> str | None:
    """Why Google's parser would refuse `request` (the envelope's inner request); None when it would not."""
    if not isinstance(request, dict):
        return "request: expected an object"
    for name in _OBJECT_FIELDS:
        if request.get(name) is not None and not isinstance(request[name], dict):
            return f"{name}: expected an object"
    for name in _LIST_FIELDS:
        if request.get(name) is not None and not _objects(request[name]):
            return f"{name}: expected a list of objects"
    contents = list(request.get("contents") or [])
    if isinstance(request.get("systemInstruction"), dict):
        contents.append(request["systemInstruction"])
    for i, content in enumerate(contents):
        if content.get("role") is not None and not isinstance(content["role"], str):
            return f"contents[{i}].role: expected a string"
        parts = content.get("parts")
        if parts is not None and not _objects(parts):
            return f"contents[{i}].parts: expected a list of objects"
        for j, part in enumerate(parts or []):
            problem = _part_problem(part)
            if problem is not None:
                return f"contents[{i}].parts[{j}].{problem}"
    for i, tool in enumerate(request.get("tools") or []):
        declarations = tool.get("functionDeclarations")
        if declarations is not None and not _objects(declarations):
            return f"tools[{i}].functionDeclarations: expected a list of objects"
    return None


def _part_problem(part: dict[str, Any]) -> str | None:
    if part.get("text") is not None and not isinstance(part["text"], str):
        return "text: expected a string"
    for name in _PART_OBJECTS:
        if part.get(name) is not None and not isinstance(part[name], dict):
            return f"{name}: expected an object"
    for name in ("functionCall", "functionResponse"):
        value = part.get(name)
        if isinstance(value, dict):
            if value.get("name") is not None and not isinstance(value["name"], str):
                return f"{name}.name: expected a string"
            inner = "args" if name == "functionCall" else "response"
            if value.get(inner) is not None and not isinstance(value[inner], dict):
                return f"{name}.{inner}: expected an object"
    return None


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)
