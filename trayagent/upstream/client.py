"""Cloud Code `v1internal` calls over aiohttp, trying each configured base in turn.

A base is abandoned for the next on a network error, a timeout, 408, 404 or 5xx; never on 429
(that is about the account, and belongs to the caller) nor on other 4xx.
"""

from __future__ import annotations

import asyncio
import urllib.parse
import uuid
from typing import Any

import aiohttp
import orjson

from trayagent.config import UpstreamSettings
from trayagent.errors import GoogleError
from trayagent.upstream.google_error import json_reply
from trayagent.upstream.identity import user_agent

# Control calls (project, quota) are small: they get a whole-call limit on top of the session's.
CONTROL_TIMEOUT_S = 60.0


def next_base_worthy(error: GoogleError) -> bool:
    return error.status is None or error.status in (404, 408) or error.status >= 500


class CloudCodeClient:
    def __init__(self, session: aiohttp.ClientSession, settings: UpstreamSettings) -> None:
        self._session = session
        self._settings = settings
        self._user_agent = user_agent(settings.user_agent)
        # One id per process, as the real client sends per editor session.
        self._session_id = uuid.uuid4().hex

    def headers(self, access_token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": self._user_agent,
            "X-Goog-Api-Client": "google-cloud-sdk vscode_cloudshelleditor/0.1",
        }

    async def call(self, method: str, body: dict[str, Any], access_token: str) -> dict[str, Any]:
        """POST `{base}:{method}` with a JSON body; the decoded JSON reply, or GoogleError."""
        payload = orjson.dumps(body)
        last: GoogleError | None = None
        for base in self._settings.endpoints:
            try:
                return await self._post(f"{base}:{method}", payload, access_token, method)
            except GoogleError as exc:
                if not next_base_worthy(exc):
                    raise
                last = exc
        assert last is not None  # endpoints is never empty (config validates it)
        raise last

    async def _post(self, url: str, payload: bytes, access_token: str, method: str) -> dict[str, Any]:
        host = urllib.parse.urlsplit(url).netloc
        timeout = aiohttp.ClientTimeout(
            total=CONTROL_TIMEOUT_S,
            connect=self._settings.connect_timeout,
            sock_read=self._settings.read_timeout,
        )
        try:
            async with self._session.post(
                url, data=payload, headers=self.headers(access_token), timeout=timeout
            ) as reply:
                raw = await reply.read()
                status = reply.status
        except TimeoutError:
            raise GoogleError(f"{method} on {host}: no answer in time") from None
        except aiohttp.ClientError as exc:
            raise GoogleError(f"{method} on {host}: {_network_words(exc)}") from None
        except asyncio.CancelledError:
            raise
        return json_reply(status, raw, f"{method} on {host}")


def _network_words(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    return f"{type(exc).__name__}: {exc}"
