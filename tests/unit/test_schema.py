"""The tool-schema cleaner: each rule on its own, then whole tool sets shaped like Claude Code's and Codex's."""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.schema_rules import parameters_problems, schema_problems
from trayagent.translate.schema import NO_PARAMETERS_PLACEHOLDER, clean_schema, clean_tool_parameters

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "schema"
CASES = sorted(path.name for path in GOLDEN.iterdir() if (path / "in.json").exists())


def clean(schema: Any) -> dict[str, Any]:
    out = clean_schema(schema)
    assert schema_problems(out) == []
    return out


@pytest.mark.parametrize("case", CASES)
def test_golden_tool_sets(case: str) -> None:
    """in.json maps tool names to input schemas; out.json holds what each becomes (null: no parameters)."""
    tools = orjson.loads((GOLDEN / case / "in.json").read_bytes())
    before = copy.deepcopy(tools)
    got = {name: clean_tool_parameters(schema) for name, schema in tools.items()}
    assert tools == before, "the input was mutated"
    for name, parameters in got.items():
        if parameters is not None:
            assert parameters_problems(parameters) == [], name
    expected_file = GOLDEN / case / "out.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected_file.write_bytes(orjson.dumps(got, option=orjson.OPT_INDENT_2) + b"\n")
    assert got == orjson.loads(expected_file.read_bytes())


def test_drops_keywords_gemini_rejects_and_keeps_their_meaning_in_the_description() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:x",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "path": {"type": "string", "description": "Where.", "pattern": "^/", "minLength": 1, "maxLength": 9},
            "count": {"type": "integer", "minimum": 1, "maximum": 5, "multipleOf": 1, "default": 2},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5},
            "list": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 5, "uniqueItems": True},
            "old": {"type": "boolean", "deprecated": True, "readOnly": True, "writeOnly": True, "examples": [True]},
            "secret": {"type": "string", "encrypted": True, "x-mcp-header": "X-Key", "$comment": "no"},
        },
    }
    props = clean(schema)["properties"]
    assert props["path"] == {
        "type": "STRING",
        "description": "Where. (pattern: ^/; at least 1 character; at most 9 characters)",
    }
    assert props["count"]["description"] == "minimum 1; maximum 5; a multiple of 1; default: 2"
    assert props["ratio"]["description"] == "greater than 0; less than 1.5"
    assert props["list"] == {
        "type": "ARRAY",
        "description": "at least 1 item; at most 5 items; items unique",
        "items": {"type": "STRING"},
    }
    assert props["old"] == {"type": "BOOLEAN", "description": "deprecated"}
    assert props["secret"] == {"type": "STRING"}


def test_unbounded_sentinels_and_silly_numbers_say_nothing() -> None:
    safe = 9007199254740991
    out = clean({"type": "integer", "minimum": -safe, "maximum": safe, "exclusiveMinimum": 1e300})
    assert out == {"type": "INTEGER"}
    assert clean({"type": "integer", "minimum": True, "maxLength": -1, "minItems": 2.5}) == {"type": "INTEGER"}


def test_a_default_the_description_already_states_is_not_repeated() -> None:
    out = clean({"type": "boolean", "description": "Replace all (default false)", "default": False})
    assert out["description"] == "Replace all (default false)"


def test_type_lists_become_one_type_and_nullable() -> None:
    assert clean({"type": ["string", "null"]}) == {"type": "STRING", "nullable": True}
    assert clean({"type": ["null", "integer", "string"]}) == {
        "type": "INTEGER",
        "description": "accepts: integer | string",
        "nullable": True,
    }
    assert clean({"type": "null"}) == {"type": "STRING", "nullable": True}
    assert clean({"type": "OBJECT", "properties": {"a": {"type": "Boolean"}}})["properties"]["a"] == {"type": "BOOLEAN"}
    assert clean({"type": "string", "nullable": True}) == {"type": "STRING", "nullable": True}


def test_missing_type_is_inferred_from_the_keywords() -> None:
    assert clean({"properties": {"a": {}}})["type"] == "OBJECT"
    assert clean({"items": {"type": "string"}})["type"] == "ARRAY"
    assert clean({"enum": [1, 2]}) == {"type": "INTEGER", "description": "one of: 1, 2"}
    assert clean({"enum": [True, False]})["type"] == "BOOLEAN"
    assert clean({"enum": [1, 2.5]})["type"] == "NUMBER"
    assert clean({"pattern": "x"})["type"] == "STRING"
    assert clean({"maximum": 3})["type"] == "NUMBER"
    # an untyped property (Claude Code's Workflow `args`) has to be something: a string
    assert clean({"type": "object", "properties": {"args": {"description": "Any."}}})["properties"]["args"] == {
        "type": "STRING",
        "description": "Any.",
    }


