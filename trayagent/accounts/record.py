"""The account record: what trayagent knows about one Google account, minus its tokens.

Immutable; a change makes a new record (`dataclasses.replace`). Times are epoch seconds in memory
and ISO-8601 UTC strings on disk, so `accounts.json` stays readable. Tokens live in the secret store
under the names given by `refresh_token_name` / `access_token_name`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Tier = Literal["ultra", "pro", "free", "unknown"]
TIERS: tuple[Tier, ...] = ("ultra", "pro", "free", "unknown")  # best first: the pool's ordering
AccountStatus = Literal["ok", "disabled", "needs_verification"]


@dataclass(frozen=True, slots=True)
class ModelQuota:
    """What is left of one model's quota: a fraction 0..1, and when it refills (None: unknown)."""

    remaining: float
    reset_at: float | None = None


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    email: str
    created_at: float
    name: str | None = None
    project_id: str | None = None
    tier: Tier = "unknown"
    tier_name: str | None = None
    enabled: bool = True
    disabled_reason: str | None = None
    validation_url: str | None = None
    quota: Mapping[str, ModelQuota] = field(default_factory=dict)
    quota_checked_at: float | None = None
    quota_error: str | None = None
    last_used_at: float | None = None

    @property
    def status(self) -> AccountStatus:
        if self.enabled:
            return "ok"
        return "needs_verification" if self.validation_url else "disabled"

    @property
    def refresh_token_name(self) -> str:
        return refresh_token_name(self.id)

    @property
    def access_token_name(self) -> str:
        return access_token_name(self.id)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "project_id": self.project_id,
            "tier": self.tier,
            "tier_name": self.tier_name,
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "validation_url": self.validation_url,
            "quota": {m: _quota_json(q) for m, q in sorted(self.quota.items())},
            "quota_checked_at": _iso(self.quota_checked_at),
            "quota_error": self.quota_error,
            "created_at": _iso(self.created_at),
            "last_used_at": _iso(self.last_used_at),
        }

    @classmethod
    def from_json(cls, data: Any) -> Account:
        """Read one record written by `to_json`; ValueError names the bad field."""
        if not isinstance(data, dict):
            raise ValueError("an account should be a JSON object")
        email = _text(data, "email")
        if not email or "@" not in email:
            raise ValueError(f"an account has no valid email ({email!r})")
        account_id = _text(data, "id")
        if not account_id:
            raise ValueError(f"account {email} has no id")
        tier = data.get("tier", "unknown")
        quota_raw = data.get("quota")
        quota_raw = {} if quota_raw is None else quota_raw
        if not isinstance(quota_raw, dict):
            raise ValueError(f"account {email}: quota should be an object")
        quota: dict[str, ModelQuota] = {}
        for model, entry in quota_raw.items():
            if not isinstance(entry, dict):
                raise ValueError(f"account {email}: quota of {model} should be an object")
            quota[str(model)] = ModelQuota(
                remaining=clamp_fraction(entry.get("remaining")), reset_at=_time(entry.get("reset_at"))
            )
        return cls(
            id=account_id,
            email=email,
            created_at=_time(data.get("created_at")) or 0.0,
            name=_text(data, "name"),
            project_id=_text(data, "project_id"),
            tier=tier if tier in TIERS else "unknown",
            tier_name=_text(data, "tier_name"),
            enabled=data.get("enabled", True) is not False,  # only an explicit false disables
            disabled_reason=_text(data, "disabled_reason"),
            validation_url=_text(data, "validation_url"),
            quota=quota,
            quota_checked_at=_time(data.get("quota_checked_at")),
            quota_error=_text(data, "quota_error"),
            last_used_at=_time(data.get("last_used_at")),
        )


def new_account(email: str, now: float) -> Account:
    return Account(id=uuid.uuid4().hex, email=email, created_at=now)


def refresh_token_name(account_id: str) -> str:
    return f"account:{account_id}:refresh_token"


def access_token_name(account_id: str) -> str:
    return f"account:{account_id}:access_token"


def same_email(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def clamp_fraction(value: Any) -> float:
    """A quota fraction in 0..1; anything missing or unreadable counts as 0 (spec: missing means 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0
    try:
        number = float(value)
    except ValueError:
        return 0.0
    if not math.isfinite(number):
        return 0.0
    return min(1.0, max(0.0, number))


def parse_time(value: Any) -> float | None:
    """An RFC 3339 timestamp (`2026-11-23T10:00:00Z`, fractions allowed) as epoch seconds; None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python < 3.11 parsers choke on nanoseconds; keep at most microseconds.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]  # only the fraction, not the zone's digits
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6] or '0'}{zone}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _quota_json(quota: ModelQuota) -> dict[str, Any]:
    return {"remaining": quota.remaining, "reset_at": _iso(quota.reset_at)}


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _time(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return parse_time(value)


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None
