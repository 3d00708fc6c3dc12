"""Google's error replies become one GoogleError: message, status, reason, validation URL, no secrets."""

from __future__ import annotations

import json

import pytest

from trayagent.errors import AccountError, GoogleError
from trayagent.upstream.google_error import google_error, json_reply

# spec/upstream.md, "Errors": the 429 with ErrorInfo and RetryInfo.
QUOTA_429 = {
    "error": {
        "code": 429,
        "message": "You have exhausted your capacity on this model. Your quota will reset after 1h16m0s.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "QUOTA_EXHAUSTED",
                "domain": "cloudcode-pa.googleapis.com",
                "metadata": {"quotaResetDelay": "1h16m0.667s", "model": "gemini-3-pro-high"},
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.203s"},
        ],
    }
}
VERIFY_URL = "https://accounts.google.com/signin/continue?sarp=1&continue=https%3A%2F%2Fdevelopers.google.com"


def validation_body(metadata: dict[str, str]) -> bytes:
    info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "VALIDATION_REQUIRED", "metadata": metadata}
    error = {
        "code": 403,
        "message": "Verify your account to continue.",
        "status": "PERMISSION_DENIED",
        "details": [info],
    }
    return json.dumps({"error": error}).encode()


def test_quota_exhausted():
    error = google_error(429, json.dumps(QUOTA_429).encode(), "streamGenerateContent on daily")
    assert isinstance(error, AccountError)
    assert (error.status, error.reason, error.validation_url, error.transient) == (429, "QUOTA_EXHAUSTED", None, True)
    assert str(error) == (
        "streamGenerateContent on daily failed: You have exhausted your capacity on this model. "
        "Your quota will reset after 1h16m0s. (HTTP 429)"
    )
    assert error.body == QUOTA_429  # the parsed body, for the failure classifier


@pytest.mark.parametrize("key", ["validation_url", "validationUrl"])
def test_validation_required(key: str):
    error = google_error(403, validation_body({key: VERIFY_URL}), "loadCodeAssist")
    assert (error.status, error.reason, error.validation_url, error.transient) == (
        403,
        "VALIDATION_REQUIRED",
        VERIFY_URL,
        False,
    )
    assert str(error) == "loadCodeAssist failed: Verify your account to continue. (HTTP 403)"


@pytest.mark.parametrize("url", ["http://accounts.google.com/verify", "javascript:alert(1)", ""])
def test_validation_url_must_be_https(url: str):
    error = google_error(403, validation_body({"validation_url": url}), "loadCodeAssist")
    assert (error.reason, error.validation_url) == ("VALIDATION_REQUIRED", None)


def test_first_reason_wins_and_odd_details_are_skipped():
    body = {"error": {"code": 429, "message": "m", "details": ["junk", None, {"reason": "RATE_LIMIT_EXCEEDED"},
                                                                   {"reason": "QUOTA_EXHAUSTED"}]}}  # fmt: skip
    assert google_error(429, json.dumps(body).encode(), "x").reason == "RATE_LIMIT_EXCEEDED"


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, {"error": {"code": 404, "status": "NOT_FOUND"}}, "x failed: NOT_FOUND (HTTP 404)"),  # no message
        (500, {"error": {"code": 500}}, "x failed: HTTP 500 (HTTP 500)"),
        (
            404,
            {"error": {"message": "Requested entity\n   was not   found."}},
            "x failed: Requested entity was not found.",
        ),
    ],
)
def test_google_shape_messages(status: int, body: dict[str, object], message: str):
    error = google_error(status, json.dumps(body).encode(), "x")
    assert str(error).startswith(message) and (error.status, error.reason) == (status, None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
            "refresh failed: invalid_grant: Token has been expired or revoked. (HTTP 400)",
        ),
        ({"error": "invalid_grant"}, "refresh failed: invalid_grant (HTTP 400)"),
        (
            {"error": "invalid_client", "error_description": "Unauthorized"},
            "refresh failed: invalid_client: Unauthorized",
        ),
    ],
)
def test_oauth_shape(body: dict[str, str], message: str):
    error = google_error(400, json.dumps(body).encode(), "refresh")
    assert error.reason == body["error"] and str(error).startswith(message) and not error.transient


@pytest.mark.parametrize(
    ("status", "raw", "message"),
    [
        (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "<html><body><h1>502 Bad Gateway</h1>"),
        (
            503,
            b"upstream connect error\r\n  or disconnect",
            "x failed: upstream connect error or disconnect (HTTP 503)",
        ),
        (500, b"", "x failed: HTTP 500 (HTTP 500)"),
        (500, b"   \n", "x failed: HTTP 500 (HTTP 500)"),
        (400, b"\xff\xfe not utf-8", "not utf-8"),
        (429, b"[1, 2]", "x failed: [1, 2] (HTTP 429)"),
    ],
)
def test_bodies_that_are_not_google_errors(status: int, raw: bytes, message: str):
    error = google_error(status, raw, "x")
    assert message in str(error) and error.status == status and error.reason is None


def test_long_messages_are_cut():
    error = google_error(500, json.dumps({"error": {"message": "word " * 200}}).encode(), "x")
    text = str(error)
    assert len(text) < 340 and "…" in text and text.endswith("(HTTP 500)")


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"error": {"code": 401, "message": "Invalid token ya29.a0AfB_byC-secret.value_1"}}).encode(),
        json.dumps({"error": "invalid_grant", "error_description": "refresh 1//0gSecret-Refresh_Token"}).encode(),
        b"<html>Authorization: Bearer ya29.a0AfB_byC-secret.value_1 refresh_token=1//0gSecret-Refresh_Token</html>",
    ],
)
def test_messages_never_carry_tokens(raw: bytes):
    text = str(google_error(401, raw, "x"))
    assert "secret" not in text.lower() and "Secret" not in text
    assert "ya29.…" in text or "1//…" in text or "Bearer …" in text


def test_messages_mask_emails():
    body = {"error": {"code": 403, "message": "Permission denied for alice@example.com on project p"}}
    text = str(google_error(403, json.dumps(body).encode(), "x"))
    assert "alice@example.com" not in text and "al***@ex***" in text


@pytest.mark.parametrize(
    ("status", "transient"),
    [(None, True), (408, True), (429, True), (500, True), (502, True), (503, True), (529, True),
     (400, False), (401, False), (403, False), (404, False), (409, False)],
)  # fmt: skip
def test_transient(status: int | None, transient: bool):
    assert GoogleError("x", status=status).transient is transient
    if status is not None:
        assert google_error(status, b"{}", "x").transient is transient


def test_json_reply():
    assert json_reply(200, b'{"models": {}}', "x") == {"models": {}}
    with pytest.raises(GoogleError, match="QUOTA_EXHAUSTED|exhausted") as caught:
        json_reply(429, json.dumps(QUOTA_429).encode(), "x")
    assert caught.value.reason == "QUOTA_EXHAUSTED"
    with pytest.raises(GoogleError, match="x: the reply is not JSON"):
        json_reply(200, b"<html>", "x")
    with pytest.raises(GoogleError, match="not a JSON object"):
        json_reply(200, b"[]", "x")


def test_an_oauth_error_without_description():
    error = google_error(400, b'{"error": "invalid_grant", "error_description": null}', "refreshing")
    assert str(error) == "refreshing failed: invalid_grant (HTTP 400)"
