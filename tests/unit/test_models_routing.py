"""Model routing: user mapping (exact, then most specific wildcard), upstream names, built-in aliases, pass-through."""

from __future__ import annotations

import pytest

from trayagent.translate.models import DEFAULT_ALIASES, ModelRouter, normalize_name, resolve_model, specificity

# The built-in behaviour with no user mapping, written out.
DEFAULTS = [
    ("gpt-4", "gemini-2.5-flash"),
    ("gpt-4-turbo", "gemini-2.5-flash"),
    ("gpt-4o", "gemini-2.5-flash"),
    ("gpt-4o-mini", "gemini-2.5-flash"),
    ("gpt-4.1", "gemini-2.5-flash"),
    ("gpt-3.5-turbo", "gemini-2.5-flash"),
    ("claude-3-5-sonnet-20241022", "claude-sonnet-4-6"),
    ("claude-sonnet-4-5", "claude-sonnet-4-6"),
    ("claude-3-opus-20240229", "claude-opus-4-6-thinking"),
    ("claude-opus-4-1", "claude-opus-4-6-thinking"),
    ("claude-3-5-haiku-latest", "gemini-2.5-flash"),
    ("claude-haiku-4-5", "gemini-2.5-flash"),
    # Upstream names are served as asked, even where an alias pattern would match them.
    ("claude-sonnet-4-6", "claude-sonnet-4-6"),
    ("claude-sonnet-4-6-thinking", "claude-sonnet-4-6-thinking"),
    ("claude-opus-4-6-thinking", "claude-opus-4-6-thinking"),
    ("gpt-oss-120b-medium", "gpt-oss-120b-medium"),
    # gemini-* and unknown names pass through.
    ("gemini-2.5-pro", "gemini-2.5-pro"),
    ("gemini-3-pro-high", "gemini-3-pro-high"),
    ("gemini-9-ultra-preview", "gemini-9-ultra-preview"),
    ("llama-3-70b", "llama-3-70b"),
    # Family fallbacks: names no rule above knows still reach a model Google serves ("gpt-4*" must not
    # match a prefix of something else: gpt-5 takes the family's default, not gpt-4's).
    ("gpt-5", "gemini-3-pro-high"),
    ("gpt-6.2-sol", "gemini-3-pro-high"),  # Codex's default model
    ("claude-instant-1", "claude-sonnet-4-6"),
    ("claude-future-9", "claude-sonnet-4-6"),
    ("gpt-3", "gemini-3-pro-high"),
    # `models/` prefix (Gemini SDK), case and spaces.
    ("models/gemini-2.5-flash", "gemini-2.5-flash"),
    ("models/gpt-4o", "gemini-2.5-flash"),
    ("GPT-4o", "gemini-2.5-flash"),
    ("Claude-3-Opus", "claude-opus-4-6-thinking"),
    ("Gemini-2.5-Pro", "gemini-2.5-pro"),
    ("  gemini-2.5-pro  ", "gemini-2.5-pro"),
    ("Models/Gemini-3-Flash", "gemini-3-flash"),
]


@pytest.mark.parametrize(("requested", "expected"), DEFAULTS)
def test_defaults(requested: str, expected: str) -> None:
    assert ModelRouter().resolve(requested) == expected
    assert resolve_model(requested, {}) == expected


USER_MAPPING = {
    "gpt-4o": "gemini-3-pro-high",  # exact
    "gpt-4*": "gemini-2.5-pro",  # overrides the built-in alias
    "gpt-4o-*": "gemini-3-flash",
    "claude-*": "claude-sonnet-4-6-thinking",
    "claude-*-opus-*": "claude-opus-4-6-thinking",
    "*-preview": "gemini-3-pro-low",
    "my-model": "models/gemini-2.5-flash",
    "gemini-2.5-flash": "gemini-3-flash",  # a user may redirect even an upstream name
}

