"""Error bodies in each client protocol's own shape, so each SDK raises its own typed exception.

OpenAI     {"error": {"message", "type", "param", "code"}}
Anthropic  {"type": "error", "error": {"type", "message"}}
Gemini     {"error": {"code", "message", "status"}}
"""

from __future__ import annotations

from typing import Any, Final

from trayagent.errors import ProxyError
from trayagent.translate.hub import ClientProtocol

# kind → (OpenAI type, OpenAI code)
_OPENAI: Final[dict[str, tuple[str, str | None]]] = {
    "invalid_request": ("invalid_request_error", None),
    "authentication": ("invalid_request_error", "invalid_api_key"),
    "permission": ("invalid_request_error", "forbidden"),
    "not_found": ("invalid_request_error", "not_found"),
    "request_too_large": ("invalid_request_error", "request_too_large"),
    "rate_limit": ("rate_limit_error", "rate_limit_exceeded"),
    "unavailable": ("server_error", "service_unavailable"),
    "needs_user": ("server_error", "no_usable_account"),
    "api_error": ("server_error", None),
}

_ANTHROPIC: Final = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "request_too_large": "request_too_large",
    "rate_limit": "rate_limit_error",
    "unavailable": "overloaded_error",  # Claude Code retries this; it logs out on 403
    "needs_user": "api_error",  # with `x-should-retry: false`: shown at once, not retried as an overload
    "api_error": "api_error",
}

# HTTP status → google.rpc.Code name
_GEMINI_STATUS: Final = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    414: "INVALID_ARGUMENT",
    417: "FAILED_PRECONDITION",
    424: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    431: "INVALID_ARGUMENT",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def render_openai_error(error: ProxyError) -> dict[str, Any]:
    type_, code = _OPENAI.get(error.kind, ("server_error", None))
    return {"error": {"message": error.message, "type": type_, "param": error.param, "code": error.code or code}}


def render_anthropic_error(error: ProxyError) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": _ANTHROPIC.get(error.kind, "api_error"), "message": error.message},
    }


def render_gemini_error(error: ProxyError) -> dict[str, Any]:
    status = _GEMINI_STATUS.get(error.status_code, "INTERNAL" if error.status_code >= 500 else "UNKNOWN")
    return {"error": {"code": error.status_code, "message": error.message, "status": status}}


_RENDERERS: Final = {
    "openai": render_openai_error,
    "anthropic": render_anthropic_error,
    "gemini": render_gemini_error,
}


def render_error(protocol: ClientProtocol, error: ProxyError) -> dict[str, Any]:
    return _RENDERERS[protocol](error)
