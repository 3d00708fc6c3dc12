"""The relay's reply ids: hex from the OS's secure source, drawn in batches, never repeated across a refill."""

from __future__ import annotations

import re
import time

from trayagent.proxy.relay import IDS
from trayagent.proxy.replyids import SecureIds


def test_ids_carry_their_prefix_and_24_hex_digits() -> None:
    ids = SecureIds()
    assert re.fullmatch(r"resp_[0-9a-f]{24}", ids.new("resp_"))
    assert re.fullmatch(r"msg_[0-9a-f]{24}", ids.new("msg_"))
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", IDS.new("chatcmpl-"))


def test_ids_never_repeat_across_refills() -> None:
    ids = SecureIds()
    drawn = [ids.new("") for _ in range(1000)]  # 256 per batch: refilled three times
    assert all(re.fullmatch(r"[0-9a-f]{24}", value) for value in drawn)
    assert len(set(drawn)) == len(drawn)


def test_two_sources_draw_different_ids() -> None:
    assert len({SecureIds().new("") for _ in range(50)}) == 50


def test_now_is_unix_seconds() -> None:
    before = int(time.time())
    now = SecureIds().now()
    assert isinstance(now, int)
    assert before <= now <= int(time.time())
