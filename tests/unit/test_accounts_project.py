"""Reading `loadCodeAssist`: the project, the tier the pool ranks by, the tier to onboard into."""

from __future__ import annotations

from typing import Any

import pytest

from trayagent.accounts.project import CodeAssistState, read_code_assist, tier_kind

FREE = {"id": "free-tier", "name": "Antigravity Free"}
STANDARD = {"id": "standard-tier", "name": "Gemini Code Assist Standard"}
PRO = {"id": "g1-pro-tier", "name": "Google AI Pro"}
ULTRA = {"id": "g1-ultra-tier", "name": "Google AI Ultra"}
ALLOWED = [STANDARD, {**FREE, "isDefault": True}]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("g1-ultra-tier", "ultra"),
        ("Google AI Ultra", "ultra"),
        ("g1-pro-tier", "pro"),
        ("Google AI Pro", "pro"),
        ("free-tier", "free"),
        ("FREE-TIER", "free"),
        ("legacy-tier", "free"),
        ("standard-tier", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_tier_kind(text: str | None, kind: str):
    assert tier_kind(text) == kind


@pytest.mark.parametrize(
    ("project", "expected"),
    [
        ("proj-123", "proj-123"),
        ({"id": "proj-456", "name": "projects/proj-456"}, "proj-456"),
        ("", None),
        ({"id": ""}, None),
        ({"name": "no id"}, None),
        ({"id": 7}, None),
        (None, None),
    ],
)
def test_project_as_string_or_object(project: object, expected: str | None):
    reply = {"cloudaicompanionProject": project, "currentTier": PRO, "allowedTiers": ALLOWED}
    assert read_code_assist(reply).project_id == expected


def test_fully_set_up_account():
    reply = {"cloudaicompanionProject": "p1", "currentTier": PRO, "allowedTiers": ALLOWED}
    assert read_code_assist(reply) == CodeAssistState("p1", "pro", "Google AI Pro", "free-tier")


@pytest.mark.parametrize(
    ("allowed", "onboard"),
    [
        (ALLOWED, "free-tier"),  # the one marked isDefault, wherever it is
        ([STANDARD, {**PRO, "is_default": True}], "g1-pro-tier"),
        ([STANDARD, FREE], "standard-tier"),  # nothing marked: the first
        (["junk", STANDARD], "standard-tier"),
        ([], "free-tier"),
        (None, "free-tier"),
    ],
)
def test_without_project_onboard_into_the_default_allowed_tier(allowed: Any, onboard: str):
    state = read_code_assist({"allowedTiers": allowed})
    assert (state.project_id, state.onboard_tier_id) == (None, onboard)


@pytest.mark.parametrize(
    ("reply", "tier", "name"),
    [
        ({"currentTier": FREE}, "free", "Antigravity Free"),
        ({"currentTier": FREE, "paidTier": ULTRA}, "ultra", "Google AI Ultra"),  # paid wins over current
        ({"currentTier": ULTRA, "paidTier": PRO}, "pro", "Google AI Pro"),
        ({"paidTier": {}, "currentTier": PRO}, "pro", "Google AI Pro"),  # an empty paid tier says nothing
        ({"currentTier": {"id": "g1-pro-tier"}}, "pro", "g1-pro-tier"),  # no name: the id
        ({"currentTier": {"id": "x-tier", "name": "Gemini Ultra"}}, "ultra", "Gemini Ultra"),  # id unclear: name
        ({"currentTier": {"name": "Google AI Pro"}}, "pro", "Google AI Pro"),
        ({"currentTier": STANDARD}, "unknown", "Gemini Code Assist Standard"),
        # Something is ineligible: the current tier is not trusted, the default allowed one is, restricted.
        ({"currentTier": ULTRA, "ineligibleTiers": [{"reasonCode": "AGE"}]}, "free", "Antigravity Free (restricted)"),
        ({"currentTier": FREE, "paidTier": PRO, "ineligibleTiers": [{"reasonCode": "X"}]}, "pro", "Google AI Pro"),
        ({"currentTier": FREE, "ineligibleTiers": []}, "free", "Antigravity Free"),  # empty: nothing ineligible
    ],
)  # fmt: skip
def test_tier(reply: dict[str, Any], tier: str, name: str):
    state = read_code_assist({"cloudaicompanionProject": "p", "allowedTiers": ALLOWED, **reply})
    assert (state.tier, state.tier_name) == (tier, name)


def test_ineligible_with_no_allowed_tier_is_unknown():
    state = read_code_assist({"currentTier": ULTRA, "ineligibleTiers": [{"reasonCode": "X"}]})
    assert (state.tier, state.tier_name, state.onboard_tier_id) == ("unknown", None, "free-tier")


def test_empty_reply():
    assert read_code_assist({}) == CodeAssistState(None, "unknown", None, "free-tier")
