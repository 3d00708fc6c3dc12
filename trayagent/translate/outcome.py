"""How a Gemini reply ended and what it used, in protocol-neutral terms: every finish reason sorted into one of
a few outcomes, and the token counts OpenAI-style front ends report (chat completions and Responses alike).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

# stop: a normal end. length: the output limit. filtered: safety/recitation/policy blocked the output.
# tool_error: the model botched a function call (never a silent success: the client should retry or see it).
# error: anything else Google gives no usable answer for.
Outcome = Literal["stop", "length", "filtered", "tool_error", "error"]

FINISH_OUTCOMES: Mapping[str, Outcome] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "filtered",
    "RECITATION": "filtered",
    "LANGUAGE": "filtered",
    "BLOCKLIST": "filtered",
    "PROHIBITED_CONTENT": "filtered",
    "SPII": "filtered",
    "IMAGE_SAFETY": "filtered",
    "IMAGE_PROHIBITED_CONTENT": "filtered",
    "IMAGE_RECITATION": "filtered",
    "MODEL_ARMOR": "filtered",
    "ESCALATION": "filtered",
    "PUP_LIMITED_DISABLED": "filtered",
    "CONTINUATION": "length",
    "MALFORMED_FUNCTION_CALL": "tool_error",
    "UNEXPECTED_TOOL_CALL": "tool_error",
    "TOO_MANY_TOOL_CALLS": "tool_error",
    "MISSING_THOUGHT_SIGNATURE": "tool_error",
    "MALFORMED_RESPONSE": "error",
    "OTHER": "error",
    "NO_IMAGE": "error",
    "IMAGE_OTHER": "error",
    "FINISH_REASON_UNSPECIFIED": "error",
}

_WHY = {
    "tool_error": "the model produced an invalid function call",
    "error": "the model stopped without a usable answer",
    "filtered": "the output was blocked by Google's content filters",
}


def finish_outcome(reason: str | None) -> Outcome | None:
    """The outcome of a Gemini `finishReason`; None when there is none (the reply is still streaming). A reason
    this table does not know yet is an error, never a success."""
    if reason is None:
        return None
    return FINISH_OUTCOMES.get(reason, "error")


def finish_explanation(reason: str, message: str | None = None) -> str:
    """A sentence for an end that is not a success, naming Google's reason (and its `finishMessage`)."""
    why = _WHY.get(finish_outcome(reason) or "error", "the model stopped early")
    return f"{why} ({reason}: {message})" if message else f"{why} ({reason})"


@dataclass(frozen=True, slots=True)
class TokenCounts:
    """Gemini's usageMetadata in OpenAI's terms. `input` includes the cached tokens (OpenAI counts them inside
    input/prompt tokens) and the tool-use prompt; `output` includes the thinking (OpenAI bills reasoning as
    output). The total is recomputed, so the numbers always add up."""

    input: int = 0
    cached: int = 0
    output: int = 0
    reasoning: int = 0
    total: int = 0


def token_counts(usage: Mapping[str, Any] | None) -> TokenCounts:
    if not isinstance(usage, Mapping):
        return TokenCounts()
    prompt = _count(usage, "promptTokenCount") + _count(usage, "toolUsePromptTokenCount")
    thoughts = _count(usage, "thoughtsTokenCount")
    output = _count(usage, "candidatesTokenCount") + thoughts
    return TokenCounts(prompt, _count(usage, "cachedContentTokenCount"), output, thoughts, prompt + output)


def _count(usage: Mapping[str, Any], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
