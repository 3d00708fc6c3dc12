"""Thinking settings and output limits per upstream model family."""

from __future__ import annotations

from typing import Any

import pytest

from trayagent.translate.thinking import (
    ANSWER_MARGIN,
    DEFAULT_ANSWER_ROOM,
    max_output_tokens,
    model_family,
    output_limit,
    set_output_limit,
    thinking_config,
)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gemini-2.5-flash", "gemini-2.5"),
        ("gemini-2.5-pro", "gemini-2.5"),
        ("models/Gemini-2.5-Flash-Lite", "gemini-2.5"),
        ("gemini-3-flash", "gemini-3"),
        ("gemini-3-pro-high", "gemini-3"),
        ("gemini-3.1-pro-preview", "gemini-3"),
        ("gemini-3.8-flash", "gemini-3"),
        ("gemini-4-pro", "gemini-3"),
        ("gemini-3-pro-image", "gemini-3"),
        ("claude-sonnet-4-6", "claude"),
        ("claude-opus-4-6-thinking", "claude"),
        ("claude-opus-5-5", "claude"),
        ("gemini-2.0-flash", "other"),
        ("gemini-flash-latest", "other"),
        ("gpt-oss-120b-medium", "other"),
        ("", "other"),
    ],
)
def test_model_family(model: str, family: str) -> None:
    assert model_family(model) == family


def test_nothing_asked_nothing_sent() -> None:
    for model in ("gemini-2.5-flash", "gemini-3-flash", "claude-opus-4-6-thinking"):
        assert thinking_config(model) is None


def test_models_without_thinking_settings_get_none() -> None:
    for model in ("gemini-3-pro-image", "gemini-2.5-flash-image", "gpt-oss-120b-medium", "gemini-2.0-flash"):
        assert thinking_config(model, effort="high") is None
        assert thinking_config(model, budget=4096) is None


def test_gemini_25_flash_budgets() -> None:
    model = "gemini-2.5-flash"
    assert thinking_config(model, effort="none") == {"thinkingBudget": 0}
    assert thinking_config(model, effort="minimal") == {"thinkingBudget": 512, "includeThoughts": True}
    assert thinking_config(model, effort="low") == {"thinkingBudget": 1024, "includeThoughts": True}
    assert thinking_config(model, effort="medium") == {"thinkingBudget": 8192, "includeThoughts": True}
    assert thinking_config(model, effort="high") == {"thinkingBudget": 24576, "includeThoughts": True}
    assert thinking_config(model, effort="max") == {"thinkingBudget": 24576, "includeThoughts": True}
    assert thinking_config(model, budget=100_000) == {"thinkingBudget": 24576, "includeThoughts": True}
    assert thinking_config(model, budget=0) == {"thinkingBudget": 0}
    assert thinking_config(model, budget=-1) == {"thinkingBudget": -1, "includeThoughts": True}
    assert thinking_config(model, effort="high", include_thoughts=False) == {
        "thinkingBudget": 24576,
        "includeThoughts": False,
    }


def test_gemini_25_pro_cannot_turn_thinking_off() -> None:
    model = "gemini-2.5-pro"
    assert thinking_config(model, effort="none") == {"thinkingBudget": 128, "includeThoughts": False}
    assert thinking_config(model, budget=0) == {"thinkingBudget": 128, "includeThoughts": False}
    assert thinking_config(model, budget=50) == {"thinkingBudget": 128, "includeThoughts": True}
    assert thinking_config(model, effort="max") == {"thinkingBudget": 32768, "includeThoughts": True}


def test_gemini_25_flash_lite_budget_floor() -> None:
    model = "gemini-2.5-flash-lite"
    assert thinking_config(model, effort="none") == {"thinkingBudget": 0}
    assert thinking_config(model, budget=100) == {"thinkingBudget": 512, "includeThoughts": True}


def test_an_explicit_budget_wins_over_effort() -> None:
    assert thinking_config("gemini-2.5-flash", effort="high", budget=2000) == {
        "thinkingBudget": 2000,
        "includeThoughts": True,
    }
    assert thinking_config("claude-opus-4-6-thinking", effort="low", budget=10_000) == {
        "thinkingBudget": 10_000,
        "includeThoughts": True,
    }
    assert thinking_config("gemini-3-flash", effort="high", budget=1000) == {
        "thinkingLevel": "LOW",
        "includeThoughts": True,
    }