def test_enum_values_are_strings_on_string_schemas_only() -> None:
    assert clean({"type": "string", "enum": ["a", 1, True, None, "a", {"k": 1}]}) == {
        "type": "STRING",
        "enum": ["a", "1", "true", '{"k":1}'],
        "nullable": True,
    }
    assert clean({"type": "integer", "enum": [1, 2, 3]}) == {"type": "INTEGER", "description": "one of: 1, 2, 3"}
    assert clean({"type": "string", "enum": []}) == {"type": "STRING"}
    assert clean({"type": "string", "enum": [None]}) == {"type": "STRING", "nullable": True}


def test_const_becomes_an_enum_or_a_description() -> None:
    assert clean({"const": "fixed"}) == {"type": "STRING", "enum": ["fixed"]}
    assert clean({"type": "integer", "const": 7}) == {"type": "INTEGER", "description": "must be 7"}
    assert clean({"const": None}) == {"type": "STRING", "nullable": True}


def test_format_moves_to_the_description() -> None:
    assert clean({"type": "string", "format": "date-time"}) == {"type": "STRING", "description": "format: date-time"}
    assert clean({"type": "string", "format": "enum", "enum": ["a"]}) == {"type": "STRING", "enum": ["a"]}


def test_title_stands_in_for_a_missing_description() -> None:
    assert clean({"type": "string", "title": "File path"}) == {"type": "STRING", "description": "File path"}
    assert clean({"type": "string", "title": "T", "description": "D"}) == {"type": "STRING", "description": "D"}


def test_refs_are_inlined_from_defs_definitions_and_pointers() -> None:
    schema = {
        "$defs": {"Name": {"type": "string", "description": "A name."}},
        "definitions": {"Age": {"type": "integer"}},
        "type": "object",
        "properties": {
            "name": {"$ref": "#/$defs/Name"},
            "age": {"$ref": "#/definitions/Age", "description": "Years."},
            "again": {"$ref": "#/properties/name"},
            "escaped": {"$ref": "#/$defs/N%61me"},
            "remote": {"$ref": "https://example.com/schema.json"},
            "missing": {"$ref": "#/$defs/Nope"},
        },
    }
    props = clean(schema)["properties"]
    assert props["name"] == {"type": "STRING", "description": "A name."}
    assert props["age"] == {"type": "INTEGER", "description": "Years."}  # the sibling description wins
    assert props["again"] == props["name"]
    assert props["escaped"] == props["name"]
    assert props["remote"] == {"type": "STRING"}
    assert props["missing"] == {"type": "STRING"}


def test_a_ref_named_like_a_root_def_resolves_even_when_nested_defs_are_used() -> None:
    schema = {"$defs": {"Leaf": {"type": "boolean"}}, "properties": {"x": {"$ref": "#/properties/y/$defs/Leaf"}}}
    assert clean(schema)["properties"]["x"] == {"type": "BOOLEAN"}


def test_recursive_refs_end_in_a_leaf() -> None:
    schema = {
        "$defs": {
            "Node": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}
        },
        "$ref": "#/$defs/Node",
    }
    out = clean(schema)
    assert out == {
        "type": "OBJECT",
        "properties": {"kids": {"type": "ARRAY", "items": {"type": "OBJECT", "properties": {}}}},
    }
    assert clean({"$ref": "#"}) == {"type": "OBJECT", "properties": {}}
    assert clean({"properties": {"self": {"$ref": "#"}}}) == {
        "type": "OBJECT",
        "properties": {"self": {"type": "OBJECT", "properties": {}}},
    }


def test_shared_refs_do_not_blow_up() -> None:
    """Each level points at the next one twice: 2**40 paths if expanded naively."""
    defs = {
        f"L{i}": {
            "type": "object",
            "properties": {"a": {"$ref": f"#/$defs/L{i + 1}"}, "b": {"$ref": f"#/$defs/L{i + 1}"}},
        }
        for i in range(40)
    }
    defs["L40"] = {"type": "string"}
    started = time.perf_counter()
    out = clean_schema({"$defs": defs, "$ref": "#/$defs/L0"})
    assert time.perf_counter() - started < 2
    assert schema_problems(out) == []


def test_all_of_is_merged() -> None:
    schema = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer"}, "a": {"description": "The a."}}, "required": ["b", "a"]},
        ],
        "description": "Both.",
    }
    assert clean(schema) == {
        "type": "OBJECT",
        "description": "Both.",
        "properties": {"a": {"type": "STRING", "description": "The a."}, "b": {"type": "INTEGER"}},
        "required": ["a", "b"],
    }


