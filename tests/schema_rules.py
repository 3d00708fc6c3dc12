"""What Cloud Code accepts in a function declaration's `parameters`, as a checker tests can call.

Each rule is an upstream 400 peers hit (see trayagent/translate/schema.py): unknown keys, a missing or listed
`type`, `enum` off STRING, `properties`/`required` off OBJECT, `required` naming missing or duplicate properties,
an ARRAY without `items`, an OBJECT root without properties. The key set is the one that also survives the
conversion to JSON Schema for Claude models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

KEYS = frozenset({"type", "description", "nullable", "enum", "properties", "required", "items"})
TYPES = frozenset({"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT"})


def schema_problems(node: Any, *, max_depth: int = 25, path: str = "$") -> list[str]:
    """Every rule `node` breaks, each naming where; [] for a schema Cloud Code takes."""
    if not isinstance(node, dict):
        return [f"{path}: a schema must be an object, got {type(node).__name__}"]
    problems = [f"{path}: unknown key {key!r}" for key in node if key not in KEYS]
    kind = node.get("type")
    if not isinstance(kind, str) or kind.upper() not in TYPES:
        problems.append(f"{path}: type must be one of {sorted(TYPES)}, got {kind!r}")
        kind = ""
    kind = kind.upper()
    if "description" in node and not isinstance(node["description"], str):
        problems.append(f"{path}: description must be a string")
    if "nullable" in node and node["nullable"] is not True:
        problems.append(f"{path}: nullable must be true when present")
    if "enum" in node:
        enum = node["enum"]
        if kind != "STRING":
            problems.append(f"{path}: enum is only allowed for STRING")
        if not isinstance(enum, list) or not enum or not all(isinstance(v, str) for v in enum):
            problems.append(f"{path}: enum must be a non-empty list of strings")
        elif len(set(enum)) != len(enum):
            problems.append(f"{path}: enum values must be unique")
    properties = node.get("properties")
    if "properties" in node:
        if kind != "OBJECT":
            problems.append(f"{path}: properties only allowed for OBJECT")
        if not isinstance(properties, dict):
            problems.append(f"{path}: properties must be an object")
            properties = {}
    if "required" in node:
        required = node["required"]
        if kind != "OBJECT":
            problems.append(f"{path}: required only allowed for OBJECT")
        if not isinstance(required, list) or not required or not all(isinstance(r, str) for r in required):
            problems.append(f"{path}: required must be a non-empty list of names")
        else:
            if len(set(required)) != len(required):
                problems.append(f"{path}: required has duplicates")
            missing = [r for r in required if r not in (properties or {})]
            if missing:
                problems.append(f"{path}: required names missing properties {missing}")
    if kind == "ARRAY" and "items" not in node:
        problems.append(f"{path}: an ARRAY needs items")
    if "items" in node and kind != "ARRAY":
        problems.append(f"{path}: items only allowed for ARRAY")
    if max_depth <= 0 and properties:
        problems.append(f"{path}: nested too deep")
    if max_depth <= 0 and isinstance(node.get("items"), dict) and node["items"].keys() & {"properties", "items"}:
        problems.append(f"{path}: nested too deep (an array at the limit holds plain items)")
    if isinstance(properties, Mapping):
        for name, sub in properties.items():
            problems += schema_problems(sub, max_depth=max_depth - 1, path=f"{path}.properties[{name!r}]")
    if "items" in node:
        problems += schema_problems(node["items"], max_depth=max_depth - 1, path=f"{path}.items")
    return problems


def parameters_problems(parameters: Any) -> list[str]:
    """`schema_problems` plus what the root of a declaration's parameters must be: a non-null OBJECT with at
    least one property, and JSON orjson can write."""
    problems = schema_problems(parameters)
    if isinstance(parameters, dict):
        if str(parameters.get("type", "")).upper() != "OBJECT":
            problems.append("$: parameters must be an OBJECT")
        if not parameters.get("properties"):
            problems.append("$: parameters need at least one property (omit parameters instead)")
        if "nullable" in parameters:
            problems.append("$: parameters cannot be nullable")
    try:
        orjson.dumps(parameters)
    except TypeError as error:
        problems.append(f"$: not JSON: {error}")
    return problems
