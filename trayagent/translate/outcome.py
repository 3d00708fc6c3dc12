"""How a Gemini reply ended and what it used, in protocol-neutral terms: every finish reason sorted into one of a
few outcomes, the prompt's block reason, and the token counts of usageMetadata. Each front end maps these to its
own protocol's words (finish_reason, stop_reason, status) and usage fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, NamedTuple

# stop: a normal end. length: an output limit cut the answer. filtered: safety/recitation/policy blocked the output.
# bad_call: the model botched a function call (never a silent success: the client should retry or see it).
# call_limit: the model asked for more calls than allowed. malformed: Google says the reply itself is broken.
# other: any other end Google gives no usable reason for, including reasons it adds later.
Outcome = Literal["stop", "length", "filtered", "bad_call", "call_limit", "malformed", "other"]

FINISH_OUTCOMES: Final[Mapping[str, Outcome]] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "CONTINUATION": "length",
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
    "MALFORMED_FUNCTION_CALL": "bad_call",
    "UNEXPECTED_TOOL_CALL": "bad_call",
    "MISSING_THOUGHT_SIGNATURE": "bad_call",
    "TOO_MANY_TOOL_CALLS": "call_limit",
    "MALFORMED_RESPONSE": "malformed",
    "OTHER": "other",
    "NO_IMAGE": "other",
    "IMAGE_OTHER": "other",
    "FINISH_REASON_UNSPECIFIED": "other",
}

_MAPPINGS: Final = (dict, Mapping)  # a tuple, not `dict | Mapping`: that union is built anew at every call
_WHY: Final[Mapping[Outcome, str]] = {
    "bad_call": "the model produced an invalid function call",
    "call_limit": "the model produced an invalid function call",
    "malformed": "the model stopped without a usable answer",
    "other": "the model stopped without a usable answer",
    "filtered": "the output was blocked by Google's content filters",
}


def finish_outcome(reason: str | None) -> Outcome | None:
    """The outcome of a Gemini `finishReason`; None when there is none (the reply is still streaming). A reason
    this table does not know yet is `other`, never a success."""
    if reason is None:
        return None
    return FINISH_OUTCOMES.get(reason, "other")


def finish_explanation(reason: str, message: str | None = None) -> str:
    """A sentence for an end that is not a success, naming Google's reason (and its `finishMessage`)."""
    why = _WHY.get(finish_outcome(reason) or "other", "the model stopped early")
    return f"{why} ({reason}: {message})" if message else f"{why} ({reason})"


def block_reason(reply: Mapping[str, Any]) -> str | None:
    """The prompt's `promptFeedback.blockReason`: Google refused the prompt itself (then no candidate comes)."""
    feedback = reply.get("promptFeedback")
    if isinstance(feedback, dict):
        reason = feedback.get("blockReason")
        if isinstance(reason, str) and reason:
            return reason
    return None


class TokenCounts(NamedTuple):
    """Gemini's usageMetadata, each count checked (a missing, negative or odd value is 0). `input` is the whole
    prompt: cached tokens and the tool-use prompt included; `output` includes the thinking. The total is
    recomputed, so the numbers always add up. (A NamedTuple: made once per reply, cheaper than a dataclass.)"""

    prompt: int = 0  # promptTokenCount, the cached part included
    tool_prompt: int = 0  # toolUsePromptTokenCount: what Google's own tools fed back
    cached: int = 0  # cachedContentTokenCount
    answer: int = 0  # candidatesTokenCount
    reasoning: int = 0  # thoughtsTokenCount

    @property
    def input(self) -> int:
        return self.prompt + self.tool_prompt

    @property
    def output(self) -> int:
        return self.answer + self.reasoning

    @property
    def total(self) -> int:  # input + output, from the fields: one step where the two properties would take two
        return self.prompt + self.tool_prompt + self.answer + self.reasoning


# TokenCounts' fields in order, as usageMetadata names them.
_USAGE_KEYS: Final = (
    "promptTokenCount",
    "toolUsePromptTokenCount",
    "cachedContentTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
)


def token_counts(usage: Mapping[str, Any] | None) -> TokenCounts:
    if usage is None or not isinstance(usage, _MAPPINGS):  # None and dict first: the ABC check is slow
        return TokenCounts()
    # `type is`: a boolean is not a count. (One list comprehension: every reply ends here; a generator costs more.)
    return TokenCounts._make(
        [value if type(value) is int and value > 0 else 0 for value in map(usage.get, _USAGE_KEYS)]
    )
