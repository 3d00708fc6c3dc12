"""The tool-schema cleaner: any JSON Schema a client sends → the OpenAPI subset Cloud Code accepts for a function
declaration's `parameters` (or a `responseSchema`), for Gemini and for the Claude models behind the same API.

Why so strict. Cloud Code parses `parameters` into Google's `Schema` proto and rejects the whole request for one
unknown key anywhere ("Unknown name "additionalProperties" … Cannot find field": `$schema`, `$ref`, `$defs`,
`const`, `exclusiveMinimum`, `multipleOf`, `propertyNames`, `deprecated`, `optional`, `x-*`, …), for a list in
`type` ("Proto field is not repeating"), for a schema without a `type` ("must be specified"), for `properties` on a
non-object, for an array without `items`, and for an OBJECT parameters root with no properties. For Claude models it
then turns the proto back into JSON Schema draft 2020-12, which fails on duplicate `required` entries and on the
proto's int64 fields (`maxLength`, `minItems`, …, sent back as strings). So the output keeps only `type` (upper
case), `description`, `nullable`, `enum` (strings, on STRING only), `properties`, `required` and `items`; every
other constraint worth knowing is moved into the description ("at most 5 items", "pattern: ^a").
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import unquote

import orjson

from trayagent.translate.schema_notes import as_text, constraint_notes, describe, one_of
from trayagent.translate.thinking import model_family

_TYPES: Final[Mapping[str, str]] = {
    "string": "STRING",
    "number": "NUMBER",
    "integer": "INTEGER",
    "boolean": "BOOLEAN",
    "array": "ARRAY",
    "object": "OBJECT",
}
# Keywords that imply a type when `type` is missing (JSON Schema allows that; Gemini does not).
_OBJECT_HINTS: Final = ("properties", "required", "additionalProperties", "patternProperties", "minProperties")
_ARRAY_HINTS: Final = ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains")
_STRING_HINTS: Final = ("pattern", "minLength", "maxLength", "format")
_NUMBER_HINTS: Final = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_MAX_NODES: Final = 5_000  # per call: bounds the work a schema of shared $refs can cause
_DEPTH_CEILING: Final = 64  # whatever max_depth says, so deep junk cannot exhaust Python's stack
_MAX_MERGE_DEPTH: Final = 32  # nested allOf / chained $ref before we stop merging
# What a no-parameter tool gets when a Claude model will answer: Cloud Code hands Claude a tool without an
# `input_schema` when `parameters` is absent ("tools.0.custom.input_schema: Field required"), and Gemini's
# validation refuses an OBJECT root without properties, so the tool gets one optional property it never needs.
NO_PARAMETERS_PLACEHOLDER: Final = "_unused"


def clean_schema(schema: Any, *, max_depth: int = 24) -> dict[str, Any]:
    """A fresh schema Gemini accepts, never sharing a dict or list with `schema` (which is not mutated).

    `$ref` to `$defs`/`definitions` (or any local JSON pointer) is inlined, a cycle ending in a free-form leaf;
    `allOf` is merged; `anyOf`/`oneOf` collapse to the richest non-null branch, the alternatives named in the
    description; a null alternative or `type: [..., "null"]` becomes `nullable: true`. Below `max_depth` levels
    objects stay free-form and arrays hold strings. Junk (None, a bool, a list) reads as a free-form object.
    """
    if not isinstance(schema, dict):
        return {"type": "OBJECT", "properties": {}}
    return _Cleaner(schema, max_depth).node(schema, 0, frozenset({"#"}), root=True)  # "#" is being expanded


def clean_tool_parameters(schema: Any, *, upstream_model: str | None = None) -> dict[str, Any] | None:
    """A function declaration's `parameters`: the cleaned object schema, or None when the tool takes no arguments
    (the caller then omits `parameters`). With `upstream_model` naming a Claude model, a tool without arguments
    gets a placeholder schema instead of None, because Claude behind Cloud Code needs one (see above).

    Clients send the same tools on every turn (Claude Code 12, Codex 30+), so results are remembered by the
    schema's JSON text (a bounded memo, like `functools.lru_cache`): the result is shared, never mutate it."""
    claude = upstream_model is not None and model_family(upstream_model) == "claude"
    try:
        key = (claude, orjson.dumps(schema))
    except TypeError:  # not JSON-encodable as it is (an integer past 64 bits): clean without the memo
        return _clean_tool_parameters(schema, claude)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    result = _MEMO[key] = _clean_tool_parameters(schema, claude)
    if len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return result


