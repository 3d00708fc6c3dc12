"""Every row of the failure classification table (spec/scheduling.md), on a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trayagent.accounts.ratelimit import classify, parse_duration, parse_retry_after

NOW = 1_800_000_000.0


def google(code: int, message: str = "x", reason: str | None = None, **extra: object) -> dict:
    details: list[dict] = []
    if reason or extra.get("metadata"):
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "metadata": extra.get("metadata", {}),
            }
        )
    if extra.get("retry_delay"):
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": extra["retry_delay"]})
    return {"error": {"code": code, "message": message, "status": "X", "details": details}}


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1h16m0.667s", 4560.667), ("1.203s", 1.203), ("500ms", 0.5), ("30s", 30), ("2m", 120), ("45", 45),
     (12, 12), ({"seconds": "3", "nanos": 500000000}, 3.5), ("soon", None), ("1x", None), (None, None), (True, None)],
)  # fmt: skip
def test_parse_duration(value: object, seconds: float | None):
    result = parse_duration(value)
    assert result == pytest.approx(seconds) if seconds is not None else result is None


def test_parse_retry_after():
    assert parse_retry_after("7", NOW) == 7
    moment = datetime(2027, 1, 15, 8, 0, 10, tzinfo=UTC).timestamp()
    assert parse_retry_after("Fri, 15 Jan 2027 08:00:10 GMT", moment - 10) == 10
    assert parse_retry_after("garbage", NOW) is None and parse_retry_after(None, NOW) is None


# -- 429 quota ---------------------------------------------------------------------------------------------


def test_quota_uses_the_reset_delay_per_account_and_model():
    f = classify(429, google(429, reason="QUOTA_EXHAUSTED", metadata={"quotaResetDelay": "2m30s"}), now=NOW)
    assert (f.kind, f.scope, f.cooldown_s, f.next_step) == ("quota", "account_model", 150, "rotate")


def test_quota_delay_is_capped():
    f = classify(429, google(429, reason="QUOTA_EXHAUSTED", metadata={"quotaResetDelay": "1h16m0.667s"}), now=NOW)
    assert f.cooldown_s == 300
    assert classify(429, google(429, reason="QUOTA_EXHAUSTED", metadata={"quotaResetDelay": "1h"}),
                    cooldown_cap_s=7200).cooldown_s == 3600  # fmt: skip


def test_quota_without_delay_uses_the_known_reset_time_then_backoff():
    body = google(429, "Quota exceeded for quota metric")  # text only: no reason given
    assert classify(429, body, now=NOW, quota_reset_at=NOW + 90).cooldown_s == 90
    backoff = [classify(429, body, failures=n, now=NOW, cooldown_cap_s=1e9).cooldown_s for n in (1, 2, 3, 4, 9)]
    assert backoff == [60, 300, 1800, 7200, 7200]


# -- 429 rate limit ----------------------------------------------------------------------------------------


def test_short_rate_limit_waits_on_the_same_account():
    f = classify(429, google(429, reason="RATE_LIMIT_EXCEEDED", retry_delay="1.203s"), now=NOW)
    assert (f.kind, f.scope, f.cooldown_s, f.next_step) == ("rate", "account", 1.203, "retry_same")


def test_longer_rate_limit_rotates():
    f = classify(429, google(429, reason="RATE_LIMIT_EXCEEDED", retry_delay="12s"), now=NOW)
    assert (f.cooldown_s, f.next_step) == (12, "rotate")


def test_rate_limit_from_retry_after_or_text_or_default():
    headers = {"Retry-After": "9"}
    assert classify(429, google(429, "Too many requests per minute"), headers=headers, now=NOW).cooldown_s == 9
    defaults = [classify(429, google(429, "rate limit hit"), failures=n, now=NOW).cooldown_s for n in (1, 2, 3, 4)]
    assert defaults == [5, 10, 20, 30]


# -- 429 capacity ------------------------------------------------------------------------------------------


def test_capacity_is_per_model_and_short():
    body = google(429, "No capacity available for model", reason="MODEL_CAPACITY_EXHAUSTED")
    cooldowns = [classify(429, body, failures=n, now=NOW) for n in (1, 2, 3, 5)]
    assert [(f.kind, f.scope, f.next_step) for f in cooldowns] == [("capacity", "model", "rotate")] * 4
    assert [f.cooldown_s for f in cooldowns] == [5, 10, 15, 15]


# -- other statuses ----------------------------------------------------------------------------------------


def test_401_refreshes():
    f = classify(401, google(401, "Request had invalid authentication credentials."))
    assert (f.kind, f.cooldown_s, f.next_step) == ("auth", None, "refresh_then_retry")


def test_403_validation_required_needs_the_user_and_is_not_capped():
    url = "https://accounts.google.com/signin/continue?x"
    f = classify(
        403, google(403, "Verify your account", reason="VALIDATION_REQUIRED", metadata={"validation_url": url})
    )
    assert (f.kind, f.scope, f.cooldown_s, f.next_step, f.validation_url) == (
        "needs_user",
        "account",
        None,
        "rotate",
        url,
    )


def test_other_403_sets_the_account_aside():
    f = classify(403, google(403, "The caller does not have permission"), cooldown_cap_s=3600)
    assert (f.kind, f.scope, f.cooldown_s, f.next_step) == ("forbidden", "account", 600, "rotate")
    assert classify(403, google(403, "nope")).cooldown_s == 300  # the cap applies


@pytest.mark.parametrize(
    "message", ["Corrupted thought signature.", "Invalid `signature` in `thinking` block", "thought_signature missing"]
)
def test_400_signature_errors_are_repaired(message: str):
    f = classify(400, google(400, message))
    assert (f.kind, f.next_step) == ("signature", "repair_then_retry")


def test_other_400_goes_back_to_the_client():
    f = classify(400, google(400, "* GenerateContentRequest.contents: contents is not specified"))
    assert (f.kind, f.scope, f.next_step) == ("client", "none", "return_to_client")
    assert "contents is not specified" in f.message


def test_404_rotates_briefly():
    f = classify(404, google(404, "Requested entity was not found."))
    assert (f.kind, f.cooldown_s, f.next_step) == ("not_found", 5, "rotate")


@pytest.mark.parametrize("status", [500, 503, 529, 408, None])
def test_transient_retries_once_then_rotates(status: int | None):
    first = classify(status, text="upstream connect error")
    second = classify(status, text="upstream connect error", failures=2)
    assert (first.kind, first.next_step, first.cooldown_s) == ("transient", "retry_same", None)
    assert (second.kind, second.scope, second.next_step, second.cooldown_s) == ("transient", "account", "rotate", 10)


def test_html_body_keeps_its_text():
    f = classify(502, None, "<html>Bad Gateway</html>", failures=3)
    assert f.kind == "transient" and "Bad Gateway" in f.message
