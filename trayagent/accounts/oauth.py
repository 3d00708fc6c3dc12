"""Google's installed-app OAuth flow, the pure parts: PKCE, the consent URL, the callback, token replies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trayagent.config import OAuthSettings
from trayagent.errors import GoogleError, LoginFailed

SCOPES = (
    "openid",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
    "https://www.googleapis.com/auth/cclog",
    "https://www.googleapis.com/auth/experimentsandconfigs",
)
CALLBACK_PATH = "/oauth-callback"


@dataclass(frozen=True, slots=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def generate(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)[:96]  # RFC 7636: 43-128 unreserved characters
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What the token endpoint gave: an access token, when it expires, and maybe a (new) refresh token."""

    access_token: str
    expires_at: float
    refresh_token: str | None = None


def new_state() -> str:
    return secrets.token_urlsafe(24)


def authorization_url(settings: OAuthSettings, redirect_uri: str, state: str, pkce: Pkce) -> str:
    params = {
        "client_id": settings.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "access_type": "offline",
        "prompt": "consent",  # without it Google returns no refresh token for a second sign-in
        "include_granted_scopes": "true",
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    base = settings.auth_url.rstrip("?&")
    separator = "&" if urllib.parse.urlsplit(base).query else "?"
    return f"{base}{separator}{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"


def code_from_callback(query: Mapping[str, str], expected_state: str) -> str:
    """The authorization code from the redirect's query string, or LoginFailed saying what went wrong."""
    state = query.get("state", "")
    if not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise LoginFailed(
            "the sign-in answer did not match this login attempt (wrong state); "
            "start again with `trayagent accounts login`, and use the newest link"
        )
    error = query.get("error")
    if error == "access_denied":
        raise LoginFailed("you declined the consent screen, so no account was added")
    if error:
        raise LoginFailed(f"Google refused the sign-in: {error} {query.get('error_description', '')}".rstrip())
    code = query.get("code", "")
    if not code:
        raise LoginFailed("the sign-in answer carried no authorization code")
    return code


def token_grant(reply: Any, now: float) -> TokenGrant:
    """Read a token endpoint reply `{access_token, expires_in, refresh_token?, ...}`."""
    if not isinstance(reply, dict) or not isinstance(reply.get("access_token"), str) or not reply["access_token"]:
        raise GoogleError("the token endpoint answered without an access token")
    expires_in = reply.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 3600.0
    refresh = reply.get("refresh_token")
    return TokenGrant(
        access_token=reply["access_token"],
        expires_at=now + lifetime,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
    )
