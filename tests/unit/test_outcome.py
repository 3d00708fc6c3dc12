"""Finish reasons and token counts in protocol-neutral terms (translate/outcome.py)."""

from __future__ import annotations

from trayagent.translate.outcome import TokenCounts, finish_explanation, finish_outcome, token_counts


def test_finish_reasons_sort_into_outcomes_and_an_unknown_one_is_an_error() -> None:
    assert [finish_outcome(reason) for reason in ("STOP", "MAX_TOKENS", "SPII", "MALFORMED_FUNCTION_CALL")] == [
        "stop",
        "length",
        "filtered",
        "tool_error",
    ]
    assert finish_outcome("A_REASON_FROM_NEXT_YEAR") == "error"
    assert finish_outcome(None) is None


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
    assert token_counts(usage) == TokenCounts(input=100, cached=60, output=50, reasoning=30, total=150)


def test_token_counts_survive_missing_or_odd_values() -> None:
    assert token_counts(None) == TokenCounts()
    odd = {"promptTokenCount": "7", "candidatesTokenCount": True, "totalTokenCount": -1, "thoughtsTokenCount": 4}
    assert token_counts(odd) == TokenCounts(input=0, cached=0, output=4, reasoning=4, total=4)
    with_tools = {"promptTokenCount": 5, "toolUsePromptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 9}
    assert token_counts(with_tools) == TokenCounts(input=8, output=2, total=10)
