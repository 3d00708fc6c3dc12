"""Status page sessions: single-use, short-lived tickets; sessions that expire and are bounded."""

from __future__ import annotations

from trayagent.proxy.uisession import MAX_SESSIONS, SESSION_TTL_S, TICKET_TTL_S, UiSessions


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_ticket_opens_one_session_once() -> None:
    sessions = UiSessions(Clock())
    ticket = sessions.ticket()
    session = sessions.redeem(ticket)
    assert session and sessions.valid(session)
    assert sessions.redeem(ticket) is None
    assert not sessions.valid("made-up") and not sessions.valid(None) and not sessions.valid("")


def test_tickets_and_sessions_expire() -> None:
    clock = Clock()
    sessions = UiSessions(clock)
    late = sessions.ticket()
    clock.now += TICKET_TTL_S + 1
    assert sessions.redeem(late) is None
    session = sessions.redeem(sessions.ticket())
    clock.now += SESSION_TTL_S - 1
    assert sessions.valid(session)
    clock.now += 2
    assert not sessions.valid(session)


def test_sessions_are_bounded_and_can_end() -> None:
    sessions = UiSessions(Clock())
    first = sessions.redeem(sessions.ticket())
    others = [sessions.redeem(sessions.ticket()) for _ in range(MAX_SESSIONS)]
    assert not sessions.valid(first) and all(sessions.valid(s) for s in others)
    sessions.end(others[0])
    assert not sessions.valid(others[0])
