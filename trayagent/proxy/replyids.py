"""The relay's reply ids and clock (translate.hub.ReplyIds): ids a client cannot guess, cheap to draw.

An id a client could guess would let it read a stored response, so the hex comes from the OS's secure random
source; one read per id would put a syscall on the request path, so ids are drawn 256 at a time, and each
then costs one step of a list iterator.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

ID_HEX_DIGITS = 24
_ID_BYTES = ID_HEX_DIGITS // 2
_BATCH = 256


class SecureIds:
    """`new(prefix)`: the prefix and 24 fresh hex digits; `now()`: Unix seconds."""

    __slots__ = ("_batch",)

    def __init__(self) -> None:
        self._batch: Iterator[str] = iter(())

    def new(self, prefix: str) -> str:
        try:
            return prefix + next(self._batch)  # `next()`: cheaper than a bound `__next__`
        except StopIteration:  # once every _BATCH ids
            # The hex of each id's bytes, a space between ids, split: all in C (a Python loop would cost more
            # than the ids it makes).
            self._batch = iter(os.urandom(_ID_BYTES * _BATCH).hex(" ", _ID_BYTES).split())
            return prefix + next(self._batch)

    def now(self) -> int:
        return int(time.time())
