"""The monitor's pure parts: Exchange → row (redaction, caps), query parameters, the account view, key mask."""

from __future__ import annotations

import math

import pytest

from trayagent.accounts.poolstate import Cooldown
from trayagent.accounts.record import Account, ModelQuota
from trayagent.agent.opener import can_open_browser
from trayagent.apikey import mask_key
from trayagent.errors import BadRequest
from trayagent.proxy.accountview import account_view
from trayagent.proxy.exchange import BODY_KEEP, Exchange
from trayagent.proxy.monitor.query import LogFilter, StatsQuery, parse_log_filter, parse_stats_query
from trayagent.proxy.monitor.row import BODY_CAP, clip_body, clip_text, hour_of, iso, row_from_exchange

REFRESH = "1//0gAbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
ACCESS = "ya29.a0AfB_byC1234567890abcdefghijklmnop"


def exchange(**changes: object) -> Exchange:
    ex = Exchange("gemini", "/v1beta/models/gemini-2.5-flash:generateContent", "gemini-2.5-flash", stream=False)
    for name, value in changes.items():
        setattr(ex, name, value)
    return ex


def test_a_row_carries_the_exchange_in_milliseconds_and_tokens():
    ex = exchange(
        started_at=1_800_000_000.25,
        upstream_model="gemini-2.5-flash",
        account="al***@ex***",
        usage={
            "promptTokenCount": 12,
            "candidatesTokenCount": 34,
            "cachedContentTokenCount": 5,
            "thoughtsTokenCount": 6,
        },
        attempts=2,
        upstream_failures=["rate", "quota"],
    )
    ex.first_byte_s, ex.duration_s, ex.status = 0.1234, 1.5, 200

    row = row_from_exchange(ex, log_bodies=False)

    assert (row.time, row.protocol, row.status, row.ttfb_ms, row.duration_ms) == (
        1_800_000_000.25,
        "gemini",
        200,
        123.4,
        1500.0,
    )
    assert (row.input_tokens, row.output_tokens, row.cached_tokens, row.thinking_tokens) == (12, 34, 5, 6)
    assert (row.attempts, row.upstream_failures, row.account, row.failed) == (2, "rate,quota", "al***@ex***", False)
    assert row.model == "gemini-2.5-flash" and row.error is None and row.request_body is None


def test_errors_are_redacted_and_failed_rows_known():
    ex = exchange(
        error=f"Google said: token {ACCESS} for alice.smith@example.com, refresh_token={REFRESH}, Bearer abcdefghijkl"
    )
    ex.status = 429

    row = row_from_exchange(ex, log_bodies=False)

    assert row.failed and row.error is not None
    for secret in (ACCESS, REFRESH, "alice.smith@example.com", "abcdefghijkl", "0gAbCd"):
        assert secret not in row.error
    assert "al***@ex***" in row.error and "ya29.…" in row.error
    assert row_from_exchange(exchange(status=0), log_bodies=False).failed  # never completed


def test_bodies_only_when_asked_and_redacted():
    body = f'{{"contents": [{{"parts": [{{"text": "my key is sk-abcdef0123456789wxyz and {REFRESH}"}}]}}]}}'.encode()
    ex = exchange(request_body=body, response_body=b'{"email": "bob@example.org"}')

    assert row_from_exchange(ex, log_bodies=False).request_body is None
    row = row_from_exchange(ex, log_bodies=True)

    assert row.request_body is not None and row.response_body is not None
    assert "sk-ab…wxyz" in row.request_body and "sk-abcdef0123456789wxyz" not in row.request_body
    assert REFRESH not in row.request_body and "bo***@ex***" in row.response_body


def test_a_large_body_is_capped_and_a_secret_on_the_cut_does_not_leak():
    cap = 1000
    # The email straddles the cut: without care its first part would survive, unrecognised.
    body = b"x" * (cap - 10) + b" alice.smith@example.com " + b"y" * 5000
    clipped = clip_body(body, cap)

    assert clipped is not None and clipped.endswith("…[truncated]")
    assert len(clipped.encode()) <= cap + len("…[truncated]".encode())
    assert "alice" not in clipped and "ali" not in clipped.replace("x", "")
    # The real cap: 64 KiB of a 1 MiB body.
    huge = clip_body(b"a" * (1 << 20))
    assert huge is not None and len(huge.encode()) <= BODY_CAP + 20
    # Multi-byte text is never cut inside a character.
    assert clip_body("é".encode() * 1000, 101) is not None
    assert clip_body(b"short") == "short" and clip_body(None) is None


def test_error_text_is_capped():
    text = clip_text("e" * 10_000 + REFRESH, 100)
    assert len(text) <= 100 + len("…[truncated]") and REFRESH not in text
    assert clip_text("fine", 100) == "fine"


def test_hours_and_iso_times():
    assert hour_of(3600 * 5 + 59.9) == 3600 * 5
    assert iso(1_795_442_400) == "2026-11-23T14:00:00Z"
    assert iso(1_795_442_400.5) == "2026-11-23T14:00:00.500Z"
    assert iso(None) is None


