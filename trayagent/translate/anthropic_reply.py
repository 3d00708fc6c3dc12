"""A Gemini reply → Anthropic's `message`: content blocks, the stop reason for every Gemini finish reason, usage.

The stream encoder (`anthropic_stream`) builds the same blocks piece by piece with the helpers here, so a
streamed reply accumulates to exactly the message a non-streamed one renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trayagent.errors import ProxyError, StreamBroken
from trayagent.translate.anthropic_request import Echo
from trayagent.translate.hub import ReplyIds

# Google stopped for a policy reason: Anthropic's word for that is a refusal.
REFUSAL_REASONS = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "MODEL_ARMOR",
        "ESCALATION",
        "PUP_LIMITED_DISABLED",
    }
)
LENGTH_REASONS = frozenset({"MAX_TOKENS", "CONTINUATION"})
NATURAL_REASONS = frozenset({"STOP"})
# The reply is broken: an error the client retries, never a silent end_turn. Names Google adds later count here.
BROKEN_REASONS = frozenset(
    {
        "MALFORMED_FUNCTION_CALL",
        "UNEXPECTED_TOOL_CALL",
        "TOO_MANY_TOOL_CALLS",
        "MALFORMED_RESPONSE",
        "MISSING_THOUGHT_SIGNATURE",
        "NO_IMAGE",
        "IMAGE_OTHER",
        "OTHER",
        "FINISH_REASON_UNSPECIFIED",
    }
)


@dataclass(frozen=True, slots=True)
class Stop:
    reason: str
    sequence: str | None = None
    details: dict[str, Any] | None = None


def stop_of(
    echo: Echo,
    finish: str | None,
    feedback: Mapping[str, Any] | None,
    *,
    tools: bool,
    visible: bool,
    last_text: str,
    finish_message: str | None = None,
) -> Stop | ProxyError:
    """Anthropic's stop_reason for how Google ended, or the error to answer instead."""
    blocked = feedback.get("blockReason") if feedback else None
    if blocked and not visible:
        return _refusal(f"Google blocked the prompt ({blocked})")
    if finish in REFUSAL_REASONS:
        return _refusal(f"Google stopped the reply ({finish})")
    if finish in LENGTH_REASONS:
        return Stop("max_tokens")
    if finish is not None and finish not in NATURAL_REASONS:
        detail = f": {finish_message}" if finish_message else ""
        return StreamBroken(f"Google ended the reply with {finish}{detail}")
    if tools:
        return Stop("tool_use")
    if not visible:
        return StreamBroken("Google's reply held no text and no tool call")
    # Google says STOP for a stop sequence too and strips it; only a reply that still ends with one is known
    # to have hit it. Otherwise it is a natural end.
    for sequence in echo.stop_sequences:
        if last_text.endswith(sequence):
            return Stop("stop_sequence", sequence)
    return Stop("end_turn")


def _refusal(explanation: str) -> Stop:
    return Stop("refusal", details={"type": "refusal", "category": None, "explanation": explanation})


def usage_of(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """input_tokens excludes the cached prompt (Anthropic counts cache reads apart); output includes thinking."""
    meta = meta or {}
    prompt = _count(meta, "promptTokenCount")
    cached = min(_count(meta, "cachedContentTokenCount"), prompt)
    thoughts = _count(meta, "thoughtsTokenCount")
    usage: dict[str, Any] = {
        "input_tokens": prompt - cached,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": _count(meta, "candidatesTokenCount") + thoughts,
    }
    if thoughts:
        usage["output_tokens_details"] = {"thinking_tokens": thoughts}
    return usage


def _count(meta: Mapping[str, Any], key: str) -> int:
    value = meta.get(key)
    return value if isinstance(value, int) and value > 0 else 0


def first_candidate(reply: Mapping[str, Any]) -> Mapping[str, Any]:
    for candidate in reply.get("candidates") or ():
        if isinstance(candidate, dict) and candidate.get("index", 0) == 0:
            return candidate
    return {}


def parts_of(candidate: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    return [part for part in parts or () if isinstance(part, dict)]


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


def tool_use_of(echo: Echo, call: Mapping[str, Any], ids: ReplyIds) -> dict[str, Any]:
    call_id = call.get("id")
    name = call.get("name")
    args = call.get("args")
    return {
        "type": "tool_use",
        "id": call_id if isinstance(call_id, str) and call_id else ids.new("toolu_"),
        "name": echo.tool_name(name if isinstance(name, str) else ""),
        "input": args if isinstance(args, dict) else {},
    }


def render_message(echo: Echo, reply: Mapping[str, Any], ids: ReplyIds) -> dict[str, Any]:
    """The merged reply as one `message`; a broken reply raises the ProxyError to answer instead."""
    message_id = ids.new("msg_")
    candidate = first_candidate(reply)
    content: list[dict[str, Any]] = []
    tools = 0
    for part in parts_of(candidate):
        if part.get("thought"):
            thinking, signature = thinking_of(echo, part)
            if thinking or signature:
                content.append({"type": "thinking", "thinking": thinking, "signature": signature})
        elif isinstance(part.get("functionCall"), dict):
            if echo.single_tool and tools:
                continue  # disable_parallel_tool_use: the first call only
            content.append(tool_use_of(echo, part["functionCall"], ids))
            tools += 1
        elif text := text_of(part):
            if content and content[-1]["type"] == "text":
                content[-1]["text"] += text
            else:
                content.append({"type": "text", "text": text})
    last = content[-1] if content else None
    finish = candidate.get("finishReason")
    finish_message = candidate.get("finishMessage")
    stop = stop_of(
        echo,
        finish if isinstance(finish, str) else None,
        reply.get("promptFeedback"),
        tools=tools > 0,
        visible=any(block["type"] != "thinking" for block in content),
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
