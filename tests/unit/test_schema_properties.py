"""Property-based: any JSON Schema (or junk shaped like one) in → a schema Cloud Code accepts out, every time."""

from __future__ import annotations

import copy
import os
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.schema_rules import parameters_problems, schema_problems
from trayagent.translate.schema import clean_schema, clean_tool_parameters

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_value = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
)
# Property names that look like keywords catch a cleaner that confuses a name with a keyword.
names = st.sampled_from(["a", "b", "c", "type", "properties", "items", "$ref", "description", "required", ""])
type_names = st.sampled_from(
    ["string", "number", "integer", "boolean", "array", "object", "null", "STRING", "Object", "enum", "any", ""]
)
types = type_names | st.lists(type_names, max_size=4) | json_leaf
refs = st.sampled_from(
    ["#", "#/$defs/A", "#/$defs/B", "#/definitions/C", "#/properties/a", "#/$defs/A/properties/a", "#/$defs/none"]
) | st.sampled_from(["https://example.com/x.json", "#/%24defs/A", "#/$defs/A~1x", "A", ""])
formats = st.sampled_from(["date-time", "enum", "uri", "email", "int64", "uuid", ""])
numbers = st.integers(min_value=-(2**60), max_value=2**60) | st.floats(allow_nan=False) | json_leaf
counts = st.integers(min_value=-3, max_value=2**54) | json_leaf


def schema_keywords(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A few keywords per node (drawing all of them each time makes generation, not cleaning, the cost)."""
    listed = st.lists(children, max_size=3)
    keywords: dict[str, st.SearchStrategy[Any]] = {
        "type": types,
        "properties": st.dictionaries(names, children, max_size=4) | json_leaf,
        "required": st.lists(names | json_leaf, max_size=4) | json_leaf,
        "items": children | listed,
        "prefixItems": listed,
        "additionalProperties": children,
        "anyOf": listed,
        "oneOf": listed,
        "allOf": listed,
        "$ref": refs,
        "enum": st.lists(json_leaf, max_size=4) | json_leaf,
        "const": json_leaf,
        "nullable": json_leaf,
        "description": st.text(max_size=12) | json_leaf,
        "title": st.text(max_size=6) | json_leaf,
        "default": json_value,
        "examples": st.lists(json_value, max_size=2),
        "pattern": st.text(max_size=6) | json_leaf,
        "format": formats | json_leaf,
        "minLength": counts,
        "maxItems": counts,
        "minProperties": counts,
        "minimum": numbers,
        "exclusiveMaximum": numbers,
        "multipleOf": numbers,
        "uniqueItems": json_leaf,
        "deprecated": json_leaf,
        "$schema": st.just("https://json-schema.org/draft/2020-12/schema"),
        "encrypted": st.booleans(),
        "x-extension": json_value,
        "propertyNames": children,
        "not": children,
    }
    pairs = st.one_of([st.tuples(st.just(key), value) for key, value in keywords.items()])
    return st.lists(pairs, max_size=6).map(dict)


schemas = st.recursive(
    st.booleans() | st.none() | st.just({}) | json_leaf | st.builds(dict, type=type_names),
    schema_keywords,
    max_leaves=10,
)
# A root with definitions, so refs resolve, point at each other and loop. (Deferred: its repr stays short, and
# hypothesis would otherwise warn, an error here, about a 120 kB repr when it reports a failure.)
_documents = st.builds(
    lambda body, defs, definitions: (
        {**body, "$defs": defs, "definitions": definitions} if isinstance(body, dict) else body
    ),
    schemas,
    st.fixed_dictionaries({"A": schemas, "B": schemas}),
    st.fixed_dictionaries({"C": schemas}),
)
documents = st.deferred(lambda: _documents)

# SCHEMA_EXAMPLES=5000 for a longer hunt (with --timeout=0).
EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "500"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def containers(value: Any) -> set[int]:
    found: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list):
            found.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
    return found


@SETTINGS
@given(documents)
def test_any_schema_cleans_to_one_cloud_code_accepts(document: Any) -> None:
    before = copy.deepcopy(document)
    out = clean_schema(document)
    assert document == before, "the input was mutated"
    assert schema_problems(out) == []
    assert not containers(out) & containers(document), "the output shares a dict or list with the input"
    orjson.dumps(out)
    assert clean_schema(out) == out, "cleaning a clean schema changed it"
    parameters = clean_tool_parameters(document)
    assert parameters is None or parameters_problems(parameters) == []
    claude = clean_tool_parameters(document, upstream_model="claude-sonnet-4-6")
    assert claude is not None and parameters_problems(claude) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.integers(min_value=0, max_value=6))
def test_depth_limit_holds(document: Any, max_depth: int) -> None:
    assert schema_problems(clean_schema(document, max_depth=max_depth), max_depth=max_depth) == []
