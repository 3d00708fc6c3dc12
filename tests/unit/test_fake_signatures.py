"""The fake Google's strict signature checks (tests/fakes/thoughts.py) refuse what Google refuses and take what it
takes: the SDK tests' "no signature 400" claims are only as good as these rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.generation import ScriptedReply, chunk_payloads, function_call, text, thought
from tests.fakes.thoughts import SKIP_SIGNATURE, SignatureLedger

GEMINI, CLAUDE = "gemini-3-pro-high", "claude-sonnet-4-6-thinking"
THINKING_ON = {"thinkingConfig": {"thinkingBudget": 2048, "includeThoughts": True}}


def issued(model: str, *parts: dict[str, Any]) -> SignatureLedger:
    ledger = SignatureLedger()
    ledger.issue(model, chunk_payloads(ScriptedReply(chunks=[list(parts)]), model, {"contents": []}))
    return ledger


def history(*model_parts: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = {"functionResponse": {"name": "f", "id": "x", "response": {}}}
    body: dict[str, Any] = {
        "contents": [
            {"role": "user", "parts": [{"text": "q"}]},
            {"role": "model", "parts": list(model_parts)},
            {"role": "user", "parts": [answer]},
        ]
    }
    if config is not None:
        body["generationConfig"] = config
    return body


def refuses(message: str | None, expected: str | None) -> bool:
    """The check's answer is the expected refusal (by its start), or no refusal when none is expected."""
    return message is None if expected is None else message is not None and message.startswith(expected)


def call(signature: str | None = None, call_id: str | None = None) -> dict[str, Any]:
    return function_call("f", {"a": 1}, signature=signature, call_id=call_id)


@pytest.mark.parametrize(
    ("sent", "refused"),
    [
        (call("S1"), None),
        (call(SKIP_SIGNATURE), None),
        (call(), "Function call is missing a thought_signature"),
        (call("S2"), "Corrupted thought signature."),
        (call("c2lnLWZvcmdlZA=="), "Corrupted thought signature."),  # never issued
        (function_call("f", {"a": 2}), None),  # a call the fake never signed
    ],
    ids=["exact", "sentinel", "missing", "another-call's", "forged", "unsigned-call"],
)
def test_gemini_wants_its_call_signature_back_exactly(sent: dict[str, Any], refused: str | None) -> None:
    ledger = issued(GEMINI, call("S1"), function_call("g", {}, signature="S2"))
    message = ledger.check("a@example.com", GEMINI, history(sent))
    assert refuses(message, refused), message
    assert len(ledger.refusals) == (0 if refused is None else 1)


def test_gemini_finds_a_call_by_its_id_when_it_had_one() -> None:
    ledger = issued(GEMINI, call("S1", call_id="c-1"))
    renamed_args = function_call("f", {"a": 9}, call_id="c-1")
    assert ledger.check(None, GEMINI, history(renamed_args)) is not None
    assert ledger.check(None, GEMINI, history(function_call("f", {"a": 9}, "S1", "c-1"))) is None


def test_gemini_refuses_a_claude_signature() -> None:
    ledger = issued(CLAUDE, thought("t", "K1"))
    assert ledger.check(None, GEMINI, history(thought("t", "K1"), call())) == "Corrupted thought signature."


@pytest.mark.parametrize(
    ("parts", "refused"),
    [
        ((thought("t", "K1"), call()), None),
        ((thought("t", SKIP_SIGNATURE), call()), "messages.1.content.0: Invalid `signature` in `thinking` block"),
        ((thought("t", "S1"), call()), "messages.1.content.0: Invalid `signature` in `thinking` block"),
        ((thought("t", None), call()), "messages.1.content.0.thinking.signature: Field required"),
        ((call(),), "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`"),
        ((text("Reading."), call()), "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`"),
    ],
    ids=["claude's", "sentinel", "gemini's", "unsigned", "no-thinking", "text-first"],
)
def test_claude_wants_thinking_it_signed_opening_the_tool_turn(parts: tuple[Any, ...], refused: str | None) -> None:
    ledger = issued(CLAUDE, thought("t", "K1"))
    ledger.issue(GEMINI, chunk_payloads(ScriptedReply(chunks=[[thought("g", "S1")]]), GEMINI, {"contents": []}))
    message = ledger.check(None, CLAUDE, history(*parts, config=THINKING_ON))
    assert refuses(message, refused), message


def test_claude_with_thinking_off_takes_a_tool_turn_without_thinking() -> None:
    assert SignatureLedger().check(None, CLAUDE, history(call(), config={"maxOutputTokens": 100})) is None