def args(**values: str):
    return values.get


def test_log_filter_parsing():
    assert parse_log_filter(args()) == LogFilter(50, None, None)
    assert parse_log_filter(args(limit="10", status="ERROR", model=" flash ")) == LogFilter(10, "error", "flash")
    assert parse_log_filter(args(limit="100000", status="429")) == LogFilter(500, 429, None)
    assert parse_log_filter(args(status="ok")).status == "ok"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"limit": "0"}, "limit must be a whole number of at least 1, got 0"),
        ({"limit": "ten"}, "limit must be a whole number of at least 1, got 'ten'"),
        ({"limit": "-5"}, "limit must be a whole number of at least 1"),
        ({"status": "weird"}, "status must be ok, error or an HTTP status code 100-599, got 'weird'"),
        ({"status": "600"}, "status must be ok, error or an HTTP status code"),
        ({"model": "m" * 201}, "model must be at most 200 characters"),
    ],
)
def test_bad_log_filters_say_why(values: dict[str, str], message: str):
    with pytest.raises(BadRequest) as info:
        parse_log_filter(args(**values))
    assert message in str(info.value)


def test_stats_query_parsing():
    assert parse_stats_query(args()) == StatsQuery("hour", 24)
    assert parse_stats_query(args(by="Model", hours="168")) == StatsQuery("model", 168)
    with pytest.raises(BadRequest, match="by must be one of hour, day, account, model, got 'week'"):
        parse_stats_query(args(by="week"))
    with pytest.raises(BadRequest, match="hours must be a whole number from 1 to 8784, got 9000"):
        parse_stats_query(args(hours="9000"))


def test_account_view_has_quota_cooldown_and_never_a_token():
    account = Account(
        id="a1",
        email="alice@example.com",
        created_at=1_795_400_000,
        tier="pro",
        quota={"gemini-2.5-flash": ModelQuota(0.5, 1_795_442_400), "claude-sonnet-4-6": ModelQuota(0.0)},
        last_used_at=1_795_000_000,
    )
    cooldowns = [
        (("a1", "gemini-2.5-flash"), Cooldown(1_795_442_400, "quota", "quota exhausted")),
        (("b2", None), Cooldown(1_795_999_999, "auth", "someone else")),
    ]
    view = account_view(account, cooldowns=cooldowns, last_used=1_795_442_400.0)

    assert view["email_masked"] == "al***@ex***" and view["status"] == "ok"
    assert view["quota"] == [
        {"model": "claude-sonnet-4-6", "family": "Claude", "remaining": 0.0, "reset_at": None},
        {"model": "gemini-2.5-flash", "family": "Gemini Flash", "remaining": 0.5, "reset_at": "2026-11-23T14:00:00Z"},
    ]
    assert view["cooldown"] == {
        "until": "2026-11-23T14:00:00Z",
        "kind": "quota",
        "message": "quota exhausted",
        "model": "gemini-2.5-flash",
    }
    assert view["last_used_at"] == "2026-11-23T14:00:00Z"
    # A whole-account cooldown wins, and "until the user acts" has no time.
    whole = [*cooldowns, (("a1", None), Cooldown(math.inf, "verification", "verify the account"))]
    assert account_view(account, cooldowns=whole)["cooldown"] == {
        "until": None,
        "kind": "verification",
        "message": "verify the account",
        "model": None,
    }
    assert account_view(account)["cooldown"] is None


def test_key_mask():
    assert mask_key("sk-abcdef0123456789wxyz") == "sk-ab…wxyz"
    assert mask_key("sk-1234567") == "sk-…"


def test_a_browser_opens_only_where_one_can():
    assert can_open_browser({}, "darwin") and can_open_browser({}, "win32")
    assert not can_open_browser({}, "linux")
    assert can_open_browser({"DISPLAY": ":0"}, "linux") and can_open_browser({"BROWSER": "/x"}, "linux")


def test_an_exchange_keeps_bodies_only_when_asked_and_only_so_much():
    quiet = exchange()
    quiet.note_raw_request(b'{"contents": []}')
    quiet.note_response(b"{}")
    assert quiet.request_body is None and quiet.response_body is None

    kept = exchange(keep_bodies=True)
    kept.note_raw_request(b'{"contents":[{"parts":[{"text":"hi"}]}]}')
    kept.note_response(b'{"a": 1}')
    kept.note_response(b'{"b": 2}')
    assert kept.request_body == b'{"contents":[{"parts":[{"text":"hi"}]}]}'
    assert kept.response_body == b'{"a": 1}\n{"b": 2}'  # stream chunks one per line
    for _ in range(100):
        kept.note_response(b"x" * 4096)
    assert kept.response_body is not None and len(kept.response_body) == BODY_KEEP
    # What the monitor stores of it: capped, and marked as cut.
    stored = row_from_exchange(kept, log_bodies=True).response_body
    assert stored is not None and stored.endswith("…[truncated]") and len(stored.encode()) <= BODY_CAP + 20