def test_any_of_takes_the_richest_branch_and_names_the_others() -> None:
    schema = {"anyOf": [{"type": "string"}, {"type": "object", "properties": {"p": {"type": "string"}}}]}
    assert clean(schema) == {
        "type": "OBJECT",
        "description": "accepts: string | object",
        "properties": {"p": {"type": "STRING"}},
    }
    same = {
        "oneOf": [
            {"type": "object", "properties": {"a": {}}},
            {"type": "object", "properties": {"b": {}}, "required": ["b"]},
        ]
    }
    out = clean(same)
    assert out["properties"] == {"a": {"type": "STRING"}}
    assert "required" not in out  # what one alternative requires, the other may lack
    assert out["description"] == "one of 2 object shapes; the richest is declared"


def test_an_optional_model_keeps_its_required_fields() -> None:
    schema = {
        "anyOf": [{"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}, {"type": "null"}]
    }
    assert clean(schema) == {
        "type": "OBJECT",
        "nullable": True,
        "properties": {"x": {"type": "INTEGER"}},
        "required": ["x"],
    }


def test_a_union_of_string_constants_is_an_enum() -> None:
    schema = {"oneOf": [{"const": "a"}, {"const": "b", "description": "B."}, {"enum": ["c", "d"]}, {"type": "null"}]}
    assert clean(schema) == {"type": "STRING", "enum": ["a", "b", "c", "d"], "nullable": True}


def test_only_null_alternatives() -> None:
    assert clean({"anyOf": [{"type": "null"}]}) == {"type": "STRING", "nullable": True}
    assert clean({"anyOf": []}) == {"type": "OBJECT", "properties": {}}  # an untyped root reads as arguments
    assert clean({"properties": {"x": {"anyOf": []}}})["properties"]["x"] == {"type": "STRING"}


def test_required_lists_unique_existing_properties_only() -> None:
    schema = {"type": "object", "properties": {"a": {}, "b": {}}, "required": ["b", "a", "b", "ghost", 3]}
    assert clean(schema)["required"] == ["b", "a"]
    assert "required" not in clean({"type": "object", "properties": {"a": {}}, "required": ["ghost"]})
    assert "required" not in clean({"type": "object", "properties": {"a": {}}, "required": "a"})
    assert "required" not in clean({"type": "object", "required": ["a"]})


def test_properties_and_items_only_where_the_type_allows_them() -> None:
    assert clean({"type": "string", "properties": {"a": {}}, "items": {}, "required": ["a"]}) == {"type": "STRING"}
    assert clean({"type": "object", "properties": {"a": "object", "b": True, "c": None}})["properties"] == {
        "a": {"type": "STRING"},
        "b": {"type": "STRING"},
        "c": {"type": "STRING"},
    }


def test_items_is_always_a_schema() -> None:
    assert clean({"type": "array"})["items"] == {"type": "STRING"}
    assert clean({"type": "array", "items": True})["items"] == {"type": "STRING"}
    assert clean({"type": "array", "items": [{"type": "integer"}, {"type": "string"}]})["items"] == {"type": "INTEGER"}
    assert clean({"type": "array", "prefixItems": [{"type": "boolean"}], "items": False})["items"] == {
        "type": "BOOLEAN"
    }
    nested = clean({"type": "array", "items": {"type": "array"}})
    assert nested["items"] == {"type": "ARRAY", "items": {"type": "STRING"}}


def test_bare_objects_stay_free_form() -> None:
    """A free-form object says `properties: {}` (proto3 cannot tell it from no properties)."""
    assert clean({"type": "object"}) == {"type": "OBJECT", "properties": {}}
    free = {"type": "object", "properties": {}, "additionalProperties": True}
    assert clean(free) == {"type": "OBJECT", "properties": {}}
    assert clean({"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"}}}) == {
        "type": "OBJECT",
        "description": "any keys, array of integer values",
        "properties": {},
    }


def test_depth_is_bounded() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(200):
        deep = {"type": "object", "properties": {"n": deep}}
    out = clean_schema(deep, max_depth=5)
    assert schema_problems(out, max_depth=5) == []
    level, depth = out, 0
    while level.get("properties"):
        level, depth = level["properties"]["n"], depth + 1
    assert depth == 5 and level == {"type": "OBJECT", "properties": {}}
    arrays: dict[str, Any] = {"type": "string"}
    for _ in range(200):
        arrays = {"type": "array", "items": arrays}
    assert schema_problems(clean_schema(arrays), max_depth=25) == []
    assert clean_schema({"type": "array", "items": {"type": "string"}}, max_depth=0) == {
        "type": "ARRAY",
        "items": {"type": "STRING"},
    }


