"""The notes the tool-schema cleaner writes into a description: what a JSON Schema keyword said that Gemini's
Schema cannot say (a pattern, a length, a bound, a default), as short phrases the model reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeGuard

import orjson

# zod and friends write ±(2**53 - 1) to mean "no bound": saying so in a description is noise.
_NO_BOUND: Final = 2**53 - 1
_BOUND_PHRASES: Final = (
    ("minimum", "minimum {}"),
    ("maximum", "maximum {}"),
    ("exclusiveMinimum", "greater than {}"),
    ("exclusiveMaximum", "less than {}"),
    ("multipleOf", "a multiple of {}"),
)
_COUNT_PHRASES: Final = (  # keyword, the phrase for one, the phrase for any other count
    ("minLength", "at least 1 character", "at least {} characters"),
    ("maxLength", "at most 1 character", "at most {} characters"),
    ("minItems", "at least 1 item", "at least {} items"),
    ("maxItems", "at most 1 item", "at most {} items"),
    ("minProperties", "at least 1 property", "at least {} properties"),
    ("maxProperties", "at most 1 property", "at most {} properties"),
)
_NOTE_KEYS: Final = frozenset(
    {"pattern", "format", "uniqueItems", "default", "deprecated"}
    | {key for key, _ in _BOUND_PHRASES}
    | {key for key, _, _ in _COUNT_PHRASES}
)
_MAX_ENUM_HINT: Final = 24
_MAX_HINT_CHARS: Final = 160


def constraint_notes(flat: Mapping[str, Any], hints: list[str]) -> None:
    """What Gemini would refuse as a keyword but the model should still know, as short phrases."""
    if _NOTE_KEYS.isdisjoint(flat):  # most schemas: nothing to note, and this runs for every node
        return
    pattern = flat.get("pattern")
    if isinstance(pattern, str):
        hints.append(_clip("pattern: " + pattern))
    fmt = flat.get("format")
    if isinstance(fmt, str) and fmt and fmt != "enum":
        hints.append(_clip("format: " + fmt))
    for key, phrase in _BOUND_PHRASES:
        bound = flat.get(key)
        if _is_number(bound) and abs(bound) < _NO_BOUND:
            hints.append(phrase.format(_number(bound)))
    for key, one, many in _COUNT_PHRASES:
        count = flat.get(key)
        if isinstance(count, int) and not isinstance(count, bool) and 0 <= count < _NO_BOUND:
            hints.append(one if count == 1 else many.format(count))
    if flat.get("uniqueItems") is True:
        hints.append("items unique")
    described = flat.get("description")
    if flat.get("default") is not None and not (isinstance(described, str) and "default" in described.lower()):
        hints.append(_clip("default: " + _json(flat["default"])))
    if flat.get("deprecated") is True:
        hints.append("deprecated")


def describe(flat: Mapping[str, Any], hints: list[str]) -> str:
    """The description to send: the schema's own (or its title), the notes in parentheses after it."""
    base = flat.get("description")
    if not isinstance(base, str) or not base.strip():
        title = flat.get("title")  # `title` is no Gemini keyword; it still names the thing
        base = title if isinstance(title, str) else ""
    if not hints:
        return base
    joined = "; ".join(hints)
    return f"{base} ({joined})" if base else joined


def one_of(values: list[Any]) -> str:
    """A note naming the values an enum allowed where Gemini takes no enum (non-string types)."""
    shown = [_json(value) for value in values[:_MAX_ENUM_HINT]]
    more = ", …" if len(values) > _MAX_ENUM_HINT else ""
    return "must be " + shown[0] if len(values) == 1 else _clip("one of: " + ", ".join(shown) + more)


def as_text(value: Any) -> str:
    """An enum value as the string Gemini wants: strings as they are, anything else as its JSON."""
    return value if isinstance(value, str) else _json(value)


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an int past 64 bits, or something JSON never holds
        return str(value)


def _number(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value  # not NaN


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_HINT_CHARS else text[: _MAX_HINT_CHARS - 1] + "…"
