"""Model routing: exact mapping, wildcards by specificity, default aliases, pass-through."""

from __future__ import annotations

import pytest

from trayagent.translate.models import ModelRouter

MAPPING = {
    "gpt-4o": "gemini-3-pro-high",
    "gpt-*": "gemini-2.5-pro",
    "gpt-4o-*": "gemini-3-flash",
    "claude-*": "claude-sonnet-4-6",
    "claude-opus-*": "claude-opus-4-6-thinking",
    "*": "gemini-2.5-flash-lite",
}


@pytest.mark.parametrize(
    ("requested", "upstream", "rule"),
    [
        ("gpt-4o", "gemini-3-pro-high", "mapping"),  # exact beats every wildcard
        ("GPT-4o", "gemini-3-pro-high", "mapping"),  # names compare case-insensitively
        ("gpt-4o-mini", "gemini-3-flash", "wildcard"),  # "gpt-4o-" (7) is more specific than "gpt-" (4)
        ("gpt-5", "gemini-2.5-pro", "wildcard"),
        ("claude-opus-4-1", "claude-opus-4-6-thinking", "wildcard"),
        ("claude-3-haiku", "claude-sonnet-4-6", "wildcard"),  # user rules come before the built-in aliases
        ("anything-else", "gemini-2.5-flash-lite", "wildcard"),
        ("models/gpt-4o", "gemini-3-pro-high", "mapping"),  # the Gemini SDK's prefix is ignored
    ],
)
def test_user_mapping(requested: str, upstream: str, rule: str):
    route = ModelRouter(MAPPING).resolve(requested)
    assert (route.upstream, route.rule, route.requested) == (upstream, rule, requested)


@pytest.mark.parametrize(
    ("requested", "upstream", "rule"),
    [
        ("gpt-4o-mini", "gemini-2.5-flash", "alias"),
        ("gpt-4-turbo", "gemini-2.5-flash", "alias"),
        ("gpt-3.5-turbo", "gemini-2.5-flash", "alias"),
        ("claude-3-5-sonnet-20241022", "claude-sonnet-4-6", "alias"),
        ("claude-sonnet-4-5", "claude-sonnet-4-6", "alias"),
        ("claude-opus-4-1-20250805", "claude-opus-4-6-thinking", "alias"),
        ("claude-3-5-haiku-latest", "gemini-2.5-flash", "alias"),
        ("gemini-3-pro-high", "gemini-3-pro-high", "passthrough"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash", "passthrough"),
        ("gpt-oss-120b-medium", "gpt-oss-120b-medium", "passthrough"),  # not gpt-4/3.5
        ("my-own-model", "my-own-model", "passthrough"),
    ],
)
def test_default_aliases(requested: str, upstream: str, rule: str):
    route = ModelRouter({}).resolve(requested)
    assert (route.upstream, route.rule) == (upstream, rule)


def test_wildcards_match_the_whole_name_and_escape_the_rest():
    router = ModelRouter({"gpt-4.1*": "a", "x*y": "b"})
    assert router.resolve("gpt-4.1-mini").upstream == "a"
    assert router.resolve("gpt-4x1").upstream == "gemini-2.5-flash"  # "." is literal: the alias applies
    assert router.resolve("x-and-y").upstream == "b"
    assert router.resolve("x-and-y-not").rule == "passthrough"


def test_equal_specificity_is_decided_the_same_way_every_time():
    one = ModelRouter({"a*c": "first", "ab*": "second"})
    other = ModelRouter({"ab*": "second", "a*c": "first"})
    assert one.resolve("abc").upstream == other.resolve("abc").upstream


def test_repeated_names_come_from_the_cache():
    router = ModelRouter(MAPPING)
    assert router.resolve("gpt-5") is router.resolve("gpt-5")
