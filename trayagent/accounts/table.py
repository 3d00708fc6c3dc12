"""`trayagent accounts list` as text: one line per account, then its quota by model family. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from trayagent.accounts.quota import by_family
from trayagent.accounts.record import Account
from trayagent.redact import redact

_HEADERS = ("EMAIL", "TIER", "PROJECT", "STATUS")


def status_text(account: Account) -> str:
    if account.status == "ok":
        return "ok"
    if account.status == "needs_verification":
        return f"needs verification: {account.validation_url}"
    return f"disabled: {account.disabled_reason or 'no reason recorded'}"


def render_table(accounts: Sequence[Account], *, now: float, full: bool = False) -> str:
    if not accounts:
        return "no accounts yet: add one with `trayagent accounts login` (or `accounts add --refresh-token -`)"
    show = (lambda text: text) if full else redact
    rows = [
        (
            show(a.email),
            a.tier if not a.tier_name else f"{a.tier} ({a.tier_name})",
            a.project_id or "-",
            show(status_text(a)),
        )
        for a in accounts
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADERS[:-1])]

    def line(cells: Sequence[str]) -> str:
        return "  ".join([*(c.ljust(w) for c, w in zip(cells, widths, strict=False)), cells[-1]])

    lines = [line(_HEADERS)]
    for account, row in zip(accounts, rows, strict=True):
        lines.append(line(row))
        lines.append("    " + quota_line(account, now))
    return "\n".join(lines)


def quota_line(account: Account, now: float) -> str:
    if not account.quota:
        if account.quota_error:
            return f"quota unknown ({redact(account.quota_error)})"
        return "quota not checked yet"
    parts = []
    for family in by_family(account.quota):
        text = f"{family.family} {round(family.remaining * 100)}%"
        if family.reset_at is not None:
            text += f" (resets {_when(family.reset_at, now)})"
        parts.append(text)
    line = " · ".join(parts)
    if account.quota_checked_at is not None:
        line += f"   [checked {_ago(account.quota_checked_at, now)}]"
    if account.quota_error:
        line += f"   last check failed: {redact(account.quota_error)}"
    return line


def as_json(accounts: Sequence[Account], *, full: bool = False) -> list[dict[str, Any]]:
    """The records for `--json`: no tokens ever, emails masked unless `full`."""
    out = []
    for account in accounts:
        data = account.to_json()
        data["status"] = account.status
        if not full:
            data["email"] = redact(account.email)
            if data["disabled_reason"]:
                data["disabled_reason"] = redact(data["disabled_reason"])
        out.append(data)
    return out


def _when(moment: float, now: float) -> str:
    delta = moment - now
    if delta <= 0:
        return "now"
    local = datetime.fromtimestamp(moment)  # the user's clock
    clock = local.strftime("%H:%M" if delta < 20 * 3600 else "%b %d %H:%M")
    return f"{clock}, in {_duration(delta)}"


def _ago(moment: float, now: float) -> str:
    delta = max(0.0, now - moment)
    return "just now" if delta < 60 else f"{_duration(delta)} ago"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{max(minutes, 1)}m" if seconds >= 60 else f"{seconds}s"
