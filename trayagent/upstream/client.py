"""Cloud Code control calls (project, onboarding, quota): JSON in, the decoded JSON object out, on the one
transport (`transport.py`) with its base fallback."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import orjson

from trayagent.config import UpstreamSettings
from trayagent.errors import GoogleError
from trayagent.upstream.google_error import json_reply
from trayagent.upstream.transport import CloudCodeTransport, network_words

# Control calls are small: they get a whole-call limit on top of the session's.
CONTROL_TIMEOUT_S = 60.0


class CloudCodeClient:
    def __init__(self, session: aiohttp.ClientSession, settings: UpstreamSettings) -> None:
        self._transport = CloudCodeTransport(session, settings)
        self._timeout = aiohttp.ClientTimeout(
            total=CONTROL_TIMEOUT_S, connect=settings.connect_timeout, sock_read=settings.read_timeout
        )
        # One id per process, as the real client sends per editor session.
        self._session_id = uuid.uuid4().hex

    def headers(self, access_token: str) -> dict[str, str]:
        return self._transport.headers(access_token)

    async def call(self, method: str, body: dict[str, Any], access_token: str) -> dict[str, Any]:
        """POST `{base}:{method}` with a JSON body; the decoded JSON reply, or GoogleError."""
        reply = await self._transport.post(method, orjson.dumps(body), access_token, timeout=self._timeout)
        try:
            raw = await reply.read()
        except TimeoutError:
            raise GoogleError(f"{method}: the answer did not arrive in time") from None
        except aiohttp.ClientError as exc:
            raise GoogleError(f"{method}: the answer broke off ({network_words(exc)})") from None
        finally:
            reply.release()
        return json_reply(reply.status, raw, method)