def json_output(schema: Any, description: str | None = None) -> dict[str, Any]:
    """The generationConfig entries for JSON output that follows `schema`, cleaned into `responseSchema` (which
    Cloud Code enforces by constrained decoding; it ignores `responseJsonSchema`); `description` fills a missing one."""
    cleaned = clean_schema(schema)
    if description:
        cleaned.setdefault("description", description)
    return {"responseMimeType": "application/json", "responseSchema": cleaned}


_MEMO: Final[OrderedDict[tuple[bool, bytes], dict[str, Any] | None]] = OrderedDict()
_MEMO_SIZE: Final = 1024


def _clean_tool_parameters(schema: Any, claude: bool) -> dict[str, Any] | None:
    cleaned = clean_schema(schema)
    cleaned.pop("nullable", None)  # arguments are an object, never null
    if cleaned.get("type") == "OBJECT" and cleaned.get("properties"):
        return cleaned
    if claude:
        unused = {"type": "STRING", "description": "Not used; leave it out."}
        return {"type": "OBJECT", "properties": {NO_PARAMETERS_PLACEHOLDER: unused}}
    return None


class _Cleaner:
    """One cleaning pass: the root document (for `$ref`), the depth limit and the work budget of this call."""

    __slots__ = ("_budget", "_max_depth", "_root")

    def __init__(self, root: Mapping[str, Any], max_depth: int) -> None:
        self._root = root
        self._max_depth = min(max(0, max_depth), _DEPTH_CEILING)
        self._budget = _MAX_NODES

    def node(self, raw: Any, depth: int, active: frozenset[str], *, root: bool = False) -> dict[str, Any]:
        self._budget -= 1
        flat, active, cyclic = self._flatten(raw if isinstance(raw, dict) else {}, active, 0)
        hints: list[str] = []
        nullable = False
        for _ in range(_MAX_MERGE_DEPTH):  # an alternative may itself be a union
            if "anyOf" not in flat and "oneOf" not in flat:
                break
            flat, null_branch, active, looped = self._collapse(flat, active, hints)
            nullable, cyclic = nullable or null_branch, cyclic or looped
        kind, type_null = _pick_type(flat, hints, "OBJECT" if root else "STRING")
        nullable = nullable or type_null or flat.get("nullable") is True  # OpenAPI-style input keeps it
        out: dict[str, Any] = {"type": kind}
        enum = _enum_values(flat)
        if enum is not None:
            if None in enum:
                nullable = True
                enum = [value for value in enum if value is not None]
            if kind == "STRING":
                strings = list(dict.fromkeys(as_text(value) for value in enum))
                if strings:
                    out["enum"] = strings
            elif enum:
                hints.append(one_of(enum))
        constraint_notes(flat, hints)
        extra = flat.get("additionalProperties")
        if kind == "OBJECT" and isinstance(extra, dict) and extra and not flat.get("properties"):
            hints.append("any keys, " + _label(extra) + " values")  # a map: say what its values are
        description = describe(flat, hints)
        if description:
            out["description"] = description
        if nullable:
            out["nullable"] = True
        leaf = cyclic or depth >= self._max_depth or self._budget <= 0
        if kind == "OBJECT":
            # A free-form object says `properties: {}`; to the proto that is the same as saying nothing, and
            # the one place Gemini refuses it, a declaration's root, clean_tool_parameters handles.
            out["properties"] = {}
            if not leaf:
                self._object(flat, out, depth, active)
        elif kind == "ARRAY":
            items = {"type": "STRING"} if leaf else self._items(flat, depth, active)
            out["items"] = items
        return out

    def _object(self, flat: Mapping[str, Any], out: dict[str, Any], depth: int, active: frozenset[str]) -> None:
        found = flat.get("properties")
        if not isinstance(found, dict) or not found:
            return
        properties = {name: self.node(sub, depth + 1, active) for name, sub in found.items() if isinstance(name, str)}
        out["properties"] = properties
        wanted = flat.get("required")
        if isinstance(wanted, list):
            # Unique names of existing properties only: Gemini refuses the others, Claude refuses duplicates.
            required = list(dict.fromkeys(r for r in wanted if isinstance(r, str) and r in properties))
            if required:
                out["required"] = required

    def _items(self, flat: Mapping[str, Any], depth: int, active: frozenset[str]) -> dict[str, Any]:
        items = flat.get("items")
        if isinstance(items, list):  # draft-04 tuple form
            items = items[0] if items else None
        if not isinstance(items, dict):
            prefix = flat.get("prefixItems")
            items = prefix[0] if isinstance(prefix, list) and prefix else None
        return self.node(items, depth + 1, active)

    def _flatten(
        self, raw: Mapping[str, Any], active: frozenset[str], level: int
    ) -> tuple[Mapping[str, Any], frozenset[str], bool]:
        """`raw` with its `$ref` and `allOf` merged in (raw's own keywords first). Returns `raw` itself when there
        is nothing to merge, the refs now being expanded (for cycles further down), and whether a ref looped."""
        ref = raw.get("$ref")
        every = raw.get("allOf")
        if not isinstance(ref, str) and not isinstance(every, list):
            return raw, active, False
        merged: dict[str, Any] = {k: v for k, v in raw.items() if k not in ("$ref", "allOf")}
        cyclic = False
        sources: list[Any] = []
        if isinstance(ref, str):
            target = self._resolve(ref)
            if ref in active or level >= _MAX_MERGE_DEPTH or self._budget <= 0:
                cyclic = True
                if isinstance(target, dict):  # keep the type it would have had, none of its children
                    merged.setdefault("type", _pick_type(target, [], "OBJECT")[0].lower())
            elif target is not None:
                active = active | {ref}
                sources.append(target)
        if isinstance(every, list):
            sources.extend(every)
        for source in sources:
            self._budget -= 1
            if not isinstance(source, dict) or level >= _MAX_MERGE_DEPTH:
                continue
            part, active, looped = self._flatten(source, active, level + 1)
            cyclic = cyclic or looped
            _merge_into(merged, part)
        return merged, active, cyclic

    def _collapse(
        self, flat: Mapping[str, Any], active: frozenset[str], hints: list[str]
    ) -> tuple[Mapping[str, Any], bool, frozenset[str], bool]:
        """`anyOf`/`oneOf` → one branch merged into `flat`; whether a null alternative was among them, and the
        refs being expanded and whether one looped, as `_flatten` says them for the chosen branch."""
        merged = {k: v for k, v in flat.items() if k not in ("anyOf", "oneOf")}
        nullable = False
        branches: list[tuple[Mapping[str, Any], frozenset[str], bool]] = []
        for key in ("anyOf", "oneOf"):
            found = flat.get(key)
            for branch in found if isinstance(found, list) else ():
                self._budget -= 1
                part = self._flatten(branch, active, 0) if isinstance(branch, dict) else ({}, active, False)
                if _is_null(part[0]):
                    nullable = True
                else:
                    branches.append(part)
        if not branches:
            if nullable:
                merged.setdefault("type", "null")
            return merged, nullable, active, False
        choices = [_string_choices(branch) for branch, _, _ in branches]
        if len(branches) > 1 and all(choices):  # a union of string constants is an enum
            merged.setdefault("type", "string")
            merged.setdefault("enum", [word for words in choices for word in words])
            return merged, nullable, active, False
        best, active, cyclic = max(branches, key=lambda part: _richness(part[0]))  # the first of equals
        others = [branch for branch, _, _ in branches]
        if len(others) > 1:
            labels = list(dict.fromkeys(_label(branch) for branch in others))
            if len(labels) > 1:
                hints.append("accepts: " + " | ".join(labels))
            else:
                hints.append(f"one of {len(others)} {labels[0]} shapes; the richest is declared")
        for key, value in best.items():
            if key == "properties" and isinstance(value, dict):
                own = merged.get("properties")
                merged["properties"] = {**value, **own} if isinstance(own, dict) else value
            elif key == "required" and len(others) > 1:
                continue  # what one alternative requires, the others may not have
            elif key == "required" and isinstance(value, list):
                own_required = merged.get("required")
                merged["required"] = [*own_required, *value] if isinstance(own_required, list) else value
            else:
                merged.setdefault(key, value)
        return merged, nullable, active, cyclic

    def _resolve(self, ref: str) -> Any:
        """A local reference (`#`, `#/$defs/Name`, any JSON pointer into the root), else a root `$defs` or
        `definitions` entry named like the pointer's last step, else None."""
        if not ref.startswith("#"):
            return None
        node: Any = self._root
        for step in ref[1:].split("/")[1:] if ref != "#" else ():
            step = unquote(step).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and step in node:
                node = node[step]
            elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
                node = node[int(step)]
            else:
                node = None
                break
        if isinstance(node, dict):
            return node
        name = unquote(ref.rsplit("/", 1)[-1])
        for defs in ("$defs", "definitions"):
            table = self._root.get(defs)
            if isinstance(table, dict) and isinstance(table.get(name), dict):
                return table[name]
        return None


