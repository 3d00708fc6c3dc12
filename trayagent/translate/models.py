"""Which upstream model serves a requested model name: user mapping, wildcards, built-in aliases, else as is.

Pure. `ModelRouter` compiles the rules once per config; `resolve` is a dict lookup for names seen before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

RouteRule = Literal["mapping", "wildcard", "alias", "passthrough"]

# Common client defaults, so tools configured for other vendors work unchanged (spec/upstream.md).
DEFAULT_ALIASES: tuple[tuple[str, str], ...] = (
    ("gpt-4o*", "gemini-2.5-flash"),
    ("gpt-4*", "gemini-2.5-flash"),
    ("gpt-3.5*", "gemini-2.5-flash"),
    ("claude-*sonnet*", "claude-sonnet-4-6"),
    ("claude-*opus*", "claude-opus-4-6-thinking"),
    ("claude-*haiku*", "gemini-2.5-flash"),
)
_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Route:
    requested: str
    upstream: str
    rule: RouteRule


@dataclass(frozen=True, slots=True)
class _Pattern:
    text: str
    target: str
    regex: re.Pattern[str]

    @property
    def specificity(self) -> int:
        return len(self.text.replace("*", ""))


def normalize(requested: str) -> str:
    """The bare model name: Gemini clients send `models/x`; names compare case-insensitively."""
    name = requested.strip()
    if name.startswith("models/"):
        name = name[len("models/") :]
    return name.lower()


def _compile(patterns: Mapping[str, str] | tuple[tuple[str, str], ...]) -> tuple[_Pattern, ...]:
    items = patterns.items() if isinstance(patterns, Mapping) else patterns
    compiled = [
        _Pattern(key.lower(), target, re.compile(".*".join(map(re.escape, key.lower().split("*")))))
        for key, target in items
        if "*" in key
    ]
    # Most specific first; equal specificity: the longer pattern, then alphabetical, so the order is stable.
    return tuple(sorted(compiled, key=lambda p: (-p.specificity, -len(p.text), p.text)))


class ModelRouter:
    def __init__(self, mapping: Mapping[str, str]) -> None:
        self._exact = {normalize(k): v for k, v in mapping.items() if "*" not in k}
        self._wildcards = _compile(mapping)
        self._aliases = _compile(DEFAULT_ALIASES)
        self._cache: dict[str, Route] = {}

    def resolve(self, requested: str) -> Route:
        route = self._cache.get(requested)
        if route is None:
            route = self._route(requested)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()  # client-chosen names: keep the memory bounded
            self._cache[requested] = route
        return route

    def _route(self, requested: str) -> Route:
        name = normalize(requested)
        if name in self._exact:
            return Route(requested, self._exact[name], "mapping")
        for pattern in self._wildcards:
            if pattern.regex.fullmatch(name):
                return Route(requested, pattern.target, "wildcard")
        for pattern in self._aliases:
            if pattern.regex.fullmatch(name):
                return Route(requested, pattern.target, "alias")
        return Route(requested, name, "passthrough")
