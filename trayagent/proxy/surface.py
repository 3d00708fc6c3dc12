"""The HTTP surface: which client protocol and which access class each path belongs to."""

from __future__ import annotations

from typing import Literal

from trayagent.translate.hub import ClientProtocol

PathClass = Literal["health", "admin", "ai"]

HEALTH_PATHS = frozenset({"/healthz", "/health"})
_ADMIN_PREFIXES = ("/api/", "/ui/")
_ADMIN_EXACT = frozenset({"/api", "/ui", "/metrics"})


def classify_path(path: str) -> PathClass:
    """health is exempt in all_except_health; admin always needs the key except off+loopback; the rest is AI."""
    if path in HEALTH_PATHS:
        return "health"
    if path in _ADMIN_EXACT or path.startswith(_ADMIN_PREFIXES):
        return "admin"
    return "ai"


def protocol_for_path(path: str) -> ClientProtocol:
    """The protocol whose error shape a client on this path understands.

    google-genai ≥ 1.x may call `/v1/models/{model}:{method}` (api_version "v1"); the colon
    tells it apart from OpenAI's `/v1/models/{model}`.
    """
    if path.startswith("/v1beta/") or path == "/v1beta":
        return "gemini"
    if path.startswith("/v1/models/") and ":" in path:
        return "gemini"
    if path == "/v1/messages" or path.startswith("/v1/messages/"):
        return "anthropic"
    return "openai"
