"""The fake Cloud Code's thought-signature checks, as strict as the real backend's (opt-in per FakeGoogle).

Every signature the fake sends in a reply is recorded with the family of the model that issued it (and, for a
function call, which call it signed). With `strict_signatures` on, a request's history is then judged as Google
judges it: a Gemini model wants each function call it signed back with exactly that signature (or the skip
sentinel), and no signature it never issued; a Claude model wants every thinking part signed by a Claude model,
the sentinel refused, and with thinking on, the model turn whose calls the last user turn answers must open with
a thinking part (Anthropic's rule for a tool loop). A refusal is a 400 in Google's wording, recorded in `refusals`
so a test can count them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SKIP_SIGNATURE = "skip_thought_signature_validator"
MISSING_CALL_SIGNATURE = (
    "Function call is missing a thought_signature in functionCall parts. This is required for tools to work "
    "correctly, and missing thought_signature may lead to degraded model performance. Additional data, function "
    "call `default_api:{name}` , position {position}. Please refer to "
    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
)
CORRUPTED = "Corrupted thought signature."
CLAUDE_INVALID = "messages.{turn}.content.{part}: Invalid `signature` in `thinking` block"
CLAUDE_MISSING = "messages.{turn}.content.{part}.thinking.signature: Field required"
CLAUDE_UNOPENED = (
    "messages.{turn}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. When "
    "`thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost "
    "set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To "
    "avoid this requirement, disable `thinking`."
)


def family(model: str) -> str:
    return "claude" if "claude" in model else "gemini"


def _content_key(call: Mapping[str, Any]) -> str:
    return f"{call.get('name')}\0{json.dumps(call.get('args') or {}, sort_keys=True)}"


@dataclass
class Refusal:
    email: str | None
    model: str
    message: str


@dataclass
class SignatureLedger:
    issued: dict[str, str] = field(default_factory=dict)  # signature → family of the model that sent it
    by_call_id: dict[str, str] = field(default_factory=dict)  # functionCall id → its signature
    by_call: dict[str, str] = field(default_factory=dict)  # functionCall name + args → its signature
    refusals: list[Refusal] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, model: str, payloads: Sequence[Mapping[str, Any]]) -> None:
        """Remember the signatures in a reply about to be sent (Cloud Code's `{"response": …}` payloads)."""
        with self._lock:
            for payload in payloads:
                for candidate in payload["response"].get("candidates") or ():
                    for part in (candidate.get("content") or {}).get("parts") or ():
                        signature = part.get("thoughtSignature")
                        if not isinstance(signature, str) or not signature:
                            continue
                        self.issued[signature] = family(model)
                        call = part.get("functionCall")
                        if isinstance(call, dict):
                            if call.get("id"):
                                self.by_call_id[call["id"]] = signature
                            self.by_call[_content_key(call)] = signature

    def check(self, email: str | None, model: str, request: Mapping[str, Any]) -> str | None:
        """Google's 400 message for this request's signatures, or None when it would accept them."""
        with self._lock:
            claude = family(model) == "claude"
            judge = self._claude if claude else self._gemini
            message = _unopened_tool_turn(request) if claude else None
            if message is not None:
                self.refusals.append(Refusal(email, model, message))
                return message
            for turn, content in enumerate(request.get("contents") or ()):
                if not isinstance(content, dict) or content.get("role") != "model":
                    continue
                for index, part in enumerate(content.get("parts") or ()):
                    message = judge(part, turn, index) if isinstance(part, dict) else None
                    if message is not None:
                        self.refusals.append(Refusal(email, model, message))
                        return message
        return None

    def _gemini(self, part: Mapping[str, Any], turn: int, index: int) -> str | None:
        signature = part.get("thoughtSignature")
        if signature == SKIP_SIGNATURE:
            return None
        if signature is not None and self.issued.get(signature) != "gemini":
            return CORRUPTED  # one it never issued, or a Claude model's
        call = part.get("functionCall")
        if not isinstance(call, dict):
            return None
        expected = self.by_call_id.get(call.get("id") or "") or self.by_call.get(_content_key(call))
        if expected is None or signature == expected:
            return None
        if signature is None:
            return MISSING_CALL_SIGNATURE.format(name=call.get("name"), position=index + 1)
        return CORRUPTED

    def _claude(self, part: Mapping[str, Any], turn: int, index: int) -> str | None:
        if not part.get("thought"):
            return None
        signature = part.get("thoughtSignature")
        if not isinstance(signature, str) or not signature:
            return CLAUDE_MISSING.format(turn=turn, part=index)
        if self.issued.get(signature) != "claude":
            return CLAUDE_INVALID.format(turn=turn, part=index)
        return None


def _unopened_tool_turn(request: Mapping[str, Any]) -> str | None:
    """Claude with thinking on: the assistant turn of the tool loop in progress must start with its thinking."""
    config = (request.get("generationConfig") or {}).get("thinkingConfig") or {}
    if not config.get("thinkingBudget") and not config.get("thinkingLevel"):
        return None
    contents = [content for content in request.get("contents") or () if isinstance(content, dict)]
    if len(contents) < 2 or contents[-1].get("role") == "model" or contents[-2].get("role") != "model":
        return None
    answers = any("functionResponse" in part for part in contents[-1].get("parts") or ())
    parts = contents[-2].get("parts") or []
    if not answers or not any("functionCall" in part for part in parts) or parts[0].get("thought"):
        return None
    found = "tool_use" if "functionCall" in parts[0] else "text"
    return CLAUDE_UNOPENED.format(turn=len(contents) - 2, found=found)
