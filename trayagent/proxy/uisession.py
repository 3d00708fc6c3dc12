"""Browser sessions for the status page, so the API key never travels in a URL.

Whoever holds the key (the tray's window, the page's own "paste your key" form) asks for a one-time
ticket; `/ui/login?ticket=…` trades it for an HttpOnly, SameSite=Strict cookie. The cookie opens `/ui/`
and `/api/*` only, never the AI routes. Everything lives in memory: a proxy restart signs browsers out.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

COOKIE = "trayagent_ui"
TICKET_TTL_S = 60.0
SESSION_TTL_S = 12 * 3600.0
MAX_SESSIONS = 32  # windows and browser tabs; past this the oldest is signed out
MAX_TICKETS = 64


class UiSessions:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._tickets: OrderedDict[str, float] = OrderedDict()
        self._sessions: OrderedDict[str, float] = OrderedDict()

    def ticket(self) -> str:
        """A single-use ticket, valid for TICKET_TTL_S."""
        value = secrets.token_urlsafe(24)
        self._tickets[value] = self._now() + TICKET_TTL_S
        while len(self._tickets) > MAX_TICKETS:
            self._tickets.popitem(last=False)
        return value

    def redeem(self, ticket: str) -> str | None:
        """A new session id for a valid ticket (which is used up), else None."""
        now = self._now()
        found = _take(self._tickets, ticket)
        if found is None or found <= now:
            return None
        session = secrets.token_urlsafe(32)
        self._sessions[session] = now + SESSION_TTL_S
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def valid(self, session: str | None) -> bool:
        if not session:
            return False
        now = self._now()
        for known, expires in list(self._sessions.items()):
            if expires <= now:
                del self._sessions[known]
        # Compared in constant time against every live session, like the API key.
        matched = False
        for known in self._sessions:
            matched |= hmac.compare_digest(known.encode(), session.encode())
        return matched

    def end(self, session: str | None) -> None:
        if session:
            _take(self._sessions, session)


def _take(entries: OrderedDict[str, float], key: str) -> float | None:
    for known in list(entries):
        if hmac.compare_digest(known.encode(), key.encode()):
            return entries.pop(known)
    return None
