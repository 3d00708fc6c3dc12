"""The pure parts of the accounts layer: the record, OAuth pieces, tier and quota readers, Google errors, the table."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import urllib.parse
from datetime import UTC, datetime

import pytest

from trayagent.accounts.oauth import SCOPES, Pkce, authorization_url, code_from_callback, token_grant
from trayagent.accounts.project import read_code_assist, tier_kind
from trayagent.accounts.quota import by_family, family_of, read_available_models
from trayagent.accounts.record import Account, ModelQuota, clamp_fraction, parse_time
from trayagent.accounts.table import as_json, quota_line, render_table
from trayagent.config import OAuthSettings
from trayagent.errors import GoogleError, LoginFailed
from trayagent.upstream.google_error import google_error
from trayagent.upstream.identity import default_user_agent, user_agent

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC).timestamp()


def full_record() -> Account:
    return Account(
        id="abc",
        email="alice@example.com",
        created_at=NOW - 86400,
        name="Alice",
        project_id="proj-a",
        tier="pro",
        tier_name="Google AI Pro",
        enabled=False,
        disabled_reason="reason",
        validation_url="https://accounts.google.com/verify",
        quota={"gemini-2.5-flash": ModelQuota(0.5, NOW + 3600), "claude-sonnet-4-6": ModelQuota(0.0, None)},
        quota_checked_at=NOW - 60,
        quota_error="boom",
        last_used_at=NOW - 5,
    )


# -- record ----------------------------------------------------------------------------------------------


def test_record_round_trips_through_json():
    record = full_record()
    data = record.to_json()
    assert data["created_at"] == "2026-11-22T12:00:00.000Z"  # readable UTC on disk
    assert Account.from_json(data) == record


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"id": "x", "email": "nobody"}, "no valid email"),
        ({"id": "x"}, "no valid email"),
        ({"email": "a@b.c"}, "has no id"),
        ({"id": "x", "email": "a@b.c", "quota": []}, "quota should be an object"),
        ([], "should be a JSON object"),
    ],
)
def test_record_rejects_broken_entries(data: object, message: str):
    with pytest.raises(ValueError, match=message):
        Account.from_json(data)


def test_record_tolerates_an_unknown_tier():
    assert Account.from_json({"id": "x", "email": "a@b.c", "tier": "platinum"}).tier == "unknown"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T12:00:00Z", NOW),
        ("2026-11-23T13:00:00+01:00", NOW),
        ("2026-11-23T12:00:00.123456789Z", NOW + 0.123456),
        ("2026-11-23T12:00:00", NOW),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_time(text: str | None, expected: float | None):
    result = parse_time(text)
    assert result == expected if expected is None else math.isclose(result or 0, expected, abs_tol=1e-6)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.4, 0.4), (1, 1.0), ("0.25", 0.25), (None, 0.0), (True, 0.0), (float("nan"), 0.0), (-1, 0.0), (7, 1.0)],
)
def test_clamp_fraction(value: object, expected: float):
    assert clamp_fraction(value) == expected


def test_status():
    base = full_record()
    assert Account(id="1", email="a@b.c", created_at=0).status == "ok"
    assert base.status == "needs_verification"
    assert Account(id="1", email="a@b.c", created_at=0, enabled=False).status == "disabled"


# -- OAuth -----------------------------------------------------------------------------------------------


def test_pkce_challenge_is_s256_of_the_verifier():
    pkce = Pkce.generate()
    assert 43 <= len(pkce.verifier) <= 128 and re.fullmatch(r"[A-Za-z0-9._~-]+", pkce.verifier)
    digest = base64.urlsafe_b64encode(hashlib.sha256(pkce.verifier.encode()).digest()).rstrip(b"=").decode()
    assert pkce.challenge == digest
    assert Pkce.generate().verifier != pkce.verifier


@pytest.mark.parametrize("auth_url", ["https://accounts.example/auth", "https://accounts.example/auth?hl=fr"])
def test_consent_url(auth_url: str):
    settings = OAuthSettings(client_id="cid", auth_url=auth_url)
    pkce = Pkce.generate()
    url = authorization_url(settings, "http://localhost:5000/oauth-callback", "st4te", pkce)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith(auth_url)
    assert set(query["scope"].split()) == set(SCOPES)
    assert {k: query[k] for k in ("client_id", "redirect_uri", "response_type", "access_type", "prompt", "state")} == {
        "client_id": "cid",
        "redirect_uri": "http://localhost:5000/oauth-callback",
        "response_type": "code",
        "access_type": "offline",
        "prompt": "consent",
        "state": "st4te",
    }
    assert (query["code_challenge"], query["code_challenge_method"]) == (pkce.challenge, "S256")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"state": "other", "code": "c"}, "wrong state"),
        ({"code": "c"}, "wrong state"),
        ({"state": "s", "error": "access_denied"}, "declined the consent screen"),
        (
            {"state": "s", "error": "invalid_scope", "error_description": "bad"},
            "refused the sign-in: invalid_scope bad",
        ),
        ({"state": "s"}, "no authorization code"),
    ],
)
def test_callback_problems(query: dict[str, str], message: str):
    with pytest.raises(LoginFailed, match=message):
        code_from_callback(query, "s")


def test_callback_code():
    assert code_from_callback({"state": "s", "code": "4/abc"}, "s") == "4/abc"


def test_token_grant():
    assert token_grant({"access_token": "ya29.x", "expires_in": 100}, NOW).expires_at == NOW + 100
    grant = token_grant({"access_token": "ya29.x", "refresh_token": "1//r"}, NOW)
    assert (grant.expires_at, grant.refresh_token) == (NOW + 3600, "1//r")
    with pytest.raises(GoogleError, match="without an access token"):
        token_grant({"expires_in": 100}, NOW)


# -- project and tier ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [("g1-ultra-tier", "ultra"), ("g1-pro-tier", "pro"), ("free-tier", "free"), ("legacy-tier", "free"),
     ("standard-tier", "unknown"), ("", "unknown"), (None, "unknown")],
)  # fmt: skip
def test_tier_kind(text: str | None, kind: str):
    assert tier_kind(text) == kind


ALLOWED = [{"id": "standard-tier", "name": "Standard"}, {"id": "free-tier", "name": "Free", "isDefault": True}]


def test_code_assist_with_project_as_string_or_object():
    assert read_code_assist({"cloudaicompanionProject": "p1"}).project_id == "p1"
    assert read_code_assist({"cloudaicompanionProject": {"id": "p2", "name": "x"}}).project_id == "p2"


def test_code_assist_without_project_names_the_default_tier():
    state = read_code_assist({"allowedTiers": ALLOWED})
    assert (state.project_id, state.onboard_tier_id) == (None, "free-tier")
    assert read_code_assist({"allowedTiers": [{"id": "standard-tier"}]}).onboard_tier_id == "standard-tier"


def test_paid_tier_wins_then_current_unless_ineligible():
    reply = {"currentTier": {"id": "free-tier", "name": "Free"}, "allowedTiers": ALLOWED}
    assert (read_code_assist(reply).tier, read_code_assist(reply).tier_name) == ("free", "Free")
    paid = {**reply, "paidTier": {"id": "g1-ultra-tier", "name": "Google AI Ultra"}}
    assert (read_code_assist(paid).tier, read_code_assist(paid).tier_name) == ("ultra", "Google AI Ultra")
    restricted = read_code_assist({**reply, "ineligibleTiers": [{"reasonCode": "X"}]})
    assert (restricted.tier, restricted.tier_name) == ("free", "Free (restricted)")


# -- quota -----------------------------------------------------------------------------------------------


def test_available_models_reply():
    reply = {
        "models": {
            "gemini-2.5-flash": {"quotaInfo": {"remainingFraction": 0.8, "resetTime": "2026-11-23T13:00:00Z"}},
            "gemini-3-pro-high": {"quotaInfo": {"resetTime": "2026-11-23T14:00:00Z"}},
            "claude-sonnet-4-6": {"quotaInfo": {"remainingFraction": 1}},
            "gpt-oss-120b-medium": {},
            "chat_20706": {"quotaInfo": {"remainingFraction": 1}},
            "tab_flash_lite_preview": {},
        }
    }
    quota = read_available_models(reply)
    assert quota == {
        "gemini-2.5-flash": ModelQuota(0.8, NOW + 3600),
        "gemini-3-pro-high": ModelQuota(0.0, NOW + 7200),  # no fraction: nothing left
        "claude-sonnet-4-6": ModelQuota(1.0, None),
        "gpt-oss-120b-medium": ModelQuota(0.0, None),
    }
    assert read_available_models({}) == {}


def test_families():
    assert [family_of(m) for m in ("claude-opus-4-6-thinking", "gemini-3-pro-image", "gemini-3-pro-low",
                                   "gemini-2.5-flash", "gpt-oss-120b-medium", "mystery")] == [
        "Claude", "Gemini Image", "Gemini Pro", "Gemini Flash", "GPT-OSS", "Other"]  # fmt: skip
    summary = by_family(
        {
            "gemini-3-pro-high": ModelQuota(0.6, NOW + 100),
            "gemini-3-pro-low": ModelQuota(0.9, NOW + 50),
            "gemini-2.5-flash": ModelQuota(1.0, NOW + 10),
        }
    )
    assert [(f.family, f.remaining, f.reset_at) for f in summary] == [
        ("Gemini Pro", 0.6, NOW + 50),
        ("Gemini Flash", 1.0, None),  # full: its reset time says nothing
    ]


# -- Google errors ---------------------------------------------------------------------------------------


def test_quota_error_body():
    body = (
        b'{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED","details":['
        b'{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"QUOTA_EXHAUSTED",'
        b'"metadata":{"quotaResetDelay":"1h16m0.667s","model":"gemini-3-pro-high"}},'
        b'{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.203s"}]}}'
    )
    error = google_error(429, body, "streamGenerateContent")
    assert (error.status, error.reason, error.transient) == (429, "QUOTA_EXHAUSTED", True)
    assert str(error) == "streamGenerateContent failed: Resource has been exhausted (HTTP 429)"
    assert error.body["error"]["details"][1]["retryDelay"] == "1.203s"


def test_validation_required_body():
    body = (
        b'{"error":{"code":403,"message":"Verify your account","status":"PERMISSION_DENIED","details":['
        b'{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"VALIDATION_REQUIRED",'
        b'"metadata":{"validation_url":"https://accounts.google.com/signin/continue?x=1"}}]}}'
    )
    error = google_error(403, body, "loadCodeAssist")
    assert (error.reason, error.validation_url, error.transient) == (
        "VALIDATION_REQUIRED",
        "https://accounts.google.com/signin/continue?x=1",
        False,
    )


def test_oauth_error_body_and_non_json():
    oauth = google_error(400, b'{"error":"invalid_grant","error_description":"Bad Request"}', "refreshing")
    assert (oauth.reason, str(oauth)) == ("invalid_grant", "refreshing failed: invalid_grant: Bad Request (HTTP 400)")
    html = google_error(502, b"<html><body>Bad gateway</body></html>", "loadCodeAssist")
    assert html.status == 502 and "Bad gateway" in str(html) and html.transient


def test_error_messages_never_carry_tokens():
    body = b'{"error":{"code":401,"message":"token ya29.a0secretvalue and 1//0refreshsecret are invalid"}}'
    text = str(google_error(401, body, "x"))
    assert "a0secretvalue" not in text and "0refreshsecret" not in text and "ya29.…" in text


@pytest.mark.parametrize(("status", "transient"), [(None, True), (408, True), (500, True), (529, True),
                                                   (400, False), (401, False), (403, False), (404, False)])  # fmt: skip
def test_transient(status: int | None, transient: bool):
    assert GoogleError("x", status=status).transient is transient


# -- table and identity ----------------------------------------------------------------------------------


def test_table_masks_unless_full():
    accounts = [full_record(), Account(id="2", email="bob@example.com", created_at=NOW)]
    masked, full = render_table(accounts, now=NOW), render_table(accounts, now=NOW, full=True)
    assert "alice@example.com" not in masked and "al***@ex***" in masked
    assert "alice@example.com" in full
    assert "needs verification: https://accounts.google.com/verify" in full
    assert full.splitlines()[3].split() == ["bob@example.com", "unknown", "-", "ok"]
    assert render_table([], now=NOW).startswith("no accounts yet: add one with `trayagent accounts login`")


def test_quota_line():
    record = full_record()
    line = quota_line(record, NOW)
    assert "Claude 0%" in line and "Gemini Flash 50% (resets " in line and ", in 1h 00m)" in line
    assert "[checked 1m ago]" in line and "last check failed: boom" in line
    assert quota_line(Account(id="1", email="a@b.c", created_at=0), NOW) == "quota not checked yet"
    unknown = Account(id="1", email="a@b.c", created_at=0, quota_error="HTTP 503")
    assert quota_line(unknown, NOW) == "quota unknown (HTTP 503)"


def test_json_listing_has_no_tokens():
    data = as_json([full_record()])
    assert data[0]["email"] == "al***@ex***" and data[0]["status"] == "needs_verification"
    assert not [key for key in data[0] if "token" in key]
    assert as_json([full_record()], full=True)[0]["email"] == "alice@example.com"


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [("linux", "x86_64", "linux/amd64"), ("darwin", "arm64", "darwin/arm64"), ("win32", "AMD64", "windows/amd64")],
)
def test_user_agent(system: str, machine: str, expected: str):
    assert re.fullmatch(rf"antigravity/\d+\.\d+\.\d+ {expected}", default_user_agent(system, machine))
    assert user_agent("custom/1.0") == "custom/1.0"