def _merge_into(merged: dict[str, Any], part: Mapping[str, Any]) -> None:
    """allOf semantics, loosely: properties and required add up, a property in both must satisfy both, and
    for any other keyword the schema already holding it wins."""
    for key, value in part.items():
        if key == "properties" and isinstance(value, dict):
            own = merged.get("properties")
            if not isinstance(own, dict):
                merged["properties"] = value
                continue
            combined = dict(own)
            for name, sub in value.items():
                combined[name] = {"allOf": [combined[name], sub]} if name in combined else sub
            merged["properties"] = combined
        elif key == "required" and isinstance(value, list):
            own_required = merged.get("required")
            merged["required"] = [*own_required, *value] if isinstance(own_required, list) else value
        else:
            merged.setdefault(key, value)


def _pick_type(flat: Mapping[str, Any], hints: list[str], default: str) -> tuple[str, bool]:
    """Gemini's one type for this schema, and whether JSON Schema also allowed null."""
    declared = flat.get("type")
    if isinstance(declared, str) and declared in _TYPES:  # the common case, first
        return _TYPES[declared], False
    names = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []
    lowered = [name.lower() for name in names if isinstance(name, str)]
    nullable = "null" in lowered
    known = list(dict.fromkeys(name for name in lowered if name in _TYPES))
    if known:
        if len(known) > 1:
            hints.append("accepts: " + " | ".join(known))
        return _TYPES[known[0]], nullable
    if any(key in flat for key in _OBJECT_HINTS):
        return "OBJECT", nullable
    if any(key in flat for key in _ARRAY_HINTS):
        return "ARRAY", nullable
    values = _enum_values(flat)
    if values:
        return _value_type([value for value in values if value is not None]), nullable
    if any(key in flat for key in _STRING_HINTS):
        return "STRING", nullable
    if any(key in flat for key in _NUMBER_HINTS):
        return "NUMBER", nullable
    if nullable:  # type "null" alone: Gemini has no null type, so a nullable string
        return "STRING", True
    return default, nullable


