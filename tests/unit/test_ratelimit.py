"""Failure classification: every row of spec/scheduling.md "Classifying upstream failures", on a fixed clock."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from trayagent.accounts.ratelimit import Failure, classify, format_duration, sign_in_lost
from trayagent.upstream.error_body import parse_duration, parse_error_body, parse_retry_after

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
BIG_CAP = 1e9  # to see uncapped values


def google_error(
    code: int,
    message: str = "",
    *,
    reason: str | None = None,
    metadata: dict[str, str] | None = None,
    retry_delay: Any = None,
    status: str = "RESOURCE_EXHAUSTED",
) -> bytes:
    details: list[dict[str, Any]] = []
    if reason is not None:
        info: dict[str, Any] = {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": reason,
            "domain": "cloudcode-pa.googleapis.com",
        }
        if metadata:
            info["metadata"] = metadata
        details.append(info)
    if retry_delay is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return orjson.dumps({"error": error})


def run(status: int | None, body: Any = None, headers: dict[str, str] | None = None, **kw: Any) -> Failure:
    kw.setdefault("model", "claude-opus-4-6-thinking")
    kw.setdefault("now", NOW)
    return classify(status, body, headers, **kw)


QUOTA = google_error(429, "You have exhausted your capacity on this model.", reason="QUOTA_EXHAUSTED")
RATE = google_error(429, "Too many requests.", reason="RATE_LIMIT_EXCEEDED")
CAPACITY = google_error(
    429, "No capacity available for model gemini-3-pro-high on the server", reason="MODEL_CAPACITY_EXHAUSTED"
)

# (id, status, body, headers, extra kwargs, kind, scope, cooldown_s, step)
TABLE: list[tuple[str, int | None, Any, dict[str, str] | None, dict[str, Any], str, str, float | None, str]] = [
    # 429 QUOTA_EXHAUSTED: quotaResetDelay, else the next reset_at, else 60 s → 5 min → 30 min → 2 h; rotate.
    (
        "quota/quotaResetDelay",
        429,
        google_error(429, reason="QUOTA_EXHAUSTED", metadata={"quotaResetDelay": "1h16m0.667s"}),
        None,
        {"cap_s": BIG_CAP},
        "quota",
        "account_model",
        4560.667,
        "rotate",
    ),
    (
        "quota/quotaResetDelay capped",
        429,
        google_error(429, reason="QUOTA_EXHAUSTED", metadata={"quotaResetDelay": "1h16m0.667s"}),
        None,
        {},
        "quota",
        "account_model",
        300.0,
        "rotate",
    ),
    (
        "quota/quotaResetTimeStamp",
        429,
        google_error(429, reason="QUOTA_EXHAUSTED", metadata={"quotaResetTimeStamp": "2027-01-15T08:20:00Z"}),
        None,
        {"cap_s": BIG_CAP},
        "quota",
        "account_model",
        1200.0,
        "rotate",
    ),
    (
        "quota/RetryInfo",
        429,
        google_error(429, reason="QUOTA_EXHAUSTED", retry_delay="90s"),
        None,
        {},
        "quota",
        "account_model",
        90.0,
        "rotate",
    ),
    (
        "quota/Retry-After",
        429,
        QUOTA,
        {"retry-after": "120"},
        {},
        "quota",
        "account_model",
        120.0,
        "rotate",
    ),
    (
        "quota/reset_at",
        429,
        QUOTA,
        None,
        {"quota_reset_at": NOW + 42},
        "quota",
        "account_model",
        42.0,
        "rotate",
    ),
    (
        "quota/server delay beats reset_at",
        429,
        google_error(429, reason="QUOTA_EXHAUSTED", metadata={"quotaResetDelay": "100s"}),
        None,
        {"quota_reset_at": NOW + 42},
        "quota",
        "account_model",
        100.0,
        "rotate",
    ),
    (
        "quota/stale reset_at ignored",
        429,
        QUOTA,
        None,
        {"quota_reset_at": NOW - 5},
        "quota",
        "account_model",
        60.0,
        "rotate",
    ),
    ("quota/backoff 1", 429, QUOTA, None, {"cap_s": BIG_CAP}, "quota", "account_model", 60.0, "rotate"),
    (
        "quota/backoff 2",
        429,
        QUOTA,
        None,
        {"cap_s": BIG_CAP, "account_failures": 1},
        "quota",
        "account_model",
        300.0,
        "rotate",
    ),
    (
        "quota/backoff 3",
        429,
        QUOTA,
        None,
        {"cap_s": BIG_CAP, "account_failures": 2},
        "quota",
        "account_model",
        1800.0,
        "rotate",
    ),
    (
        "quota/backoff 4",
        429,
        QUOTA,
        None,
        {"cap_s": BIG_CAP, "account_failures": 3},
        "quota",
        "account_model",
        7200.0,
        "rotate",
    ),
    (
        "quota/backoff stays at 2 h",
        429,
        QUOTA,
        None,
        {"cap_s": BIG_CAP, "account_failures": 9},
        "quota",
        "account_model",
        7200.0,
        "rotate",
    ),
    (
        "quota/backoff capped",
        429,
        QUOTA,
        None,
        {"account_failures": 2},
        "quota",
        "account_model",
        300.0,
        "rotate",
    ),
    (
        "quota/text in message",
        429,
        b'{"error":{"status":"RESOURCE_EXHAUSTED","message":"QUOTA_EXHAUSTED"}}',
        None,
        {},
        "quota",
        "account_model",
        60.0,
        "rotate",
    ),
    ("quota/text raw body", 429, "Quota exceeded for this project", None, {}, "quota", "account_model", 60.0, "rotate"),
    (
        "quota/delay in prose",
        429,
        google_error(429, "You have exhausted your quota. Your quota will reset after 1h43m56s."),
        None,
        {"cap_s": BIG_CAP},
        "quota",
        "account_model",
        6236.0,
        "rotate",
    ),
    # 429 RATE_LIMIT_EXCEEDED / "per minute": RetryInfo or Retry-After, else 5–30 s; ≤ 2 s → same account.
    (
        "rate/RetryInfo",
        429,
        google_error(429, reason="RATE_LIMIT_EXCEEDED", retry_delay="12s"),
        None,
        {},
        "rate",
        "account",
        12.0,
        "rotate",
    ),
    (
        "rate/RetryInfo as seconds+nanos",
        429,
        google_error(429, reason="RATE_LIMIT_EXCEEDED", retry_delay={"seconds": "3", "nanos": 500000000}),
        None,
        {},
        "rate",
        "account",
        3.5,
        "rotate",
    ),
    ("rate/Retry-After", 429, RATE, {"Retry-After": "7"}, {}, "rate", "account", 7.0, "rotate"),
    (
        "rate/Retry-After date",
        429,
        RATE,
        {"Retry-After": "Fri, 15 Jan 2027 08:00:30 GMT"},
        {},
        "rate",
        "account",
        30.0,
        "rotate",
    ),
    (
        "rate/short delay: same account",
        429,
        google_error(429, reason="RATE_LIMIT_EXCEEDED", retry_delay="1.203s"),
        None,
        {},
        "rate",
        "account",
        1.203,
        "retry_same",
    ),
    (
        "rate/exactly 2 s: same account",
        429,
        RATE,
        {"Retry-After": "2"},
        {},
        "rate",
        "account",
        2.0,
        "retry_same",
    ),
    (
        "rate/short delay twice: rotate",
        429,
        google_error(429, reason="RATE_LIMIT_EXCEEDED", retry_delay="1.203s"),
        None,
        {"retries_here": 1},
        "rate",
        "account",
        1.203,
        "rotate",
    ),
    ("rate/default 1", 429, RATE, None, {}, "rate", "account", 5.0, "rotate"),
    ("rate/default 2", 429, RATE, None, {"account_failures": 1}, "rate", "account", 10.0, "rotate"),
    ("rate/default 3", 429, RATE, None, {"account_failures": 2}, "rate", "account", 20.0, "rotate"),
    ("rate/default max", 429, RATE, None, {"account_failures": 7}, "rate", "account", 30.0, "rotate"),
    (
        "rate/capped",
        429,
        google_error(429, reason="RATE_LIMIT_EXCEEDED", retry_delay="900s"),
        None,
        {},
        "rate",
        "account",
        300.0,
        "rotate",
    ),
    (
        "rate/per minute wins over quota wording",
        429,
        google_error(429, "Quota exceeded for quota metric 'Generate requests' and limit 'per minute per user'"),
        None,
        {},
        "rate",
        "account",
        5.0,
        "rotate",
    ),
    (
        "rate/reason wins over quota wording",
        429,
        google_error(
            429,
            "You have exhausted your capacity on this model. Your quota will reset after 0s.",
            reason="RATE_LIMIT_EXCEEDED",
            metadata={"quotaResetDelay": "479.417207ms", "quotaResetTimeStamp": "2027-01-15T08:00:00Z"},
            retry_delay="0.479417207s",
        ),
        None,
        {},
        "rate",
        "account",
        0.479417207,
        "retry_same",
    ),
    (
        "rate/generic exhausted message",
        429,
        google_error(429, "Resource has been exhausted (e.g. check quota)."),
        None,
        {},
        "rate",
        "account",
        5.0,
        "rotate",
    ),
    (
        "rate/unstructured 429",
        429,
        b'{"error":{"message":"too many requests"}}',
        None,
        {},
        "rate",
        "account",
        5.0,
        "rotate",
    ),
    ("rate/empty 429", 429, b"", None, {}, "rate", "account", 5.0, "rotate"),
    # 429 MODEL_CAPACITY_EXHAUSTED: per model, 5 s, 10 s, 15 s; rotate.
    ("capacity/1", 429, CAPACITY, None, {}, "capacity", "model", 5.0, "rotate"),
    ("capacity/2", 429, CAPACITY, None, {"capacity_strikes": 1}, "capacity", "model", 10.0, "rotate"),
    ("capacity/3", 429, CAPACITY, None, {"capacity_strikes": 2}, "capacity", "model", 15.0, "rotate"),
    ("capacity/stays at 15 s", 429, CAPACITY, None, {"capacity_strikes": 8}, "capacity", "model", 15.0, "rotate"),
    (
        "capacity/server delay does not change the steps",
        429,
        google_error(429, reason="MODEL_CAPACITY_EXHAUSTED", retry_delay="60s"),
        None,
        {},
        "capacity",
        "model",
        5.0,
        "rotate",
    ),
    (
        "capacity/as a 503",
        503,
        google_error(503, "No capacity available", reason="MODEL_CAPACITY_EXHAUSTED", status="UNAVAILABLE"),
        None,
        {},
        "capacity",
        "model",
        5.0,
        "rotate",
    ),
    (
        "capacity/503 text only",
        503,
        google_error(503, "No capacity available for model gemini-3-pro-high on the server", status="UNAVAILABLE"),
        None,
        {},
        "capacity",
        "model",
        5.0,
        "rotate",
    ),
    ("capacity/capped", 429, CAPACITY, None, {"capacity_strikes": 2, "cap_s": 8}, "capacity", "model", 8.0, "rotate"),
    # 401: refresh once; a second 401 disables the account.
    (
        "auth/first",
        401,
        google_error(401, "Request had invalid authentication credentials."),
        None,
        {},
        "auth",
        "account",
        None,
        "refresh_then_retry",
    ),
    ("auth/after a refresh", 401, b"", None, {"retries_here": 1}, "auth", "account", math.inf, "rotate"),
    # 403 VALIDATION_REQUIRED: until the user acts, never capped; 403 other: 10 min, capped.
    (
        "needs_user/reason",
        403,
        google_error(
            403,
            "Verify your account to continue.",
            reason="VALIDATION_REQUIRED",
            metadata={"validation_url": "https://accounts.google.com/signin/continue?x=1"},
            status="PERMISSION_DENIED",
        ),
        None,
        {},
        "needs_user",
        "account",
        math.inf,
        "rotate",
    ),
    (
        "needs_user/text",
        403,
        google_error(403, "Please verify your account before continuing", status="PERMISSION_DENIED"),
        None,
        {"cap_s": 0},
        "needs_user",
        "account",
        math.inf,
        "rotate",
    ),
    (
        "forbidden/capped",
        403,
        google_error(403, "The caller does not have permission"),
        None,
        {},
        "forbidden",
        "account",
        300.0,
        "rotate",
    ),
    (
        "forbidden/10 min",
        403,
        google_error(403, "The caller does not have permission"),
        None,
        {"cap_s": 3600},
        "forbidden",
        "account",
        600.0,
        "rotate",
    ),
    # 400 signature errors: repair once on the same account; other 400s go back to the client.
    (
        "signature/invalid",
        400,
        google_error(400, "messages.1.content.0: Invalid `signature` in `thinking` block"),
        None,
        {},
        "signature",
        "none",
        None,
        "repair_signature_then_retry",
    ),
    (
        "signature/corrupted",
        400,
        google_error(400, "Corrupted thought signature."),
        None,
        {},
        "signature",
        "none",
        None,
        "repair_signature_then_retry",
    ),
    (
        "signature/missing",
        400,
        google_error(400, "Function call is missing a thought_signature in functionCall parts"),
        None,
        {},
        "signature",
        "none",
        None,
        "repair_signature_then_retry",
    ),
    (
        "signature/field",
        400,
        google_error(400, "messages.1.content.0.thinking.signature: Field required"),
        None,
        {},
        "signature",
        "none",
        None,
        "repair_signature_then_retry",
    ),
    (
        "signature/second time",
        400,
        google_error(400, "Corrupted thought signature."),
        None,
        {"retries_here": 1},
        "signature",
        "none",
        None,
        "return_to_client",
    ),
    (
        "client/400",
        400,
        google_error(400, 'Invalid JSON payload received. Unknown name "foo"', status="INVALID_ARGUMENT"),
        None,
        {},
        "client",
        "none",
        None,
        "return_to_client",
    ),
    ("client/413", 413, b"too large", None, {}, "client", "none", None, "return_to_client"),
    ("client/422", 422, b"", None, {}, "client", "none", None, "return_to_client"),
    # 404: 5 s, look the project up once, then rotate.
    (
        "not_found/first",
        404,
        google_error(404, "Requested entity was not found.", status="NOT_FOUND"),
        None,
        {},
        "not_found",
        "account_model",
        5.0,
        "resolve_project_then_retry",
    ),
    ("not_found/second", 404, b"", None, {"retries_here": 1}, "not_found", "account_model", 5.0, "rotate"),
    # 500, 503, 529, network, timeout before the first byte: 5–10 s, retry once, rotate after the second.
    (
        "transient/500",
        500,
        google_error(500, "Internal error encountered.", status="INTERNAL"),
        None,
        {},
        "transient",
        "account_model",
        5.0,
        "retry_same",
    ),
    (
        "transient/503",
        503,
        b"<html>Service Unavailable</html>",
        None,
        {},
        "transient",
        "account_model",
        5.0,
        "retry_same",
    ),
    ("transient/529", 529, b"", None, {}, "transient", "account_model", 5.0, "retry_same"),
    ("transient/502", 502, b"", None, {}, "transient", "account_model", 5.0, "retry_same"),
    ("transient/408", 408, b"", None, {}, "transient", "account_model", 5.0, "retry_same"),
    ("transient/network", None, "Connection reset by peer", None, {}, "transient", "account_model", 5.0, "retry_same"),
    (
        "transient/timeout",
        None,
        "timed out before the first byte",
        None,
        {"account_failures": 1},
        "transient",
        "account_model",
        10.0,
        "retry_same",
    ),
    (
        "transient/second",
        503,
        b"",
        None,
        {"retries_here": 1, "account_failures": 1},
        "transient",
        "account_model",
        10.0,
        "rotate",
    ),
    (
        "transient/capped",
        500,
        b"",
        None,
        {"account_failures": 3, "cap_s": 7},
        "transient",
        "account_model",
        7.0,
        "retry_same",
    ),
]


@pytest.mark.parametrize(
    ("status", "body", "headers", "extra", "kind", "scope", "cooldown", "step"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_classification_table(
    status: int | None,
    body: Any,
    headers: dict[str, str] | None,
    extra: dict[str, Any],
    kind: str,
    scope: str,
    cooldown: float | None,
    step: str,
) -> None:
    failure = run(status, body, headers, **extra)
    assert (failure.kind, failure.scope, failure.step) == (kind, scope, step)
    if cooldown is None or math.isinf(cooldown):
        assert failure.cooldown_s == cooldown
    else:
        assert failure.cooldown_s == pytest.approx(cooldown)
    assert failure.message
    assert failure.status == status


def test_rate_retry_same_waits_the_delay() -> None:
    failure = run(429, google_error(429, reason="RATE_LIMIT_EXCEEDED", retry_delay="1.5s"))
    assert failure.retry_in_s == pytest.approx(1.5)
    assert run(429, google_error(429, reason="RATE_LIMIT_EXCEEDED", retry_delay="3s")).retry_in_s == 0


def test_transient_retry_waits_a_little() -> None:
    assert run(500).retry_in_s == 1.0
    assert run(500, retries_here=1).retry_in_s == 0


def test_validation_required_keeps_the_url_and_disables() -> None:
    url = "https://accounts.google.com/signin/continue?sarp=1"
    failure = run(
        403,
        google_error(403, "Verify", reason="VALIDATION_REQUIRED", metadata={"validation_url": url}),
    )
    assert failure.validation_url == url
    assert failure.disable
    assert url in failure.message
    assert failure.blames_account


def test_forbidden_does_not_disable() -> None:
    failure = run(403, google_error(403, "nope"))
    assert not failure.disable and failure.validation_url is None
    assert "nope" in failure.message


def test_sign_in_lost() -> None:
    failure = sign_in_lost("invalid_grant: Token has been expired or revoked.")
    assert (failure.kind, failure.scope, failure.step, failure.disable) == ("auth", "account", "rotate", True)
    assert failure.cooldown_s == math.inf
    assert "invalid_grant" in failure.message


def test_a_refreshed_token_rejected_again_disables() -> None:
    assert run(401, retries_here=1).disable
    assert not run(401).disable


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, QUOTA),
        (429, RATE),
        (429, CAPACITY),
        (500, b""),
        (None, "reset"),
        (400, google_error(400, "Corrupted thought signature")),
    ],
)
def test_after_the_first_byte_everything_goes_back_to_the_client(status: int | None, body: bytes | str) -> None:
    before = run(status, body)
    after = run(status, body, before_first_byte=False)
    assert after.step == "return_to_client"
    assert after.retry_in_s == 0
    # The account still pays for what it did.
    assert (after.kind, after.scope, after.cooldown_s) == (before.kind, before.scope, before.cooldown_s)


def test_who_is_blamed() -> None:
    assert run(429, QUOTA).blames_account
    assert run(429, RATE).blames_account
    assert run(500).blames_account
    assert not run(429, CAPACITY).blames_account  # the model's problem, everywhere
    assert not run(400, b"bad").blames_account
    assert not run(400, google_error(400, "Corrupted thought signature")).blames_account


def test_messages_say_what_and_when() -> None:
    quota = run(429, google_error(429, reason="QUOTA_EXHAUSTED", metadata={"quotaResetDelay": "1h16m0.667s"}))
    assert quota.message == "quota for claude-opus-4-6-thinking exhausted on this account; resets in 1 h 16 min"
    assert run(429, QUOTA).message.endswith("no reset time given, next try in 60 s")
    assert run(429, RATE, {"Retry-After": "41"}).message == "rate limited upstream; retry in 41 s"
    assert run(429, CAPACITY, model="gemini-3-pro-high").message == (
        "gemini-3-pro-high is out of capacity upstream; retry in 5 s"
    )
    assert run(400, google_error(400, "Unknown name 'foo'")).message == "Unknown name 'foo'"
    assert (
        run(503, google_error(503, "Visibility check failed")).message == "upstream error 503: Visibility check failed"
    )
    assert run(None, "Connection refused").message == "network error: Connection refused"
    assert run(None).message == "network error: no response"


def test_error_details_tolerate_odd_shapes() -> None:
    array = orjson.dumps([{"error": {"code": 429, "details": [{"reason": "QUOTA_EXHAUSTED"}]}}])
    assert run(429, array).kind == "quota"
    assert parse_error_body(array).reason == "QUOTA_EXHAUSTED"
    assert run(429, {"error": {"details": "nonsense"}}).kind == "rate"
    assert run(429, {"error": "just a string"}).kind == "rate"
    assert run(429, b"\xff\xfe not utf-8").kind == "rate"
    parsed = parse_error_body(
        {"error": {"details": [{"@type": "x/google.rpc.ErrorInfo", "reason": "quota_exhausted"}]}}
    )
    assert parsed.reason == "QUOTA_EXHAUSTED"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h16m0.667s", 4560.667),
        ("1.203s", 1.203),
        ("500ms", 0.5),
        ("0.479417207s", 0.479417207),
        ("479.417207ms", 0.479417207),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1m30s", 90.0),
        ("250us", 0.00025),
        ("10ns", 1e-8),
        ("0s", 0.0),
        ("42", 42.0),
        (" 3s ", 3.0),
        (7, 7.0),
        (1.5, 1.5),
        ({"seconds": "3", "nanos": 500000000}, 3.5),
        ({"seconds": 2}, 2.0),
        ({"nanos": 250000000}, 0.25),
        ("", None),
        ("soon", None),
        ("-5s", None),
        ("5 s", None),
        ("1x", None),
        (None, None),
        (True, None),
        ({"seconds": "x"}, None),
        (float("nan"), None),
    ],
)
def test_parse_duration(text: Any, seconds: float | None) -> None:
    result = parse_duration(text)
    assert result == (None if seconds is None else pytest.approx(seconds))


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("Fri, 15 Jan 2027 08:01:00 GMT", 60.0),
        ("Fri, 15 Jan 2027 07:59:00 GMT", 0.0),  # in the past
        ("Fri, 15 Jan 2027 08:01:00 -0000", 60.0),
        ("-3", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (0.2, "1 s"),
        (41, "41 s"),
        (119, "119 s"),
        (300, "5 min"),
        (4560.667, "1 h 16 min"),
        (7200, "2 h"),
        (math.inf, "until you act"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
