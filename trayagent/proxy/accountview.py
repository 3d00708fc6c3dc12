"""An account as the status API shows it: its record, quota by model and any cooldown, never a token. Pure."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from trayagent.accounts.poolstate import Cooldown, CooldownKey
from trayagent.accounts.quota import family_of
from trayagent.accounts.record import Account
from trayagent.proxy.monitor.row import iso
from trayagent.redact import redact


def account_view(
    account: Account,
    *,
    cooldowns: Iterable[tuple[CooldownKey, Cooldown]] = (),
    last_used: float | None = None,
) -> dict[str, Any]:
    """`cooldowns`: the pool's active ones (any account's; this one's are picked out). `last_used`: the pool's
    last pick of the account, newer than the record's when the proxy picked it since the file was written."""
    used = [moment for moment in (account.last_used_at, last_used) if moment is not None]
    return {
        "id": account.id,
        "email": account.email,
        "email_masked": redact(account.email),
        "name": account.name,
        "tier": account.tier,
        "tier_name": account.tier_name,
        "project_id": account.project_id,
        "status": account.status,
        "disabled_reason": account.disabled_reason,
        "validation_url": account.validation_url,
        "quota": [
            {"model": model, "family": family_of(model), "remaining": quota.remaining, "reset_at": iso(quota.reset_at)}
            for model, quota in sorted(account.quota.items())
        ],
        "quota_checked_at": iso(account.quota_checked_at),
        "quota_error": account.quota_error,
        "last_used_at": iso(max(used)) if used else None,
        "cooldown": cooldown_view(account.id, cooldowns),
    }


def cooldown_view(account_id: str, cooldowns: Iterable[tuple[CooldownKey, Cooldown]]) -> dict[str, Any] | None:
    """The cooldown keeping the account out longest: a whole-account one, or one model's (then `model` says
    which). `until` is None for a cooldown that lasts until the user acts (e.g. verification)."""
    mine = [(key, cooldown) for key, cooldown in cooldowns if key[0] == account_id]
    if not mine:
        return None
    # A whole-account cooldown wins over a longer single-model one: it is the one that matters most.
    whole = [item for item in mine if item[0][1] is None]
    (_, model), cooldown = max(whole or mine, key=lambda item: item[1].until)
    return {
        "until": iso(cooldown.until) if math.isfinite(cooldown.until) else None,
        "kind": cooldown.kind,
        "message": cooldown.message,
        "model": model,
    }
