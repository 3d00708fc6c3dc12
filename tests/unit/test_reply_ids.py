"""The relay's reply ids: hex from the OS's secure source, buffered, never repeated across a refill."""

from __future__ import annotations

import re

from trayagent.proxy.relay import IDS, SecureHex


def test_ids_have_the_asked_length_and_never_repeat_across_refills() -> None:
    source = SecureHex()
    drawn = [source(24) for _ in range(1000)]  # 12 bytes each: the 4 KB buffer is refilled twice
    assert all(re.fullmatch(r"[0-9a-f]{24}", value) for value in drawn)
    assert len(set(drawn)) == len(drawn)


def test_odd_sizes_take_whole_bytes() -> None:
    source = SecureHex()
    assert [len(source(size)) for size in (2, 8, 32, 4096, 10000)] == [2, 8, 32, 4096, 10000]


def test_relay_ids_carry_their_prefix() -> None:
    assert re.fullmatch(r"resp_[0-9a-f]{24}", IDS.new("resp_"))
