"""Finish reasons and token counts in protocol-neutral terms (translate/outcome.py)."""

from __future__ import annotations

from google.genai import types as genai

from trayagent.translate.outcome import (
    FINISH_OUTCOMES,
    TokenCounts,
    block_reason,
    finish_explanation,
    finish_outcome,
    token_counts,
)


def test_finish_reasons_sort_into_outcomes_and_an_unknown_one_is_other() -> None:
    reasons = ("STOP", "MAX_TOKENS", "SPII", "MALFORMED_FUNCTION_CALL", "TOO_MANY_TOOL_CALLS", "MALFORMED_RESPONSE")
    assert [finish_outcome(reason) for reason in reasons] == [
        "stop",
        "length",
        "filtered",
        "bad_call",
        "call_limit",
        "malformed",
    ]
    assert finish_outcome("A_REASON_FROM_NEXT_YEAR") == "other"
    assert finish_outcome(None) is None


def test_every_gemini_finish_reason_has_an_outcome() -> None:
    assert {reason.value for reason in genai.FinishReason} == set(FINISH_OUTCOMES)


def test_the_block_reason_is_read_only_when_it_is_a_name() -> None:
    assert block_reason({"promptFeedback": {"blockReason": "SAFETY"}}) == "SAFETY"
    assert block_reason({"promptFeedback": {"blockReason": ""}}) is None
    assert block_reason({"promptFeedback": "SAFETY"}) is None
    assert block_reason({}) is None


def test_explanations_name_the_reason_and_google_s_message() -> None:
    assert (
        finish_explanation("MALFORMED_FUNCTION_CALL")
        == "the model produced an invalid function call (MALFORMED_FUNCTION_CALL)"
    )
    assert finish_explanation("SAFETY", "blocked: harassment").endswith("(SAFETY: blocked: harassment)")


def test_token_counts_put_cached_inside_input_and_thoughts_inside_output() -> None:
    usage = {
        "promptTokenCount": 100,
        "cachedContentTokenCount": 60,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "totalTokenCount": 150,
    }
    counts = token_counts(usage)
    assert counts == TokenCounts(prompt=100, cached=60, answer=20, reasoning=30)
    assert (counts.input, counts.output, counts.total) == (100, 50, 150)


def test_token_counts_survive_missing_or_odd_values() -> None:
    assert token_counts(None) == TokenCounts()
    odd = {"promptTokenCount": "7", "candidatesTokenCount": True, "totalTokenCount": -1, "thoughtsTokenCount": 4}
    assert token_counts(odd) == TokenCounts(reasoning=4)
    assert token_counts(odd).total == 4
    with_tools = {"promptTokenCount": 5, "toolUsePromptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 9}
    counts = token_counts(with_tools)
    assert (counts.prompt, counts.input, counts.output, counts.total) == (5, 8, 2, 10)
