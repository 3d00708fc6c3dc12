"""The HTTP surface: which client protocol and which access class each path belongs to."""

from __future__ import annotations

from typing import Literal

from trayagent.translate.hub import ClientProtocol

PathClass = Literal["health", "admin", "ai"]

HEALTH_PATHS = frozenset({"/healthz", "/health"})
_ADMIN_PREFIXES = ("/api/", "/ui/")
_ADMIN_EXACT = frozenset({"/api", "/ui", "/metrics"})


def classify_path(path: str) -> PathClass:
    """health is exempt in all_except_health; admin always needs the key except off+loopback; the rest is AI.

    Trailing and doubled slashes are ignored: `/metrics/` or `//api/key` is admin like its plain form."""
    if "//" in path or path.endswith("/"):
        path = "/" + "/".join(piece for piece in path.split("/") if piece)
    if path in HEALTH_PATHS:
        return "health"
    if path in _ADMIN_EXACT or path.startswith(_ADMIN_PREFIXES):
        return "admin"
    return "ai"


def protocol_for_path(path: str) -> ClientProtocol:
    """The protocol whose error shape a client on this path understands.

    google-genai ≥ 1.x may call `/v1/models/{model}:{method}` (api_version "v1"); the colon
    tells it apart from OpenAI's `/v1/models/{model}`. A doubled version prefix (`/v1/v1/messages`: the base URL
    already ended in /v1) is the protocol of what follows it.
    """
    if path.startswith(_DOUBLED):
        path = path[path.index("/", 1) :]
    if path.startswith("/v1beta/") or path == "/v1beta":
        return "gemini"
    if path.startswith("/v1/models/") and ":" in path:
        return "gemini"
    if path == "/v1/messages" or path.startswith("/v1/messages/"):
        return "anthropic"
    return "openai"


_DOUBLED = ("/v1/v1/", "/v1/v1beta/", "/v1beta/v1beta/", "/v1beta/v1/")
_BASE_URLS = {
    "openai": "OpenAI clients use the base URL {base}/v1",
    "anthropic": "Anthropic clients use the base URL {base} (without /v1)",
    "gemini": "Gemini clients use the base URL {base} (without /v1beta)",
}


def base_url_hint(path: str, base: str) -> str:
    """What to tell a client whose path matched nothing. A base URL that already ends in /v1 makes the SDK call
    `/v1/v1/…`: it must drop that /v1 (an Anthropic client) or keep exactly one (an OpenAI client)."""
    doubled = path.startswith(_DOUBLED)
    protocol = protocol_for_path(path)
    hint = _BASE_URLS[protocol].format(base=base)
    if not doubled:
        return hint
    if protocol == "anthropic":
        return f"the base URL ends in /v1 and the client adds its own: drop the /v1 ({hint})"
    return f"the path repeats its version prefix: {hint}, once"