ROUTED = [
    ("gpt-4o", "gemini-3-pro-high", "mapping", "gpt-4o"),  # exact beats every wildcard
    ("gpt-4o-mini", "gemini-3-flash", "mapping_wildcard", "gpt-4o-*"),  # 7 literal chars beat 5
    ("gpt-4-turbo", "gemini-2.5-pro", "mapping_wildcard", "gpt-4*"),
    ("claude-3-opus-20240229", "claude-opus-4-6-thinking", "mapping_wildcard", "claude-*-opus-*"),
    ("claude-3-5-haiku", "claude-sonnet-4-6-thinking", "mapping_wildcard", "claude-*"),  # user beats alias
    ("gemini-9-preview", "gemini-3-pro-low", "mapping_wildcard", "*-preview"),
    ("my-model", "gemini-2.5-flash", "mapping", "my-model"),  # target's models/ prefix dropped
    ("MY-MODEL", "gemini-2.5-flash", "mapping", "my-model"),
    ("gemini-2.5-flash", "gemini-3-flash", "mapping", "gemini-2.5-flash"),
    ("claude-sonnet-4-6", "claude-sonnet-4-6-thinking", "mapping_wildcard", "claude-*"),
    ("gpt-3.5-turbo", "gemini-2.5-flash", "alias", "gpt-3.5*"),
    ("gemini-2.5-pro", "gemini-2.5-pro", "upstream", None),
    ("mistral-large", "mistral-large", "passthrough", None),
]


@pytest.mark.parametrize(("requested", "model", "source", "rule"), ROUTED)
def test_user_mapping_comes_first(requested: str, model: str, source: str, rule: str | None) -> None:
    route = ModelRouter(USER_MAPPING).route(requested)
    assert (route.model, route.source, route.rule) == (model, source, rule)


def test_wildcard_specificity_ties_are_deterministic() -> None:
    # Both have 8 literal characters and one `*`; the alphabetically first key wins, whatever the order.
    forward = {"abc*defgh": "first", "abcdefg*h": "second"}
    backward = dict(reversed(list(forward.items())))
    assert ModelRouter(forward).resolve("abcdefgh") == "first"
    assert ModelRouter(backward).resolve("abcdefgh") == "first"
    # Same literal count: fewer stars wins.
    assert ModelRouter({"a*b*c": "two-stars", "ab*c": "one-star"}).resolve("abxc") == "one-star"


def test_keys_differing_only_in_case_resolve_the_same_way_in_any_order() -> None:
    one = {"Fancy": "a", "fancy": "b"}
    other = {"fancy": "b", "Fancy": "a"}
    assert ModelRouter(one).resolve("fancy") == ModelRouter(other).resolve("fancy") == "a"


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("*", "anything-at-all", True),
        ("*", "", True),
        ("gpt-4*", "gpt-4", True),  # `*` may match nothing
        ("a*b", "ab", True),
        ("a*b", "a-b-c", False),  # anchored at both ends
        ("a**b", "axxb", True),
        ("gpt-4.1*", "gpt-4x1", False),  # `.` is literal
        ("gpt-(4)*", "gpt-(4)o", True),  # regex metacharacters are literal
        ("gpt-?", "gpt-x", False),  # only `*` is a wildcard
        ("gpt-?", "gpt-?", True),
        ("*sonnet*", "claude-sonnet-4", True),
    ],
)
def test_wildcard_semantics(pattern: str, name: str, matches: bool) -> None:
    route = ModelRouter({pattern: "target"}, aliases={}, upstream_models=()).route(name)
    assert (route.model == "target") is matches


def test_specificity_order() -> None:
    patterns = ["*", "gpt-*", "gpt-4o*", "gpt-4*", "g*p*t"]
    assert sorted(patterns, key=specificity) == ["gpt-4o*", "gpt-4*", "gpt-*", "g*p*t", "*"]


def test_aliases_and_upstream_list_are_injectable() -> None:
    router = ModelRouter({}, aliases={"foo-*": "bar"}, upstream_models=["foo-special"])
    assert router.resolve("foo-1") == "bar"
    assert router.resolve("foo-special") == "foo-special"
    assert router.resolve("gpt-4o") == "gpt-4o"  # default aliases replaced


def test_builtin_alias_table_is_the_spec_plus_family_fallbacks() -> None:
    assert dict(DEFAULT_ALIASES) == {
        # spec/upstream.md "Model names"
        "gpt-4*": "gemini-2.5-flash",
        "gpt-3.5*": "gemini-2.5-flash",
        "gpt-4o*": "gemini-2.5-flash",
        "claude-*sonnet*": "claude-sonnet-4-6",
        "claude-*opus*": "claude-opus-4-6-thinking",
        "claude-*haiku*": "gemini-2.5-flash",
        # the least specific patterns: a new name of either family
        "gpt-*": "gemini-3-pro-high",
        "claude-*": "claude-sonnet-4-6",
    }


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("models/x", "x"),
        ("MODELS/X", "x"),
        (" x ", "x"),
        ("x/models/y", "x/models/y"),
        ("tunedModels/x", "tunedmodels/x"),
    ],
)
def test_normalize_name(raw: str, normal: str) -> None:
    assert normalize_name(raw) == normal