def _value_type(values: list[Any]) -> str:
    if values and all(isinstance(value, bool) for value in values):
        return "BOOLEAN"
    if values and all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return "INTEGER"
    if values and all(isinstance(value, int | float) and not isinstance(value, bool) for value in values):
        return "NUMBER"
    return "STRING"


def _enum_values(flat: Mapping[str, Any]) -> list[Any] | None:
    if "const" in flat:
        return [flat["const"]]
    found = flat.get("enum")
    return list(found) if isinstance(found, list) else None


def _is_null(branch: Mapping[str, Any]) -> bool:
    declared = branch.get("type")
    if declared == "null" or declared == ["null"]:
        return True
    return ("const" in branch and branch["const"] is None) or branch.get("enum") == [None]


def _string_choices(branch: Mapping[str, Any]) -> list[str]:
    """The strings a branch that is only string constants allows; [] for any other branch."""
    if any(key in branch for key in ("properties", "items")) or branch.get("type") not in (None, "string"):
        return []
    values = _enum_values(branch)
    if not values or not all(isinstance(value, str) for value in values):
        return []
    return values


def _richness(branch: Mapping[str, Any]) -> int:
    kind = _pick_type(branch, [], "STRING")[0]
    if kind == "OBJECT":
        return 4 if isinstance(branch.get("properties"), dict) and branch["properties"] else 3
    if kind == "ARRAY":
        return 2
    return 1 if "type" in branch or "enum" in branch or "const" in branch else 0


def _label(branch: Mapping[str, Any], level: int = 0) -> str:
    """How the alternatives note names a branch: its type, the item type for arrays, through nested unions."""
    if "type" not in branch and level < 4:
        for key in ("anyOf", "oneOf"):
            found = branch.get(key)
            for inner in found if isinstance(found, list) else ():
                if isinstance(inner, dict) and not _is_null(inner):
                    return _label(inner, level + 1)
    kind = _pick_type(branch, [], "STRING")[0].lower()
    if kind == "array":
        items = branch.get("items")
        if isinstance(items, dict):
            return "array of " + _pick_type(items, [], "STRING")[0].lower()
    return kind
