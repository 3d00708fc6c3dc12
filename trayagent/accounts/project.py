"""Which Cloud Code project and tier an account has: `loadCodeAssist`, then `onboardUser` when needed.

The reply readers are pure; `resolve_project` does the calls. Onboarding is a long-running operation:
`onboardUser` is posted again until it says `done`, a bounded number of times.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from trayagent.accounts.record import Tier
from trayagent.errors import GoogleError
from trayagent.upstream.client import CloudCodeClient

METADATA = {"ideType": "ANTIGRAVITY", "platform": "PLATFORM_UNSPECIFIED", "pluginType": "GEMINI"}
# Seconds between onboarding polls: about a minute in all before giving up.
ONBOARD_POLL_DELAYS: tuple[float, ...] = (0.5, 1, 2, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5)


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    project_id: str
    tier: Tier
    tier_name: str | None


@dataclass(frozen=True, slots=True)
class CodeAssistState:
    """What `loadCodeAssist` says: the project (None: onboarding needed), the tier, the tier to onboard into."""

    project_id: str | None
    tier: Tier
    tier_name: str | None
    onboard_tier_id: str


def tier_kind(text: str | None) -> Tier:
    """Classify a tier id or name: the pool prefers ultra, then pro, then free."""
    lowered = (text or "").lower()
    if "ultra" in lowered:
        return "ultra"
    if "pro" in lowered:
        return "pro"
    if "free" in lowered or "legacy" in lowered:
        return "free"
    return "unknown"


def read_code_assist(reply: dict[str, Any]) -> CodeAssistState:
    project = _project_id(reply.get("cloudaicompanionProject"))
    allowed = [t for t in reply.get("allowedTiers") or [] if isinstance(t, dict)]
    default = next((t for t in allowed if t.get("isDefault") or t.get("is_default")), allowed[0] if allowed else {})
    onboard_tier = str(default.get("id") or "free-tier")
    tier, name = _tier(reply, default)
    return CodeAssistState(project_id=project, tier=tier, tier_name=name, onboard_tier_id=onboard_tier)


def _tier(reply: dict[str, Any], default: dict[str, Any]) -> tuple[Tier, str | None]:
    # The paid tier says most; the current one counts when nothing is marked ineligible.
    paid, current = reply.get("paidTier"), reply.get("currentTier")
    for candidate in (paid, current if not reply.get("ineligibleTiers") else None):
        if isinstance(candidate, dict) and (candidate.get("id") or candidate.get("name")):
            name = str(candidate.get("name") or candidate.get("id"))
            kind = tier_kind(str(candidate.get("id") or "")) if candidate.get("id") else "unknown"
            return (kind if kind != "unknown" else tier_kind(name)), name
    if default:
        name = str(default.get("name") or default.get("id") or "")
        return tier_kind(str(default.get("id") or name)), f"{name} (restricted)" if name else None
    return "unknown", None


def _project_id(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
        return str(value["id"])
    return None


async def resolve_project(
    client: CloudCodeClient,
    access_token: str,
    *,
    delays: Sequence[float] = ONBOARD_POLL_DELAYS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ProjectInfo:
    """The account's project and tier, onboarding it first when it has none."""
    state = read_code_assist(await client.call("loadCodeAssist", {"metadata": METADATA}, access_token))
    if state.project_id:
        return ProjectInfo(state.project_id, state.tier, state.tier_name)
    body = {"tierId": state.onboard_tier_id, "metadata": METADATA}
    for delay in (0.0, *delays):
        if delay:
            await sleep(delay)
        operation = await client.call("onboardUser", body, access_token)
        if operation.get("done"):
            response = operation.get("response")
            project = _project_id(response.get("cloudaicompanionProject")) if isinstance(response, dict) else None
            if project is None:
                raise GoogleError("Google finished setting up the account but named no project")
            # The tier only becomes meaningful once onboarded: ask again, best effort.
            try:
                after = read_code_assist(await client.call("loadCodeAssist", {"metadata": METADATA}, access_token))
                return ProjectInfo(project, after.tier, after.tier_name)
            except GoogleError:
                return ProjectInfo(project, tier_kind(state.onboard_tier_id), None)
    raise GoogleError(
        "Google is still setting up a Cloud Code project for this account; "
        "try `trayagent accounts list --refresh` in a minute"
    )
