"""Google's OAuth endpoints over aiohttp: code exchange, refresh, userinfo."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from trayagent.accounts.oauth import TokenGrant, token_grant
from trayagent.config import OAuthSettings
from trayagent.errors import GoogleError, TokenRevoked
from trayagent.upstream.google_error import json_reply

_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)


@dataclass(frozen=True, slots=True)
class UserInfo:
    email: str
    name: str | None


class GoogleAuth:
    def __init__(
        self, session: aiohttp.ClientSession, settings: OAuthSettings, now: Callable[[], float] = time.time
    ) -> None:
        self._session = session
        self._settings = settings
        self._now = now

    async def exchange_code(self, code: str, verifier: str, redirect_uri: str) -> TokenGrant:
        return await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            "signing in",
        )

    async def refresh(self, refresh_token: str) -> TokenGrant:
        """A fresh access token. TokenRevoked when Google says the refresh token is dead."""
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token}, "refreshing a token")

    async def userinfo(self, access_token: str) -> UserInfo:
        url = self._settings.userinfo_url
        data = await self._fetch(
            "GET", url, "reading the account's email", headers={"Authorization": f"Bearer {access_token}"}
        )
        email = data.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise GoogleError("Google did not tell us the account's email (userinfo has no email)")
        name = data.get("name")
        return UserInfo(email=email, name=name if isinstance(name, str) and name else None)

    async def _token(self, form: dict[str, str], what: str) -> TokenGrant:
        form = {**form, "client_id": self._settings.client_id, "client_secret": self._settings.client_secret}
        try:
            data = await self._fetch(
                "POST",
                self._settings.token_url,
                what,
                data=urllib.parse.urlencode(form).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except GoogleError as exc:
            if exc.reason == "invalid_grant" and form["grant_type"] == "refresh_token":
                raise TokenRevoked(f"Google refused the refresh token ({_words(exc)})") from None
            raise
        return token_grant(data, self._now())

    async def _fetch(
        self, method: str, url: str, what: str, *, data: bytes | None = None, headers: dict[str, str]
    ) -> dict[str, object]:
        host = urllib.parse.urlsplit(url).netloc
        try:
            async with self._session.request(method, url, data=data, headers=headers, timeout=_TIMEOUT) as reply:
                raw = await reply.read()
                status = reply.status
        except TimeoutError:
            raise GoogleError(f"{what}: {host} did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise GoogleError(f"{what}: cannot reach {host} ({type(exc).__name__}: {exc})") from None
        return json_reply(status, raw, what)


def _words(exc: GoogleError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("error_description"), str):
        return f"invalid_grant: {body['error_description']}"
    return "invalid_grant"
