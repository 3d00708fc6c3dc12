"""`trayagent accounts list`: the text table, the quota line, the --json records."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from trayagent.accounts.record import Account, ModelQuota
from trayagent.accounts.table import as_json, quota_line, render_table, status_text

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC).timestamp()
VERIFY = "https://accounts.google.com/signin/continue?sarp=1"

ALICE = Account(
    id="1",
    email="alice@example.com",
    created_at=NOW - 86400,
    tier="pro",
    tier_name="Google AI Pro",
    project_id="proj-a",
    quota={"claude-sonnet-4-6": ModelQuota(1.0, None), "gemini-2.5-flash": ModelQuota(0.25, None)},
    quota_checked_at=NOW - 30,
)
BOB = Account(
    id="2",
    email="bob@example.org",
    created_at=NOW,
    tier="free",
    enabled=False,
    disabled_reason="revoked for bob@example.org",
)
CAROL = Account(id="3", email="carol.long@example.net", created_at=NOW, enabled=False, validation_url=VERIFY)


def local_clock(moment: float, pattern: str = "%H:%M") -> str:
    return datetime.fromtimestamp(moment).strftime(pattern)  # the table shows the user's own clock


def test_table_full():
    assert render_table([ALICE, BOB, CAROL], now=NOW, full=True).splitlines() == [
        "EMAIL                   TIER                 PROJECT  STATUS",
        "alice@example.com       pro (Google AI Pro)  proj-a   ok",
        "    Claude 100% · Gemini Flash 25%   [checked just now]",
        "bob@example.org         free                 -        disabled: revoked for bob@example.org",
        "    quota not checked yet",
        f"carol.long@example.net  unknown              -        needs verification: {VERIFY}",
        "    quota not checked yet",
    ]


def test_table_masks_emails_by_default():
    table = render_table([ALICE, BOB, CAROL], now=NOW)
    for email in ("alice@example.com", "bob@example.org", "carol.long@example.net"):
        assert email not in table
    rows = [line.split()[0] for line in table.splitlines()[1::2]]
    assert rows == ["al***@ex***", "bo***@ex***", "ca***@ex***"]
    assert "disabled: revoked for bo***@ex***" in table  # the email inside a reason, too


def test_table_columns_line_up():
    lines = render_table([ALICE, BOB, CAROL], now=NOW).splitlines()
    header, rows = lines[0], lines[1::2]
    for column in ("TIER", "PROJECT", "STATUS"):
        start = header.index(column)
        assert all(row[start - 2 : start] == "  " and row[start] != " " for row in rows), column


def test_empty_table_says_how_to_add_an_account():
    text = render_table([], now=NOW)
    assert text.startswith("no accounts yet") and "trayagent accounts login" in text


@pytest.mark.parametrize(
    ("account", "text"),
    [
        (ALICE, "ok"),
        (Account(id="1", email="a@b.co", created_at=0, validation_url=VERIFY), "ok"),
        (BOB, "disabled: revoked for bob@example.org"),
        (Account(id="1", email="a@b.co", created_at=0, enabled=False), "disabled: no reason recorded"),
        (CAROL, f"needs verification: {VERIFY}"),
    ],
)
def test_status_text(account: Account, text: str):
    assert status_text(account) == text


@pytest.mark.parametrize(
    ("delta", "when"),
    [
        (2 * 3600 + 5 * 60, "{clock}, in 2h 05m"),
        (3600, "{clock}, in 1h 00m"),
        (90, "{clock}, in 1m"),
        (30, "{clock}, in 30s"),
        (26 * 3600, "{date}, in 1d 2h"),  # a day or so away: the date too
        (0, "now"),
        (-600, "now"),
    ],
)
def test_reset_times_are_relative_to_now(delta: float, when: str):
    account = Account(id="1", email="a@b.co", created_at=0, quota={"gemini-3-pro-high": ModelQuota(0.6, NOW + delta)})
    expected = when.format(clock=local_clock(NOW + delta), date=local_clock(NOW + delta, "%b %d %H:%M"))
    assert quota_line(account, NOW) == f"Gemini Pro 60% (resets {expected})"


def test_quota_line_lists_families_with_percentages():
    account = Account(
        id="1",
        email="a@b.co",
        created_at=0,
        quota={
            "gemini-2.5-flash": ModelQuota(1.0, NOW + 60),  # full: no reset shown
            "claude-sonnet-4-6": ModelQuota(0.0, NOW + 3 * 3600),
            "gemini-3-pro-high": ModelQuota(0.75, None),
        },
        quota_checked_at=NOW - 5 * 60,
    )
    assert quota_line(account, NOW) == (
        f"Claude 0% (resets {local_clock(NOW + 3 * 3600)}, in 3h 00m) · Gemini Pro 75% · Gemini Flash 100%"
        "   [checked 5m ago]"
    )


@pytest.mark.parametrize(
    ("account", "line"),
    [
        (Account(id="1", email="a@b.co", created_at=0), "quota not checked yet"),
        (Account(id="1", email="a@b.co", created_at=0, quota_error="fetchAvailableModels failed (HTTP 503)"),
         "quota unknown (fetchAvailableModels failed (HTTP 503))"),
        (Account(id="1", email="a@b.co", created_at=0, quota_error="Bearer ya29.a0secret-token for a@example.com"),
         "quota unknown (Bearer ya29.… for a***@ex***)"),
        (Account(id="1", email="a@b.co", created_at=0, quota={"gpt-oss-120b-medium": ModelQuota(0.5)},
                 quota_checked_at=NOW - 7200, quota_error="HTTP 500 from ya29.abc"),
         "GPT-OSS 50%   [checked 2h 00m ago]   last check failed: HTTP 500 from ya29.…"),
    ],
)  # fmt: skip
def test_quota_line_states(account: Account, line: str):
    assert quota_line(account, NOW) == line


def test_json_records_carry_no_tokens_and_mask_emails():
    records = as_json([ALICE, BOB, CAROL])
    assert [r["email"] for r in records] == ["al***@ex***", "bo***@ex***", "ca***@ex***"]
    assert [r["status"] for r in records] == ["ok", "disabled", "needs_verification"]
    assert records[1]["disabled_reason"] == "revoked for bo***@ex***"
    for record in records:
        assert not [key for key in record if re.search(r"token|secret|password", key, re.IGNORECASE)]
    text = json.dumps(records)
    assert not re.search(r"[\w.]+@[\w-]+\.[a-z]{2,}", text)  # no whole email anywhere


def test_json_records_full():
    records = as_json([ALICE, BOB], full=True)
    assert records == [{**ALICE.to_json(), "status": "ok"}, {**BOB.to_json(), "status": "disabled"}]
    assert as_json([]) == []
