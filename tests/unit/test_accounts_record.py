"""The account record: JSON on disk, lenient readers for times and fractions, status."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime

import pytest

from trayagent.accounts.record import (
    TIERS,
    Account,
    ModelQuota,
    access_token_name,
    clamp_fraction,
    new_account,
    parse_time,
    refresh_token_name,
    same_email,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC).timestamp()
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def full_record() -> Account:
    """Every field set; times on whole milliseconds (what the file keeps)."""
    return Account(
        id="0f3c",
        email="alice@example.com",
        created_at=NOW - 86400.25,
        name="Alice",
        project_id="proj-a",
        tier="ultra",
        tier_name="Google AI Ultra",
        enabled=False,
        disabled_reason="verify your account",
        validation_url="https://accounts.google.com/signin/continue?x=1",
        quota={
            "gemini-3-pro-high": ModelQuota(0.25, NOW + 3600.5),
            "claude-sonnet-4-6": ModelQuota(0.0, None),
            "gemini-2.5-flash": ModelQuota(1.0, NOW + 60),
        },
        quota_checked_at=NOW - 60,
        quota_error="HTTP 503",
        last_used_at=NOW - 0.125,
    )


def test_round_trip_through_real_json_is_identity():
    record = full_record()
    text = json.dumps(record.to_json())
    assert Account.from_json(json.loads(text)) == record


def test_disk_form_uses_iso_utc_times():
    data = full_record().to_json()
    assert set(data) == {
        "id", "email", "name", "project_id", "tier", "tier_name", "enabled", "disabled_reason", "validation_url",
        "quota", "quota_checked_at", "quota_error", "created_at", "last_used_at",
    }  # fmt: skip
    assert data["created_at"] == "2026-11-22T11:59:59.750Z"
    assert data["last_used_at"] == "2026-11-23T11:59:59.875Z"
    for moment in (data["created_at"], data["quota_checked_at"], data["last_used_at"]):
        assert ISO_UTC.fullmatch(moment)
    assert data["quota"]["gemini-3-pro-high"] == {"remaining": 0.25, "reset_at": "2026-11-23T13:00:00.500Z"}
    assert data["quota"]["claude-sonnet-4-6"] == {"remaining": 0.0, "reset_at": None}
    assert list(data["quota"]) == sorted(data["quota"])  # stable file diffs


def test_minimal_record_round_trips_with_nulls():
    record = Account(id="x", email="bob@example.com", created_at=NOW)
    data = record.to_json()
    assert (data["last_used_at"], data["quota_checked_at"], data["quota"]) == (None, None, {})
    assert Account.from_json(data) == record


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "should be a JSON object"),
        (None, "should be a JSON object"),
        ({"id": "x"}, r"no valid email \(None\)"),
        ({"id": "x", "email": ""}, "no valid email"),
        ({"id": "x", "email": 42}, "no valid email"),
        ({"id": "x", "email": "nobody"}, r"no valid email \('nobody'\)"),
        ({"email": "a@b.co"}, "account a@b.co has no id"),
        ({"id": "", "email": "a@b.co"}, "has no id"),
        ({"id": 7, "email": "a@b.co"}, "has no id"),
        ({"id": "x", "email": "a@b.co", "quota": []}, "a@b.co: quota should be an object"),
        ({"id": "x", "email": "a@b.co", "quota": "full"}, "quota should be an object"),
        ({"id": "x", "email": "a@b.co", "quota": {"gemini-2.5-flash": 0.5}}, "quota of gemini-2.5-flash should be"),
    ],
)
def test_from_json_rejects_broken_records(data: object, message: str):
    with pytest.raises(ValueError, match=message):
        Account.from_json(data)


@pytest.mark.parametrize("tier", TIERS)
def test_known_tiers_are_kept(tier: str):
    assert Account.from_json({"id": "x", "email": "a@b.co", "tier": tier}).tier == tier


@pytest.mark.parametrize("tier", ["platinum", "", None, 3, "ULTRA"])
def test_unknown_tier_reads_as_unknown(tier: object):
    assert Account.from_json({"id": "x", "email": "a@b.co", "tier": tier}).tier == "unknown"


def test_from_json_fills_defaults_and_tolerates_odd_values():
    record = Account.from_json(
        {
            "id": "x",
            "email": "a@b.co",
            "created_at": NOW,  # epoch seconds are read too
            "quota": {"m": {"remaining": 7, "reset_at": "soon"}, "n": {}},
            "name": "",
            "last_used_at": "garbage",
        }
    )
    assert record == Account(
        id="x",
        email="a@b.co",
        created_at=NOW,
        quota={"m": ModelQuota(1.0, None), "n": ModelQuota(0.0, None)},
    )
    assert Account.from_json({"id": "x", "email": "a@b.co", "quota": None}).quota == {}
    assert Account.from_json({"id": "x", "email": "a@b.co"}).created_at == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T12:00:00Z", NOW),
        ("2026-11-23T12:00:00z", NOW),
        ("  2026-11-23T12:00:00Z ", NOW),
        ("2026-11-23T12:00:00.250Z", NOW + 0.25),
        ("2026-11-23T12:00:00.123456789Z", NOW + 0.123456),  # nanoseconds: cut to microseconds
        ("2026-11-23T13:00:00+01:00", NOW),
        ("2026-11-23T06:30:00-05:30", NOW),
        ("2026-11-23T12:00:00", NOW),  # no zone: UTC
        ("2026-11-23T12:00:00+00:00", NOW),
    ],
)
def test_parse_time(text: str, expected: float):
    result = parse_time(text)
    assert result is not None and math.isclose(result, expected, abs_tol=1e-6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-11-23T13:00:00.5+01:00", NOW + 0.5), ("2026-11-23T07:00:00.250-05:00", NOW + 0.25)],
)
def test_parse_time_fraction_with_offset(text: str, expected: float):
    result = parse_time(text)
    assert result is not None and math.isclose(result, expected, abs_tol=1e-6)


@pytest.mark.parametrize("value", ["yesterday", "", "2026-13-40T00:00:00Z", "12:00", "a.b", None, 1795435200, {}])
def test_parse_time_unreadable_is_none(value: object):
    assert parse_time(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0.0), (0.37, 0.37), (1, 1.0), ("0.25", 0.25), (" 0.5 ", 0.5), ("1e-1", 0.1),
        (-0.1, 0.0), (1.5, 1.0), ("2", 1.0),
        (None, 0.0), (True, 0.0), (False, 0.0), ("", 0.0), ("abc", 0.0), ([0.5], 0.0), ({"v": 1}, 0.0),
        (math.nan, 0.0), (math.inf, 0.0), (-math.inf, 0.0), ("nan", 0.0), ("inf", 0.0),
    ],
)  # fmt: skip
def test_clamp_fraction(value: object, expected: float):
    result = clamp_fraction(value)
    assert type(result) is float and result == expected


@pytest.mark.parametrize(
    ("enabled", "validation_url", "status"),
    [
        (True, None, "ok"),
        (True, "https://accounts.google.com/verify", "ok"),  # re-enabled: the old URL no longer matters
        (False, None, "disabled"),
        (False, "https://accounts.google.com/verify", "needs_verification"),
    ],
)
def test_status(enabled: bool, validation_url: str | None, status: str):
    assert (
        Account(id="1", email="a@b.co", created_at=0, enabled=enabled, validation_url=validation_url).status == status
    )


def test_token_names_and_new_accounts():
    a, b = new_account("a@b.co", NOW), new_account("a@b.co", NOW)
    assert a.id != b.id and re.fullmatch(r"[0-9a-f]{32}", a.id)
    assert (a.created_at, a.enabled, a.tier, a.quota) == (NOW, True, "unknown", {})
    assert a.refresh_token_name == refresh_token_name(a.id) and a.id in a.refresh_token_name
    assert a.access_token_name == access_token_name(a.id) != a.refresh_token_name
    assert same_email(" Alice@Example.com", "alice@example.com ") and not same_email("alice@example.com", "al@ex.com")


@pytest.mark.parametrize(("stored", "enabled"), [(False, False), (True, True), ("false", True), (None, True)])
def test_only_an_explicit_false_disables(stored: object, enabled: bool):
    assert Account.from_json({"id": "x", "email": "a@b.co", "enabled": stored}).enabled is enabled
