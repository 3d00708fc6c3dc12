"""Each protocol's error body, as its official SDK expects it."""

from __future__ import annotations

import pytest

from trayagent import errors
from trayagent.translate.error_shapes import render_error

CASES = [
    (errors.BadRequest("bad"), "invalid_request_error", None, "invalid_request_error", "INVALID_ARGUMENT"),
    (
        errors.AuthError("who"),
        "invalid_request_error",
        "invalid_api_key",
        "authentication_error",
        "UNAUTHENTICATED",
    ),
    (errors.Forbidden("no"), "invalid_request_error", "forbidden", "permission_error", "PERMISSION_DENIED"),
    (errors.RouteNotFound("where"), "invalid_request_error", "not_found", "not_found_error", "NOT_FOUND"),
    (
        errors.MethodNotAllowed("how"),
        "invalid_request_error",
        "not_found",
        "not_found_error",
        "UNIMPLEMENTED",
    ),
    (
        errors.PayloadTooLarge("big"),
        "invalid_request_error",
        "request_too_large",
        "request_too_large",
        "INVALID_ARGUMENT",
    ),
    (errors.NoAccountAvailable("none"), "server_error", "service_unavailable", "overloaded_error", "UNAVAILABLE"),
    (errors.NeedsUser("none"), "server_error", "no_usable_account", "api_error", "UNAVAILABLE"),
    (errors.InternalError("oops"), "server_error", None, "api_error", "INTERNAL"),
]


@pytest.mark.parametrize(("error", "oa_type", "oa_code", "an_type", "gm_status"), CASES)
def test_shapes(error: errors.ProxyError, oa_type: str, oa_code: str | None, an_type: str, gm_status: str) -> None:
    assert render_error("openai", error) == {
        "error": {"message": error.message, "type": oa_type, "param": None, "code": oa_code}
    }
    assert render_error("anthropic", error) == {
        "type": "error",
        "error": {"type": an_type, "message": error.message},
    }
    assert render_error("gemini", error) == {
        "error": {"code": error.status_code, "message": error.message, "status": gm_status}
    }


def test_retry_after_header() -> None:
    assert errors.NoAccountAvailable("x", retry_after=12.4).headers() == {"Retry-After": "12"}
    assert errors.NoAccountAvailable("x", retry_after=0.2).headers() == {"Retry-After": "1"}
    assert errors.NoAccountAvailable("x").headers() == {}
