"""How deep a client's JSON may nest, checked without a second parse or a walk in Python.

orjson parses up to 1,024 levels but serialises only up to a fixed depth (254 in orjson 3), and the front ends
recurse over what they are given: a body nested a few hundred levels deep used to pass the parse and fail later
as a 500. Every JSON the client sends (the body, and JSON inside its strings such as tool-call arguments) is held
to MAX_NESTING levels, well inside what Google's request envelope and our own recursion can carry.

The check is orjson itself: a value wrapped in (orjson's limit − MAX_NESTING) lists serialises exactly when the
value nests at most MAX_NESTING levels. That is one pass in C, about a seventh of the parse it follows, where a
walk over the parsed value in Python costs more than the parse.
"""

from __future__ import annotations

import threading
from typing import Any, Final

import orjson

MAX_NESTING: Final = 128  # levels of objects and arrays; serde_json's default, far beyond any real request


def depth(value: Any) -> int:
    """Levels of objects and arrays in `value` (a scalar is 0, `[]` is 1, `{"a": [1]}` is 2)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _serialisable_depth() -> int:
    """The deepest nesting orjson.dumps accepts (probed once: it is not part of orjson's API)."""

    def fits(levels: int) -> bool:
        value: Any = 0
        for _ in range(levels):
            value = [value]
        try:
            orjson.dumps(value)
        except orjson.JSONEncodeError:
            return False
        return True

    low, high = 1, 4096  # fits(low); find the largest that fits below `high`
    if fits(high):
        return high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


_PADDING: Final = _serialisable_depth() - MAX_NESTING  # lists wrapped around a value before serialising it
_local = threading.local()  # each thread its own wrapper: its innermost slot holds the value being checked


def _wrapper() -> list[Any]:
    """(outermost, innermost): `_PADDING` nested lists, the innermost one with one slot."""
    pair: list[Any] | None = getattr(_local, "pair", None)
    if pair is None:
        innermost: list[Any] = [None]
        outer: list[Any] = innermost
        for _ in range(_PADDING - 1):
            outer = [outer]
        pair = _local.pair = [outer, innermost]
    return pair


_COUNTED_BELOW: Final = 4096  # bytes; counting brackets costs about 1 ns a byte, so only short texts are counted


def may_nest_too_deep(text: bytes) -> bool:
    """A sound pre-check on the raw JSON: nesting N levels takes N opening brackets, and 2N bytes."""
    if len(text) <= 2 * MAX_NESTING:
        return False
    if len(text) < _COUNTED_BELOW:
        return text.count(b"[") + text.count(b"{") > MAX_NESTING
    return True


def too_deep(value: Any) -> bool:
    """Whether `value` (parsed JSON) nests deeper than MAX_NESTING levels."""
    if not isinstance(value, dict | list):
        return False
    if _PADDING < 1:  # an orjson that serialises less deep than we allow: count in Python
        return depth(value) > MAX_NESTING
    outer, innermost = _wrapper()
    innermost[0] = value
    try:
        orjson.dumps(outer)
    except orjson.JSONEncodeError as exc:
        if "ecursion" in str(exc):
            return True
        return depth(value) > MAX_NESTING  # something else orjson refuses: count in Python
    finally:
        innermost[0] = None
    return False


def nesting_message(what: str) -> str:
    return f"{what} nests objects and arrays more than {MAX_NESTING} levels deep; trayagent accepts at most that"
