"""Quota per model from `fetchAvailableModels`, and its summary by model family. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trayagent.accounts.record import ModelQuota, clamp_fraction, parse_time

# Names the backend serves to clients; it also lists internal ones (`chat_…`, `tab_…`) we never route to.
_SERVED_PREFIXES = ("gemini", "claude", "gpt", "image", "imagen")
FAMILIES = ("Claude", "Gemini Pro", "Gemini Flash", "Gemini Image", "GPT-OSS", "Other")


@dataclass(frozen=True, slots=True)
class FamilyQuota:
    family: str
    remaining: float  # the least left among the family's models
    reset_at: float | None  # the earliest refill among those with something used


def read_available_models(reply: Mapping[str, Any]) -> dict[str, ModelQuota]:
    """{model: quota} from a `fetchAvailableModels` reply; a missing fraction means nothing is left."""
    models = reply.get("models")
    if not isinstance(models, dict):
        return {}
    quota: dict[str, ModelQuota] = {}
    for name, info in models.items():
        if not isinstance(name, str) or not name.lower().startswith(_SERVED_PREFIXES):
            continue
        raw = info.get("quotaInfo") if isinstance(info, dict) else None
        quota_info: dict[str, Any] = raw if isinstance(raw, dict) else {}
        quota[name] = ModelQuota(
            remaining=clamp_fraction(quota_info.get("remainingFraction")),
            reset_at=parse_time(quota_info.get("resetTime")),
        )
    return quota


def family_of(model: str) -> str:
    name = model.lower()
    if name.startswith("claude"):
        return "Claude"
    if name.startswith("gpt"):
        return "GPT-OSS"
    if "image" in name:
        return "Gemini Image"
    if name.startswith("gemini") and "pro" in name:
        return "Gemini Pro"
    if name.startswith("gemini") and "flash" in name:
        return "Gemini Flash"
    return "Other"


def by_family(quota: Mapping[str, ModelQuota]) -> list[FamilyQuota]:
    groups: dict[str, list[ModelQuota]] = {}
    for model, entry in quota.items():
        groups.setdefault(family_of(model), []).append(entry)
    summary = []
    for family in FAMILIES:
        entries = groups.get(family)
        if not entries:
            continue
        resets = [e.reset_at for e in entries if e.reset_at is not None and e.remaining < 1.0]
        summary.append(FamilyQuota(family, min(e.remaining for e in entries), min(resets) if resets else None))
    return summary
