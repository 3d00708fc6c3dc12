"""Quota per model from `fetchAvailableModels`, and its summary by family."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from trayagent.accounts.quota import FamilyQuota, by_family, family_of, read_available_models
from trayagent.accounts.record import ModelQuota

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC).timestamp()

# A reply shaped as in spec/upstream.md, with the internal names the backend also lists.
REPLY: dict[str, Any] = {
    "models": {
        "gemini-2.5-flash": {
            "displayName": "Gemini 2.5 Flash",
            "maxTokens": 1048576,
            "maxOutputTokens": 65535,
            "supportsThinking": True,
            "quotaInfo": {"remainingFraction": 0.8, "resetTime": "2026-11-23T13:00:00Z"},
        },
        "gemini-3-pro-high": {
            "displayName": "Gemini 3 Pro (High)",
            "quotaInfo": {"resetTime": "2026-11-23T17:00:00.123456789Z"},  # no fraction: nothing left
        },
        "claude-sonnet-4-6": {"displayName": "Claude Sonnet 4.6", "quotaInfo": {"remainingFraction": 1}},
        "gemini-3-pro-image": {
            "supportsImages": True,
            "quotaInfo": {"remainingFraction": 0.5, "resetTime": "2026-11-23T12:30:00Z"},
        },
        "gpt-oss-120b-medium": {"displayName": "GPT-OSS 120B (Medium)"},  # no quotaInfo at all
        "chat_20706": {"displayName": "internal", "quotaInfo": {"remainingFraction": 1}},
        "tab_flash_lite_preview": {"quotaInfo": {"remainingFraction": 1}},
    },
    "deprecatedModelIds": {"gemini-2.0-flash": {"newModelId": "gemini-2.5-flash"}},
}


def test_read_available_models():
    assert read_available_models(REPLY) == {
        "gemini-2.5-flash": ModelQuota(0.8, NOW + 3600),
        "gemini-3-pro-high": ModelQuota(0.0, NOW + 5 * 3600 + 0.123456),
        "claude-sonnet-4-6": ModelQuota(1.0, None),
        "gemini-3-pro-image": ModelQuota(0.5, NOW + 1800),
        "gpt-oss-120b-medium": ModelQuota(0.0, None),
    }


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({"quotaInfo": {"remainingFraction": "0.5"}}, ModelQuota(0.5, None)),
        ({"quotaInfo": {"remainingFraction": 1.7, "resetTime": "soon"}}, ModelQuota(1.0, None)),
        ({"quotaInfo": {"remainingFraction": -0.2}}, ModelQuota(0.0, None)),
        ({"quotaInfo": {"remainingFraction": None}}, ModelQuota(0.0, None)),
        ({"quotaInfo": "full"}, ModelQuota(0.0, None)),
        ({"quotaInfo": {}}, ModelQuota(0.0, None)),
        (None, ModelQuota(0.0, None)),
        ("gemini", ModelQuota(0.0, None)),
    ],
)
def test_odd_model_entries(info: object, expected: ModelQuota):
    assert read_available_models({"models": {"gemini-2.5-flash": info}}) == {"gemini-2.5-flash": expected}


@pytest.mark.parametrize(
    ("name", "served"),
    [
        ("Gemini-2.5-Flash", True),
        ("imagen-4", True),
        ("claude-opus-4-6-thinking", True),
        ("gpt-oss-120b-medium", True),
        ("chat_20706", False),
        ("tab_flash_lite_preview", False),
        ("rev19-uic3-1p", False),
        ("", False),
    ],
)
def test_only_served_names_are_kept(name: str, served: bool):
    quota = read_available_models({"models": {name: {"quotaInfo": {"remainingFraction": 1}}}})
    assert (name in quota) is served


@pytest.mark.parametrize("reply", [{}, {"models": None}, {"models": []}, {"models": "x"}])
def test_no_models(reply: dict[str, Any]):
    assert read_available_models(reply) == {}


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("claude-sonnet-4-6", "Claude"),
        ("claude-opus-4-6-thinking", "Claude"),
        ("gemini-2.5-pro", "Gemini Pro"),
        ("gemini-3-pro-high", "Gemini Pro"),
        ("gemini-3-pro-low", "Gemini Pro"),
        ("gemini-2.5-flash", "Gemini Flash"),
        ("gemini-3-flash", "Gemini Flash"),
        ("gemini-2.5-flash-lite-preview", "Gemini Flash"),
        ("gemini-3-pro-image", "Gemini Image"),
        ("gemini-2.5-flash-image", "Gemini Image"),
        ("imagen-4", "Gemini Image"),
        ("gpt-oss-120b-medium", "GPT-OSS"),
        ("GEMINI-3-PRO-HIGH", "Gemini Pro"),
        ("gemini-exp", "Other"),
        ("mystery", "Other"),
    ],
)
def test_family_of(model: str, family: str):
    assert family_of(model) == family


def summary(quota: dict[str, ModelQuota]) -> list[tuple[str, float, float | None]]:
    return [(f.family, f.remaining, f.reset_at) for f in by_family(quota)]


def test_by_family_on_the_reply():
    assert by_family(read_available_models(REPLY)) == [  # in FAMILIES order, whatever the reply's order
        FamilyQuota("Claude", 1.0, None),
        FamilyQuota("Gemini Pro", 0.0, NOW + 5 * 3600 + 0.123456),
        FamilyQuota("Gemini Flash", 0.8, NOW + 3600),
        FamilyQuota("Gemini Image", 0.5, NOW + 1800),
        FamilyQuota("GPT-OSS", 0.0, None),
    ]


def test_family_takes_the_least_remaining_and_the_earliest_reset_of_models_not_full():
    quota = {
        "gemini-3-pro-high": ModelQuota(0.6, NOW + 300),
        "gemini-3-pro-low": ModelQuota(0.9, NOW + 200),
        "gemini-2.5-pro": ModelQuota(1.0, NOW + 10),  # full: its reset says nothing
        "gemini-2.5-flash": ModelQuota(1.0, NOW + 10),
        "gemini-3-flash": ModelQuota(1.0, None),
        "mystery-model": ModelQuota(0.1, None),
    }
    assert summary(quota) == [("Gemini Pro", 0.6, NOW + 200), ("Gemini Flash", 1.0, None), ("Other", 0.1, None)]


def test_by_family_empty():
    assert by_family({}) == []