def test_gemini_3_flash_levels() -> None:
    model = "gemini-3-flash"
    levels = {effort: thinking_config(model, effort=effort) for effort in ("minimal", "low", "medium", "high", "max")}
    assert {effort: config and config["thinkingLevel"] for effort, config in levels.items()} == {
        "minimal": "MINIMAL",
        "low": "LOW",
        "medium": "MEDIUM",
        "high": "HIGH",
        "max": "HIGH",
    }
    # thinking cannot be off on Gemini 3: the lowest level, thoughts hidden
    assert thinking_config(model, effort="none") == {"thinkingLevel": "MINIMAL", "includeThoughts": False}
    config = thinking_config(model, effort="low")
    assert config is not None and "thinkingBudget" not in config  # both at once is a 400


@pytest.mark.parametrize(
    ("budget", "level"), [(0, "MINIMAL"), (300, "MINIMAL"), (1024, "LOW"), (8192, "MEDIUM"), (32768, "HIGH")]
)
def test_a_budget_maps_to_the_nearest_level(budget: int, level: str) -> None:
    config = thinking_config("gemini-3-flash", budget=budget)
    assert config is not None and config["thinkingLevel"] == level


def test_a_dynamic_budget_leaves_the_level_to_the_model() -> None:
    assert thinking_config("gemini-3-flash", budget=-1) == {"includeThoughts": True}


def test_gemini_3_pro_has_low_and_high_only() -> None:
    model = "gemini-3-pro-preview"
    assert thinking_config(model, effort="none") == {"thinkingLevel": "LOW", "includeThoughts": False}
    assert thinking_config(model, effort="minimal") == {"thinkingLevel": "LOW", "includeThoughts": True}
    assert thinking_config(model, effort="medium") == {"thinkingLevel": "HIGH", "includeThoughts": True}
    assert thinking_config(model, budget=8192) == {"thinkingLevel": "HIGH", "includeThoughts": True}


def test_gemini_31_pro_adds_medium_and_late_flash_drops_minimal() -> None:
    assert thinking_config("gemini-3.1-pro-preview", effort="medium") == {
        "thinkingLevel": "MEDIUM",
        "includeThoughts": True,
    }
    assert thinking_config("gemini-3.1-pro-preview", effort="minimal") == {
        "thinkingLevel": "LOW",
        "includeThoughts": True,
    }
    assert thinking_config("gemini-3.8-flash", effort="none") == {"thinkingLevel": "LOW", "includeThoughts": False}
    assert thinking_config("gemini-3.5-flash-lite", effort="minimal") == {
        "thinkingLevel": "MINIMAL",
        "includeThoughts": True,
    }


def test_cloud_code_names_that_carry_a_level_keep_it() -> None:
    for effort in ("none", "low", "high"):
        high = thinking_config("gemini-3-pro-high", effort=effort)
        low = thinking_config("gemini-3-pro-low", effort=effort)
        assert high is not None and high["thinkingLevel"] == "HIGH"
        assert low is not None and low["thinkingLevel"] == "LOW"


def test_claude_budgets() -> None:
    model = "claude-opus-4-6-thinking"
    assert thinking_config(model, effort="none") is None  # thinking off: no thinkingConfig
    assert thinking_config(model, budget=0) is None
    assert thinking_config(model, effort="minimal") == {"thinkingBudget": 1024, "includeThoughts": True}
    assert thinking_config(model, effort="medium") == {"thinkingBudget": 16384, "includeThoughts": True}
    assert thinking_config(model, budget=100) == {"thinkingBudget": 1024, "includeThoughts": True}
    assert thinking_config(model, budget=-1) == {"thinkingBudget": 16384, "includeThoughts": True}
    top = output_limit(model) - ANSWER_MARGIN
    assert thinking_config(model, effort="max") == {"thinkingBudget": top, "includeThoughts": True}
    assert thinking_config(model, budget=10**9) == {"thinkingBudget": top, "includeThoughts": True}
    # the non-thinking Claude model thinks when asked to, like the Anthropic API
    assert thinking_config("claude-sonnet-4-6", effort="high") == {"thinkingBudget": 32768, "includeThoughts": True}


@pytest.mark.parametrize(
    ("model", "limit"),
    [
        ("gemini-2.5-flash", 65536),
        ("gemini-2.5-pro", 65536),
        ("gemini-3-flash", 65536),
        ("gemini-3-pro-high", 65536),
        ("gemini-3-pro-image", 32768),
        ("gemini-2.5-flash-image", 32768),
        ("claude-opus-4-6-thinking", 64000),
        ("claude-sonnet-4-6", 64000),
        ("gpt-oss-120b-medium", 32768),
        ("gemini-2.0-flash", 8192),
        ("something-new", 65536),
    ],
)
def test_output_limit(model: str, limit: int) -> None:
    assert output_limit(model) == limit


