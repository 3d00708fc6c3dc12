"""Gemini's GenerateContent shape, the hub every protocol goes through: merging streamed chunks into one
reply, repairing thought signatures the upstream refused, and the model list a Gemini client reads.

Pure: dicts in, dicts out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Gemini accepts this in place of a signature it never issued (history from another client, a restart).
SKIP_SIGNATURE = "skip_thought_signature_validator"
DEFAULT_INPUT_LIMIT = 1_048_576
DEFAULT_OUTPUT_LIMIT = 65_536
GENERATION_METHODS = ("generateContent", "streamGenerateContent", "countTokens")


def merge_chunks(chunks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Streamed chunks → the one GenerateContentResponse a non-streaming caller expects.

    Adjacent text parts of the same kind (thought or not) are joined. A signature closes its run: the signed
    piece joins the text before it and the signature moves onto the joined part (Cloud Code signs the last
    piece of a thought), but nothing is ever appended after a signed part. Function calls and inline data stay as they
    are. The finish reason, usage and safety ratings are the last ones seen.
    """
    parts: list[dict[str, Any]] = []
    merged: dict[str, Any] = {}
    candidate: dict[str, Any] = {}
    role = "model"
    for chunk in chunks:
        for key, value in chunk.items():
            if key != "candidates":
                merged[key] = value  # usageMetadata, modelVersion, responseId, promptFeedback: last wins
        for found in chunk.get("candidates") or ():
            if not isinstance(found, dict) or found.get("index", 0) != 0:
                continue
            for key, value in found.items():
                if key != "content":
                    candidate[key] = value
            content = found.get("content")
            if isinstance(content, dict):
                role = content.get("role") or role
                for part in content.get("parts") or ():
                    if isinstance(part, dict):
                        _append_part(parts, part)
    if candidate or parts:
        merged["candidates"] = [{**candidate, "content": {"role": role, "parts": parts}, "index": 0}]
    return merged


def _append_part(parts: list[dict[str, Any]], part: Mapping[str, Any]) -> None:
    text = part.get("text")
    if isinstance(text, str) and parts:
        last = parts[-1]
        joinable = isinstance(last.get("text"), str) and "thoughtSignature" not in last
        if joinable and bool(last.get("thought")) == bool(part.get("thought")) and set(part) <= _TEXT_KEYS:
            last["text"] += text
            if "thoughtSignature" in part:
                last["thoughtSignature"] = part["thoughtSignature"]
            return
    parts.append(dict(part))


_TEXT_KEYS = frozenset({"text", "thought", "thoughtSignature"})


def repair_signatures(request: Mapping[str, Any], model: str) -> dict[str, Any]:
    """The request with its history made acceptable after the upstream refused its thought signatures.

    Gemini models take the skip sentinel on every signed part; Claude models behind this API refuse the
    sentinel, so their thinking parts are dropped and the other parts lose their signatures.
    """
    claude = "claude" in model
    contents = []
    for content in request.get("contents") or ():
        if not isinstance(content, dict):
            contents.append(content)
            continue
        parts = []
        for part in content.get("parts") or ():
            if not isinstance(part, dict):
                parts.append(part)
                continue
            if claude and part.get("thought"):
                continue
            if "thoughtSignature" in part or (not claude and "functionCall" in part):
                part = {key: value for key, value in part.items() if key != "thoughtSignature"}
                if not claude:
                    part["thoughtSignature"] = SKIP_SIGNATURE
            parts.append(part)
        if parts or content.get("role") != "model":
            contents.append({**content, "parts": parts})
    return {**request, "contents": contents}


def first_user_text(request: Mapping[str, Any]) -> str | None:
    """The text of the first user turn: what identifies a conversation for sticky sessions."""
    for content in request.get("contents") or ():
        if isinstance(content, dict) and content.get("role", "user") == "user":
            parts = content.get("parts") or ()
            texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
            if texts:
                return "".join(texts)
    return None


def gemini_model(name: str, display_name: str | None = None) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": display_name or name,
        "description": f"{name}, served by trayagent",
        "inputTokenLimit": DEFAULT_INPUT_LIMIT,
        "outputTokenLimit": DEFAULT_OUTPUT_LIMIT,
        "supportedGenerationMethods": list(GENERATION_METHODS),
    }


def gemini_model_list(names: Iterable[str]) -> dict[str, Any]:
    return {"models": [gemini_model(name) for name in names]}


def openai_model_list(names: Iterable[str], created: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": created, "owned_by": _owner(name)} for name in names],
    }


def _owner(name: str) -> str:
    if name.startswith("claude"):
        return "anthropic"
    if name.startswith("gpt"):
        return "openai"
    return "google"
