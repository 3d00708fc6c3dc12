"""Thinking settings and output limits per upstream model: what `generationConfig.thinkingConfig` and
`maxOutputTokens` to send for the model that will answer, from the effort or budget a client asked for.

Facts (Google's and Anthropic's model docs): Gemini 2.5 takes a token budget (Pro 128-32768 and never off, Flash
0-24576, Flash-Lite 0 or 512-24576, -1 = dynamic); Gemini 3 takes a level instead (Pro LOW/HIGH, 3.1 Pro adds
MEDIUM, Flash MINIMAL/LOW/MEDIUM/HIGH, Flash from 3.7 on no MINIMAL) and cannot think "off"; sending both a level
and a budget is a 400. Claude models behind Cloud Code take a budget of at least 1024 that must stay below
`maxOutputTokens` (64000 at most). Image models take no thinking settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Literal

Effort = Literal["none", "minimal", "low", "medium", "high", "max"]
Family = Literal["gemini-3", "gemini-2.5", "claude", "other"]

_GEMINI_VERSION: Final = re.compile(r"gemini-(\d+)(?:\.(\d+))?")
_LEVELS: Final = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
_EFFORT_LEVEL: Final[dict[str, str]] = {
    "minimal": "MINIMAL",
    "low": "LOW",
    "medium": "MEDIUM",
    "high": "HIGH",
    "max": "HIGH",
}
# Budgets an effort stands for. Gemini's: the ones Google's own OpenAI-compatible endpoint uses for
# reasoning_effort (low 1024, medium 8192, high 24576); Claude's: spread over its 1024 minimum and the 32768
# the original product sends. "max" is the model's top budget.
_GEMINI_BUDGETS: Final[dict[str, int]] = {"minimal": 512, "low": 1024, "medium": 8192, "high": 24576}
_CLAUDE_BUDGETS: Final[dict[str, int]] = {"minimal": 1024, "low": 4096, "medium": 16384, "high": 32768}
# Where an explicit budget falls among the levels (at most this many tokens → that level).
_LEVEL_CEILINGS: Final = ((512, "MINIMAL"), (4096, "LOW"), (16384, "MEDIUM"))
# Room kept for the answer above a thinking budget: when the client's limit is too small, and when it gave none.
ANSWER_MARGIN: Final = 8192
DEFAULT_ANSWER_ROOM: Final = 32768
GEMINI_OUTPUT_LIMIT: Final = 65536
IMAGE_OUTPUT_LIMIT: Final = 32768
CLAUDE_OUTPUT_LIMIT: Final = 64000


@dataclass(frozen=True, slots=True)
class _Spec:
    output: int
    levels: tuple[str, ...] = ()  # thinkingLevel values, for level models
    budget: tuple[int, int] | None = None  # (lowest, highest) thinkingBudget, for budget models
    can_disable: bool = False


def _name(upstream_model: str) -> str:
    name = upstream_model.strip().lower()
    return name[len("models/") :] if name.startswith("models/") else name


def _version(name: str) -> tuple[int, int] | None:
    match = _GEMINI_VERSION.match(name)
    return (int(match[1]), int(match[2] or 0)) if match else None


# Both are pure functions of a model name, asked several times per request: cached (a few hundred names at most
# are ever seen; the bound keeps a client sending random names from growing it).
@lru_cache(maxsize=512)
def model_family(upstream_model: str) -> Family:
    """Which thinking control the model takes: a level (gemini-3 and later), a budget (gemini-2.5, claude)."""
    name = _name(upstream_model)
    if "claude" in name:
        return "claude"
    version = _version(name)
    if version is None:
        return "other"
    if version[0] >= 3:
        return "gemini-3"
    return "gemini-2.5" if version == (2, 5) else "other"


@lru_cache(maxsize=512)
def _spec(upstream_model: str) -> _Spec:
    name = _name(upstream_model)
    family = model_family(name)
    image = "image" in name
    if family == "claude":
        return _Spec(CLAUDE_OUTPUT_LIMIT, budget=(1024, CLAUDE_OUTPUT_LIMIT - ANSWER_MARGIN), can_disable=True)
    if family == "other":
        version = _version(name)
        if version is not None and version < (2, 5):
            return _Spec(8192)  # gemini-1.5 / 2.0: no thinking, 8192 out
        return _Spec(IMAGE_OUTPUT_LIMIT if image or name.startswith("gpt-oss") else GEMINI_OUTPUT_LIMIT)
    if image:
        return _Spec(IMAGE_OUTPUT_LIMIT)
    if family == "gemini-2.5":
        if "lite" in name:
            return _Spec(GEMINI_OUTPUT_LIMIT, budget=(512, 24576), can_disable=True)
        if "flash" in name:
            return _Spec(GEMINI_OUTPUT_LIMIT, budget=(1, 24576), can_disable=True)
        return _Spec(GEMINI_OUTPUT_LIMIT, budget=(128, 32768))
    return _Spec(GEMINI_OUTPUT_LIMIT, levels=_gemini3_levels(name))


def _gemini3_levels(name: str) -> tuple[str, ...]:
    for level in _LEVELS:  # Cloud Code names that carry their level (gemini-3-pro-high) get only that one
        if name.endswith("-" + level.lower()):
            return (level,)
    version = _version(name) or (3, 0)
    if "flash" in name:
        return _LEVELS[1:] if version >= (3, 7) and "lite" not in name else _LEVELS
    if "pro" in name and version >= (3, 1):
        return ("LOW", "MEDIUM", "HIGH")
    return ("LOW", "HIGH")


def thinking_config(
    upstream_model: str,
    *,
    effort: Effort | None = None,
    budget: int | None = None,
    include_thoughts: bool = True,
    output_cap: int | None = None,
) -> dict[str, Any] | None:
    """The `generationConfig.thinkingConfig` to send, or None to send none (the client asked nothing, the model
    takes no thinking settings, or thinking is off on a model that is off without one).

    effort "none" turns thinking off where the model allows it (budget 0 on 2.5 Flash) and takes the lowest
    setting, thoughts hidden, where it cannot. An explicit budget wins over effort: budget models get it clamped
    to their range (a negative budget means dynamic), level models get the nearest level they support.
    `output_cap` is the client's limit on everything the model writes, thinking included (OpenAI's
    max_completion_tokens, max_output_tokens): an effort's budget then takes at most half of it, never less than
    the model's minimum, so the output limit sent stays the client's (see max_output_tokens).
    """
    if effort is None and budget is None:
        return None
    spec = _spec(upstream_model)
    if spec.levels:
        return _level_config(spec.levels, effort, budget, include_thoughts)
    if spec.budget is None:
        return None
    lowest, highest = spec.budget
    claude = model_family(upstream_model) == "claude"
    table = _CLAUDE_BUDGETS if claude else _GEMINI_BUDGETS
    if budget is not None:
        tokens = budget
    elif effort == "none":
        tokens = 0
    elif effort == "max":
        tokens = highest
    else:
        tokens = table.get(effort or "medium", table["medium"])  # an effort we do not know: the middle
    if budget is None and output_cap is not None and tokens > 0:
        tokens = min(tokens, max(1, output_cap // 2))
    if tokens < 0:
        if not claude:
            return {"thinkingBudget": -1, "includeThoughts": include_thoughts}
        tokens = table["medium"]  # Claude has no dynamic budget
    if tokens == 0:
        if spec.can_disable:
            return None if claude else {"thinkingBudget": 0}
        return {"thinkingBudget": lowest, "includeThoughts": False}
    return {"thinkingBudget": min(max(tokens, lowest), highest), "includeThoughts": include_thoughts}


def _level_config(
    levels: tuple[str, ...], effort: Effort | None, budget: int | None, include_thoughts: bool
) -> dict[str, Any]:
    if budget is not None:
        if budget < 0:  # dynamic: the model's own default level
            return {"includeThoughts": include_thoughts}
        if budget == 0:
            return {"thinkingLevel": levels[0], "includeThoughts": False}
        wanted = next((level for ceiling, level in _LEVEL_CEILINGS if budget <= ceiling), "HIGH")
    elif effort == "none":
        return {"thinkingLevel": levels[0], "includeThoughts": False}
    else:
        wanted = _EFFORT_LEVEL.get(effort or "medium", "MEDIUM")
    return {"thinkingLevel": _nearest(wanted, levels), "includeThoughts": include_thoughts}


def _nearest(level: str, levels: tuple[str, ...]) -> str:
    """`level` when the model has it, else the closest one it has (ties go to the higher level, as Google's
    OpenAI-compatible endpoint maps medium to high on Gemini 3 Pro)."""
    if level in levels:
        return level
    rank = _LEVELS.index(level)
    return min(levels, key=lambda have: (abs(_LEVELS.index(have) - rank), -_LEVELS.index(have)))


def output_limit(upstream_model: str) -> int:
    """The most output tokens the model produces (thinking included)."""
    return _spec(upstream_model).output


def max_output_tokens(upstream_model: str, requested: int | None, thinking_budget: int | None = None) -> int | None:
    """`maxOutputTokens` to send: the client's value clamped to the model's limit (clients such as Claude Code
    send 128000; clamp, never reject) and kept above the thinking budget (budget + ANSWER_MARGIN when the
    client's is too small). None when the client gave none and no budget needs room."""
    limit = output_limit(upstream_model)
    budget = thinking_budget if thinking_budget is not None and thinking_budget > 0 else None
    if requested is None:
        return None if budget is None else min(limit, budget + DEFAULT_ANSWER_ROOM)
    tokens = min(max(requested, 1), limit)
    if budget is not None and tokens <= budget:
        tokens = min(limit, budget + ANSWER_MARGIN)
    return tokens


def set_output_limit(
    config: dict[str, Any], upstream_model: str, requested: int | None, thinking: Mapping[str, Any] | None
) -> None:
    """`maxOutputTokens` into a generationConfig for the client's limit and the thinking settings being sent
    (max_output_tokens keeps it above their budget); nothing when there is no limit to send."""
    budget = thinking.get("thinkingBudget") if thinking else None
    limit = max_output_tokens(upstream_model, requested, budget if isinstance(budget, int) else None)
    if limit is not None:
        config["maxOutputTokens"] = limit