def test_max_output_tokens_clamps_never_rejects() -> None:
    assert max_output_tokens("claude-opus-4-6-thinking", 128000) == 64000  # what Claude Code sends
    assert max_output_tokens("gemini-3-flash", 128000) == 65536
    assert max_output_tokens("gemini-3-flash", 1000) == 1000
    assert max_output_tokens("gemini-3-flash", 0) == 1
    assert max_output_tokens("gemini-3-flash", None) is None


def test_max_output_tokens_stays_above_the_thinking_budget() -> None:
    assert max_output_tokens("claude-opus-4-6-thinking", 4000, 16384) == 16384 + ANSWER_MARGIN
    assert max_output_tokens("claude-opus-4-6-thinking", 32000, 16384) == 32000
    assert max_output_tokens("claude-opus-4-6-thinking", 16384, 16384) == 16384 + ANSWER_MARGIN
    assert max_output_tokens("claude-opus-4-6-thinking", None, 16384) == 16384 + DEFAULT_ANSWER_ROOM
    assert max_output_tokens("claude-opus-4-6-thinking", None, 60000) == 64000
    assert max_output_tokens("gemini-2.5-flash", 100, 24576) == 24576 + ANSWER_MARGIN
    assert max_output_tokens("gemini-2.5-flash", None, 0) is None
    assert max_output_tokens("gemini-2.5-flash", 100, -1) == 100


def test_the_config_and_the_limit_fit_together() -> None:
    """Whatever the client asks, the budget thinking_config picks leaves room below maxOutputTokens."""
    for model in ("claude-opus-4-6-thinking", "gemini-2.5-pro", "gemini-2.5-flash"):
        for effort in ("minimal", "low", "medium", "high", "max"):
            config = thinking_config(model, effort=effort)
            assert config is not None
            budget = config["thinkingBudget"]
            for requested in (None, 1, 4096, 128000):
                tokens = max_output_tokens(model, requested, budget)
                assert tokens is not None and budget < tokens <= output_limit(model)


def test_an_effort_outside_the_list_reads_as_medium() -> None:
    """Front ends validate efforts; a value that slips through (Claude Code knows "xhigh") must not crash."""
    odd: Any = "xhigh"
    assert thinking_config("gemini-2.5-flash", effort=odd) == thinking_config("gemini-2.5-flash", effort="medium")
    assert thinking_config("gemini-3-flash", effort=odd) == thinking_config("gemini-3-flash", effort="medium")


def test_the_output_limit_is_placed_above_the_budget_being_sent() -> None:
    config: dict[str, Any] = {}
    set_output_limit(config, "gemini-2.5-flash", 100, {"thinkingBudget": 1024, "includeThoughts": True})
    assert config == {"maxOutputTokens": 1024 + ANSWER_MARGIN}
    set_output_limit(config, "gemini-2.5-flash", 500, {"thinkingLevel": "LOW"})  # a level reserves no budget
    assert config == {"maxOutputTokens": 500}
    untouched: dict[str, Any] = {}
    set_output_limit(untouched, "gemini-2.5-flash", None, None)
    assert untouched == {}


@pytest.mark.parametrize(
    ("model", "cap", "budget", "limit"),
    [
        ("gemini-2.5-flash", 1000, 500, 1000),  # high (24576) takes half of the client's cap, the cap stays
        ("gemini-2.5-flash", 100_000, 24576, 65536),  # a cap above the effort's budget changes nothing
        ("gemini-2.5-pro", 200, 128, 200),  # never below the model's minimum budget
        ("claude-sonnet-4-6-thinking", 4000, 2000, 4000),
        ("claude-sonnet-4-6-thinking", 1500, 1024, 1500),  # Claude's 1024 minimum, still under the cap
    ],
)
def test_an_effort_fits_in_the_clients_output_cap(model: str, cap: int, budget: int, limit: int) -> None:
    settings = thinking_config(model, effort="high", output_cap=cap)
    assert settings is not None and settings["thinkingBudget"] == budget
    assert max_output_tokens(model, cap, settings["thinkingBudget"]) == limit


def test_the_cap_leaves_explicit_budgets_off_and_levels_alone() -> None:
    assert thinking_config("gemini-2.5-flash", budget=8000, output_cap=1000) == {
        "thinkingBudget": 8000,
        "includeThoughts": True,
    }
    assert thinking_config("gemini-2.5-flash", effort="none", output_cap=1000) == {"thinkingBudget": 0}
    assert thinking_config("gemini-3-flash", effort="high", output_cap=10) == {
        "thinkingLevel": "HIGH",
        "includeThoughts": True,
    }
