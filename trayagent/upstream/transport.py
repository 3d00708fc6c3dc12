"""The one transport to Cloud Code `v1internal`: a POST tried on each configured base in turn.

A base is abandoned for the next on a network error, a timeout, 408, 404 or 5xx; never on 429 (that is about the
account, and belongs to the dispatcher) nor on another 4xx. Every failure is a `GoogleError` carrying what the
failure classifier (`accounts/ratelimit.py`) reads: the status (None when nothing came back), the raw body and
the headers. Control calls (project, quota) and generation calls share this loop and its words.
"""

from __future__ import annotations

import asyncio
import urllib.parse

import aiohttp

from trayagent.config import UpstreamSettings
from trayagent.errors import GoogleError
from trayagent.upstream.google_error import google_error
from trayagent.upstream.identity import user_agent

API_CLIENT = "google-cloud-sdk vscode_cloudshelleditor/0.1"


def next_base_worthy(error: GoogleError) -> bool:
    return error.status is None or error.status in (404, 408) or error.status >= 500


class CloudCodeTransport:
    __slots__ = ("_endpoints", "_headers", "_session")

    def __init__(self, session: aiohttp.ClientSession, settings: UpstreamSettings) -> None:
        self._session = session
        self._endpoints = tuple(settings.endpoints)
        self._headers = {
            "Content-Type": "application/json",
            "User-Agent": user_agent(settings.user_agent),
            "X-Goog-Api-Client": API_CLIENT,
        }

    def headers(self, access_token: str, accept: str = "application/json") -> dict[str, str]:
        return {**self._headers, "Accept": accept, "Authorization": f"Bearer {access_token}"}

    async def post(
        self,
        method: str,
        payload: bytes,
        access_token: str,
        *,
        timeout: aiohttp.ClientTimeout,
        accept: str = "application/json",
    ) -> aiohttp.ClientResponse:
        """The 200 reply of `{base}:{method}` (the caller reads and releases it), or the last base's GoogleError."""
        headers = self.headers(access_token, accept)
        name = method.partition("?")[0]
        last: GoogleError | None = None
        for base in self._endpoints:
            url = f"{base}:{method}"
            host = urllib.parse.urlsplit(url).netloc
            try:
                reply = await self._session.post(url, data=payload, headers=headers, timeout=timeout)
            except TimeoutError:
                last = GoogleError(f"{name} on {host}: no answer in time")
                continue
            except aiohttp.ClientError as exc:
                last = GoogleError(f"{name} on {host}: {network_words(exc)}")
                continue
            except asyncio.CancelledError:
                raise
            if reply.status == 200:
                return reply
            try:
                raw = await reply.read()
            except (aiohttp.ClientError, TimeoutError):
                raw = b""
            finally:
                reply.release()
            last = google_error(reply.status, raw, f"{name} on {host}")
            last.body, last.headers = raw, dict(reply.headers.items())
            if not next_base_worthy(last):
                raise last
        assert last is not None  # endpoints is never empty (config validates it)
        raise last


def network_words(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return "the server closed the connection"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