def test_deep_all_of_nesting_does_not_exhaust_the_stack() -> None:
    nested: dict[str, Any] = {"type": "integer"}
    for _ in range(5000):
        nested = {"allOf": [nested]}
    assert schema_problems(clean_schema(nested)) == []


def test_junk_in() -> None:
    for junk in (None, True, False, 3, "object", ["type"], {}):
        assert clean_schema(junk) == {"type": "OBJECT", "properties": {}}
        assert clean_tool_parameters(junk) is None
    assert clean({"type": 5, "description": 7, "properties": []}) == {"type": "OBJECT", "properties": {}}


def test_the_input_is_not_mutated_and_not_shared() -> None:
    schema = {
        "$defs": {"E": {"type": "string", "enum": ["a", "b"]}},
        "type": "object",
        "properties": {"e": {"$ref": "#/$defs/E"}, "l": {"type": "array", "items": {"type": "string"}}},
        "required": ["e"],
    }
    before = copy.deepcopy(schema)
    out = clean_schema(schema)
    assert schema == before
    out["properties"]["e"]["enum"].append("c")
    out["required"].append("l")
    assert schema == before


def test_tool_parameters_none_without_arguments() -> None:
    for empty in ({"type": "object"}, {"type": "object", "properties": {}, "required": []}, {"type": "string"}):
        assert clean_tool_parameters(empty) is None
        assert clean_tool_parameters(empty, upstream_model="gemini-3-flash") is None
    parameters = clean_tool_parameters({"type": ["object", "null"], "properties": {"a": {"type": "string"}}})
    assert parameters == {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}}


def test_tool_parameters_for_claude_always_have_a_schema() -> None:
    """Claude behind Cloud Code fails without an input schema ("input_schema: Field required")."""
    parameters = clean_tool_parameters({"type": "object", "properties": {}}, upstream_model="claude-opus-4-6-thinking")
    assert parameters is not None and parameters_problems(parameters) == []
    assert list(parameters["properties"]) == [NO_PARAMETERS_PLACEHOLDER]
    assert "required" not in parameters
    real = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert clean_tool_parameters(real, upstream_model="claude-sonnet-4-6") == clean_tool_parameters(real)


def test_cleaning_is_idempotent_on_the_real_tool_sets() -> None:
    for case in CASES:
        for schema in orjson.loads((GOLDEN / case / "in.json").read_bytes()).values():
            once = clean_schema(schema)
            assert clean_schema(once) == once


def test_fast_enough_per_request() -> None:
    """Claude Code and Codex send 12-40 tools a request; cleaning them must cost well under a millisecond each."""
    tools = [s for case in CASES for s in orjson.loads((GOLDEN / case / "in.json").read_bytes()).values()]
    started = time.perf_counter()
    for _ in range(50):
        for schema in tools:
            clean_tool_parameters(schema)
    per_tool = (time.perf_counter() - started) / (50 * len(tools))
    assert per_tool < 0.001, f"{per_tool * 1e6:.0f} µs per tool"


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "object", "additionalProperties": False, "properties": {"a": {"type": "string"}}},
        {"type": ["string", "null"]},
        {"description": "no type"},
        {"type": "integer", "enum": ["1"]},
        {"type": "string", "enum": [1]},
        {"type": "string", "properties": {"a": {"type": "string"}}},
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "a"]},
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]},
        {"type": "array"},
        {"type": "array", "items": {"type": "string", "minLength": 1}},
        {"type": "OBJECT", "properties": {"a": {"type": "STRING", "nullable": False}}},
    ],
)
def test_the_checker_rejects_what_cloud_code_rejects(bad: dict[str, Any]) -> None:
    assert schema_problems(bad) != []


def test_the_checker_wants_arguments_at_the_root() -> None:
    assert parameters_problems({"type": "OBJECT"}) != []
    assert parameters_problems({"type": "STRING"}) != []
    assert parameters_problems({"type": "OBJECT", "properties": {"a": {"type": "STRING"}}}) == []


def test_unions_inside_unions_collapse_too() -> None:
    schema = {"anyOf": [{"anyOf": [{"type": "integer"}, {"type": "null"}]}, {"oneOf": [{"type": "integer"}]}]}
    assert clean({"properties": {"n": schema}})["properties"]["n"] == {
        "type": "INTEGER",
        "description": "one of 2 integer shapes; the richest is declared",
        "nullable": True,
    }
    deep: dict[str, Any] = {"type": "boolean"}
    for _ in range(5000):
        deep = {"anyOf": [deep, {"type": "null"}]}
    assert schema_problems(clean_schema(deep)) == []
