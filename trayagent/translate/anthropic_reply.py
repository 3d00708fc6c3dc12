"""A Gemini reply → Anthropic's `message`: content blocks, the stop reason for every Gemini finish reason, usage.

The stream encoder (`anthropic_stream`) builds the same blocks piece by piece with the helpers here, so a
streamed reply accumulates to exactly the message a non-streamed one renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from trayagent.errors import ProxyError, StreamBroken
from trayagent.translate.anthropic_request import Echo
from trayagent.translate.gemini import CallIds, first_candidate, parts_of
from trayagent.translate.hub import ReplyIds
from trayagent.translate.outcome import block_reason, finish_outcome, token_counts


@dataclass(frozen=True, slots=True)
class Stop:
    reason: str
    sequence: str | None = None
    details: dict[str, Any] | None = None


# The stops nearly every reply ends with, made once (a Stop is immutable; building one costs more than the rest
# of stop_of).
_END_TURN: Final = Stop("end_turn")
_MAX_TOKENS: Final = Stop("max_tokens")
_TOOL_USE: Final = Stop("tool_use")


def stop_of(
    echo: Echo,
    finish: str | None,
    blocked: str | None,
    *,
    tools: bool,
    visible: bool,
    last_text: str,
    finish_message: str | None = None,
) -> Stop | ProxyError:
    """Anthropic's stop_reason for how Google ended (`blocked`: the prompt's block reason), or the error to answer
    instead. A filter's stop is Anthropic's refusal; any end but a natural one or a limit (a botched call, a
    reason Google adds later) is an error the client retries, never a silent end_turn."""
    if blocked and not visible:
        return _refusal(f"Google blocked the prompt ({blocked})")
    outcome = finish_outcome(finish)
    if outcome == "filtered":
        return _refusal(f"Google stopped the reply ({finish})")
    if outcome == "length":
        return _MAX_TOKENS
    if outcome not in (None, "stop"):
        detail = f": {finish_message}" if finish_message else ""
        return StreamBroken(f"Google ended the reply with {finish}{detail}")
    if tools:
        return _TOOL_USE
    if not visible:
        return StreamBroken("Google's reply held no text and no tool call")
    # Google says STOP for a stop sequence too and strips it; only a reply that still ends with one is known
    # to have hit it. Otherwise it is a natural end.
    for sequence in echo.stop_sequences:
        if last_text.endswith(sequence):
            return Stop("stop_sequence", sequence)
    return _END_TURN


def _refusal(explanation: str) -> Stop:
    return Stop("refusal", details={"type": "refusal", "category": None, "explanation": explanation})


def usage_of(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """input_tokens excludes the cached prompt (Anthropic counts cache reads apart); output includes thinking."""
    if meta is None:  # every stream's message_start: no chunk has told the usage yet
        return {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0}
    counts = token_counts(meta)
    cached = min(counts.cached, counts.prompt)
    usage: dict[str, Any] = {
        "input_tokens": counts.prompt - cached,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": counts.output,
    }
    if counts.reasoning:
        usage["output_tokens_details"] = {"thinking_tokens": counts.reasoning}
    return usage


def thinking_of(echo: Echo, part: Mapping[str, Any]) -> tuple[str, str]:
    """A thought part's (text, signature). The signature is Google's or empty, never made up: Claude Code keeps
    an unsigned block beside other content and drops it from the next request when it stands alone."""
    text = part.get("text")
    signature = part.get("thoughtSignature")
    return (
        "" if echo.omit_thinking or not isinstance(text, str) else text,
        signature if isinstance(signature, str) else "",
    )


def text_of(part: Mapping[str, Any]) -> str:
    """A non-thought part's visible text; an image Google drew becomes a data-URL image in markdown."""
    text = part.get("text")
    if isinstance(text, str):
        return text
    inline = part.get("inlineData")
    if isinstance(inline, dict) and isinstance(inline.get("data"), str):
        return f"![image](data:{inline.get('mimeType', 'image/png')};base64,{inline['data']})"
    return ""


def tool_use_of(echo: Echo, call: Mapping[str, Any], calls: CallIds) -> dict[str, Any]:
    """A functionCall as a tool_use block: Google's call id when it gave one not used yet in this reply, else
    a new `toolu_…` (the client answers each block by its id)."""
    name = call.get("name")
    args = call.get("args")
    return {
        "type": "tool_use",
        "id": calls.take(call),
        "name": echo.tool_name(name if isinstance(name, str) else ""),
        "input": args if isinstance(args, dict) else {},
    }


def render_message(echo: Echo, reply: Mapping[str, Any], ids: ReplyIds) -> dict[str, Any]:
    """The merged reply as one `message`; a broken reply raises the ProxyError to answer instead."""
    message_id = ids.new("msg_")
    candidate = first_candidate(reply)
    content: list[dict[str, Any]] = []
    tools = 0
    calls = CallIds(ids, "toolu_")
    visible = False  # a text or tool_use block
    for part in parts_of(candidate):
        if part.get("thought"):
            thinking, signature = thinking_of(echo, part)
            if thinking or signature:
                content.append({"type": "thinking", "thinking": thinking, "signature": signature})
        elif isinstance(part.get("functionCall"), dict):
            if echo.single_tool and tools:
                continue  # disable_parallel_tool_use: the first call only
            content.append(tool_use_of(echo, part["functionCall"], calls))
            tools += 1
            visible = True
        elif text := text_of(part):
            if content and content[-1]["type"] == "text":
                content[-1]["text"] += text
            else:
                content.append({"type": "text", "text": text})
            visible = True
    last = content[-1] if content else None
    finish = candidate.get("finishReason")
    finish_message = candidate.get("finishMessage")
    stop = stop_of(
        echo,
        finish if isinstance(finish, str) else None,
        block_reason(reply),
        tools=tools > 0,
        visible=visible,
        last_text=last["text"] if last is not None and last["type"] == "text" else "",
        finish_message=finish_message if isinstance(finish_message, str) else None,
    )
    if isinstance(stop, ProxyError):
        raise stop
    message: dict[str, Any] = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": echo.model,
        "content": content,
        "stop_reason": stop.reason,
        "stop_sequence": stop.sequence,
    }
    if stop.details is not None:
        message["stop_details"] = stop.details
    message["usage"] = usage_of(reply.get("usageMetadata"))
    return message
