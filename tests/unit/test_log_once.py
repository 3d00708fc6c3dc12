"""LogOnce: each distinct text is logged once, and what it remembers stays bounded."""

from __future__ import annotations

from trayagent.logsetup import LogOnce


def test_each_text_is_first_once() -> None:
    once = LogOnce(10)
    assert [once.first(text) for text in ("a", "b", "a", "b", "c")] == [True, True, False, False, True]


def test_past_its_limit_it_stays_quiet_rather_than_grow() -> None:
    once = LogOnce(2)
    assert once.first("a") and once.first("b")
    assert not once.first("c")  # no room: not logged, not remembered
    assert not once.first("a")
