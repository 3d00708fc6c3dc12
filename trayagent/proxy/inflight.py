"""Requests in flight on one account registry: counted so its renewal can wait for them before closing it."""

from __future__ import annotations

import asyncio
import contextlib


class InFlight:
    __slots__ = ("_count", "_idle")

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self._count += 1
        self._idle.clear()

    def leave(self) -> None:
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    def __len__(self) -> int:
        return self._count

    async def drained(self, timeout: float) -> None:
        """Wait until no request is picking an account or streaming here (bounded by `timeout`)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
