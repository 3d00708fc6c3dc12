"""fit_thinking_to_history: a Claude tool turn whose opening thinking could not be sent goes with thinking off
(Claude refuses it otherwise); everything else, Gemini models included, is left exactly as it is."""

from __future__ import annotations

from typing import Any

import pytest

from trayagent.translate.gemini import fit_thinking_to_history

CALL = {"functionCall": {"name": "read_file", "args": {"path": "a"}, "id": "toolu_1"}}
ANSWER = {"functionResponse": {"name": "read_file", "id": "toolu_1", "response": {"output": "x"}}}
SIGNED = {"text": "plan", "thought": True, "thoughtSignature": "c2ln"}
UNSIGNED = {"text": "plan", "thought": True}
CONFIG = {"maxOutputTokens": 8000, "thinkingConfig": {"thinkingBudget": 2048, "includeThoughts": True}}


def request(model_parts: list[Any], last: list[Any] | None = None, config: Any = CONFIG) -> dict[str, Any]:
    contents = [
        {"role": "user", "parts": [{"text": "read it"}]},
        {"role": "model", "parts": model_parts},
        {"role": "user", "parts": last if last is not None else [ANSWER]},
    ]
    return {"contents": contents, "generationConfig": config}


@pytest.mark.parametrize("opening", [[CALL], [{"text": "Reading."}, CALL], [UNSIGNED, CALL]], ids=lambda p: str(len(p)))
def test_a_claude_tool_turn_without_its_signed_thinking_goes_with_thinking_off(opening: list[Any]) -> None:
    original = request(opening)
    fitted = fit_thinking_to_history(original, "claude-sonnet-4-6-thinking")
    assert fitted["generationConfig"] == {"maxOutputTokens": 8000}
    assert fitted["contents"] is original["contents"]
    assert "thinkingConfig" in original["generationConfig"]  # the input is never changed


@pytest.mark.parametrize(
    ("model", "body"),
    [
        ("claude-sonnet-4-6-thinking", request([SIGNED, CALL])),  # the thinking is there
        ("gemini-3-pro-high", request([CALL])),  # Gemini has no such rule
        ("claude-sonnet-4-6-thinking", request([CALL], config={"maxOutputTokens": 10})),  # thinking already off
        ("claude-sonnet-4-6-thinking", request([{"text": "Hi."}], last=[{"text": "more"}])),  # no tool loop
        ("claude-sonnet-4-6-thinking", request([CALL], last=[{"text": "never mind"}])),  # a new user turn
        (
            "claude-sonnet-4-6-thinking",
            {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": CONFIG},
        ),  # fmt: skip
        ("claude-sonnet-4-6-thinking", {"generationConfig": CONFIG, "contents": "junk"}),
    ],
    ids=["signed", "gemini", "off", "no-calls", "new-turn", "first-turn", "junk"],
)
def test_anything_else_is_returned_as_it_is(model: str, body: dict[str, Any]) -> None:
    assert fit_thinking_to_history(body, model) is body
