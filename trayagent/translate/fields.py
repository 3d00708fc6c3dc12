"""Request field readers for every front end: each checks one field's type or range and raises a BadRequest whose
message opens with the field's path. A `Fields` holds one protocol's wording; the front ends' three are at the end.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

from trayagent.errors import BadRequest

_NUMBERS: Final = (int, float)  # a tuple, not `int | float`: that union is built anew at every call


def at(path: str, key: str | int) -> str:
    """A field path as OpenAI's docs spell it: `messages[2].content[0].image_url.url` (a key alone at the top)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def refuse(path: str, why: str) -> BadRequest:
    return BadRequest(f"{path}: {why}")


def kind_of(value: Any) -> str:
    """What a JSON value is, in words: `null`, `a boolean`, `an array`…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


@dataclass(frozen=True, slots=True)
class Fields:
    """Readers worded one protocol's way. `shown`: the message ends with what was sent instead (its kind for a
    wrong type, its value for a wrong value). `boolean`: how a boolean is named. `unknown`: why an unknown key is
    refused. A reader taking (obj, key, path) reads `obj[key]`, an absent or null value being the default."""

    shown: bool = False
    boolean: str = "true or false"
    unknown: str = "unsupported field"

    def expected(self, path: str, what: str, got: str) -> BadRequest:
        return refuse(path, f"expected {what}, got {got}" if self.shown else f"expected {what}")

    def check_keys(self, obj: Mapping[str, Any], known: Collection[str], path: str) -> None:
        for key in obj:
            if key not in known:
                raise refuse(at(path, key), self.unknown)

    # -- a value of one type ----------------------------------------------------------------------------------

    def as_dict(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.expected(path, "an object", kind_of(value))
        return value

    def as_list(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.expected(path, "an array", kind_of(value))
        return value

    def as_str(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.expected(path, "a string", kind_of(value))
        return value

    def as_bool(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.expected(path, self.boolean, repr(value))
        return value

    # -- a key of an object (the path is built only for the error: these run on every request) -----------

    def non_empty(self, obj: Mapping[str, Any], key: str, path: str = "") -> str:
        value = obj.get(key)
        if not isinstance(value, str) or not value:
            raise self.expected(at(path, key), "a non-empty string", repr(value))
        return value

    def string(self, obj: Mapping[str, Any], key: str, path: str = "", default: str | None = None) -> str:
        """`obj[key]`, a string; `default` when the key is absent (a null is still no string)."""
        value = obj.get(key, default)
        return value if isinstance(value, str) else self.as_str(value, at(path, key))

    def optional_dict(self, obj: Mapping[str, Any], key: str, path: str = "") -> dict[str, Any] | None:
        value = obj.get(key)
        if value is None or isinstance(value, dict):
            return value
        return self.as_dict(value, at(path, key))

    def optional_str(self, obj: Mapping[str, Any], key: str, path: str = "") -> str | None:
        value = obj.get(key)
        if value is None or isinstance(value, str):
            return value
        return self.as_str(value, at(path, key))

    def flag(self, obj: Mapping[str, Any], key: str, default: bool, path: str = "") -> bool:
        value = obj.get(key)
        if value is None:
            return default
        return value if isinstance(value, bool) else self.as_bool(value, at(path, key))

    def number(self, obj: Mapping[str, Any], key: str, low: float, high: float, path: str = "") -> float | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, _NUMBERS) or not low <= value <= high:
            raise self.expected(at(path, key), f"a number from {low:g} to {high:g}", repr(value))
        return value

    def positive(self, obj: Mapping[str, Any], key: str, path: str = "", *, required: bool = False) -> int | None:
        """An integer of at least 1; None when absent and not `required`."""
        value = obj.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.expected(at(path, key), "a positive integer", repr(value))
        return value


# Chat and legacy completions show what was sent; Responses says what it expected; Anthropic names booleans so.
OPENAI_CHAT_FIELDS: Final = Fields(
    shown=True, unknown="unknown field (not part of OpenAI's API, or not one this proxy can honour)"
)
OPENAI_RESPONSES_FIELDS: Final = Fields()
ANTHROPIC_FIELDS: Final = Fields(boolean="a boolean")
