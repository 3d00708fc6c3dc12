"""Model routing: the upstream model that serves a requested model name.

Order: the user's `models.mapping` (exact, then wildcards by specificity), requested names that already are
upstream models, the built-in aliases for common clients, then pass-through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

# So OpenAI and Anthropic clients work unchanged (spec/upstream.md "Model names").
DEFAULT_ALIASES: Final[Mapping[str, str]] = {
    "gpt-4*": "gemini-2.5-flash",
    "gpt-3.5*": "gemini-2.5-flash",
    "gpt-4o*": "gemini-2.5-flash",
    "claude-*sonnet*": "claude-sonnet-4-6",
    "claude-*opus*": "claude-opus-4-6-thinking",
    "claude-*haiku*": "gemini-2.5-flash",
    # Family fallbacks, least specific, so names clients adopt tomorrow (Codex's default `gpt-6.2-sol`, a new
    # Claude) reach a model Google serves instead of a 404; the rules above still win where they match.
    "gpt-*": "gemini-3-pro-high",
    "claude-*": "claude-sonnet-4-6",
}

# Names the backend serves. A client asking for one of them gets it, even when a built-in alias would
# match: without this, "claude-*sonnet*" would turn a request for claude-sonnet-4-6-thinking into
# claude-sonnet-4-6. The user's own mapping still wins over this list.
KNOWN_UPSTREAM_MODELS: Final[frozenset[str]] = frozenset(
    {
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-3-flash",
        "gemini-3-pro-high",
        "gemini-3-pro-low",
        "gemini-3-pro-image",
        "claude-sonnet-4-6",
        "claude-sonnet-4-6-thinking",
        "claude-opus-4-6-thinking",
        "gpt-oss-120b-medium",
    }
)

RouteSource = Literal["mapping", "mapping_wildcard", "upstream", "alias", "passthrough"]


@dataclass(frozen=True, slots=True)
class Route:
    """Where a requested name went and which rule sent it there (for logs and `X-Mapped-Model`)."""

    model: str
    source: RouteSource
    rule: str | None = None  # the mapping key or alias pattern that matched


@dataclass(frozen=True, slots=True)
class _Pattern:
    key: str
    target: str
    regex: re.Pattern[str]


def normalize_name(requested: str) -> str:
    """The lookup form of a requested name: trimmed, lower-case, without the Gemini SDK's `models/` prefix.

    Matching is case-insensitive because clients capitalise freely ("GPT-4o", "Claude-3-Opus") while
    every upstream id is lower-case; the same holds for pass-through, so "Gemini-2.5-Pro" still works.
    """
    name = requested.strip().lower()
    if name.startswith("models/"):
        name = name[len("models/") :]
    return name


_ROUTES_KEPT: Final = 512


class ModelRouter:
    """Resolves requested model names. Build one per config snapshot; `route` compiles nothing.

    Wildcards: `*` matches any run of characters, including none; everything else is literal. Among
    matching patterns the one with the most non-`*` characters wins; ties go to the pattern with fewer
    `*`, then to the alphabetically first key, so the result never depends on YAML key order.
    """

    __slots__ = ("_aliases", "_exact", "_routes", "_upstream", "_wildcards")

    def __init__(
        self,
        mapping: Mapping[str, str] | None = None,
        *,
        upstream_models: Iterable[str] = KNOWN_UPSTREAM_MODELS,
        aliases: Mapping[str, str] = DEFAULT_ALIASES,
    ) -> None:
        mapping = mapping or {}
        exact: dict[str, tuple[str, str]] = {}
        wildcard: dict[str, str] = {}
        # Sorted so that keys differing only in case resolve the same way whatever their file order.
        for key in sorted(mapping):
            target = mapping[key].strip().removeprefix("models/")
            folded = normalize_name(key)
            if "*" in folded:
                wildcard.setdefault(folded, target)
            else:
                exact.setdefault(folded, (key, target))
        self._exact = exact
        self._wildcards = _compile(wildcard)
        self._upstream = frozenset(normalize_name(m) for m in upstream_models)
        self._aliases = _compile({normalize_name(k): v for k, v in aliases.items()})
        self._routes: dict[str, Route] = {}  # the answers so far: clients repeat a handful of names

    def route(self, requested: str) -> Route:
        route = self._routes.get(requested)
        if route is None:
            route = self._match(requested)
            if len(self._routes) >= _ROUTES_KEPT:  # a client sending ever new names costs a rebuild, not memory
                self._routes.clear()
            self._routes[requested] = route
        return route

    def _match(self, requested: str) -> Route:
        name = normalize_name(requested)
        hit = self._exact.get(name)
        if hit is not None:
            return Route(hit[1], "mapping", hit[0])
        for pattern in self._wildcards:
            if pattern.regex.fullmatch(name):
                return Route(pattern.target, "mapping_wildcard", pattern.key)
        if name in self._upstream:
            return Route(name, "upstream")
        for pattern in self._aliases:
            if pattern.regex.fullmatch(name):
                return Route(pattern.target, "alias", pattern.key)
        return Route(name, "passthrough")

    def resolve(self, requested: str) -> str:
        return self.route(requested).model


def resolve_model(requested: str, mapping: Mapping[str, str] | None = None) -> str:
    """One-off resolution (CLI, tests). The proxy keeps a `ModelRouter` per config instead."""
    return ModelRouter(mapping).resolve(requested)


def specificity(pattern: str) -> tuple[int, int]:
    """Sort key of a wildcard pattern, most specific first: more literal characters, then fewer `*`."""
    stars = pattern.count("*")
    return (-(len(pattern) - stars), stars)


def _compile(patterns: Mapping[str, str]) -> tuple[_Pattern, ...]:
    ordered = sorted(patterns, key=lambda key: (specificity(key), key))
    return tuple(_Pattern(key, patterns[key], _wildcard_regex(key)) for key in ordered)


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    # Runs of `*` collapse to one `.*`: same language, no needless backtracking.
    pieces = [re.escape(piece) for piece in re.split(r"\*+", pattern)]
    return re.compile(".*".join(pieces), re.DOTALL)
