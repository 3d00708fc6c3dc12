"""The Responses API's stored responses, in memory for the life of the proxy process: what `previous_response_id`
continues and `GET /v1/responses/{id}` reads back.

A response the client did not ask to keep (`store: false`), or one that failed, is never stored. The store is
bounded three ways: a count, a total size and an age. The size of an entry is its JSON size, the conversation it
answered included; an entry larger than the whole budget is not kept. Reading an entry back (a conversation still
going on) makes it the last to be evicted; expiry counts from when it was stored. Nothing is written to disk: a
restart forgets every response, and the clients are told so when they ask for one (openai_responses.py).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from trayagent.translate.hub import StoredReply

log = logging.getLogger(__name__)

MAX_ENTRIES = 1000
MAX_BYTES = 64 * 1024 * 1024
TTL_S = 6 * 3600.0
KEPT = frozenset({"completed", "incomplete"})  # a failed response is never continued


@dataclass(frozen=True, slots=True)
class _Entry:
    stored: StoredReply
    size: int
    expires: float


class ResponseStore:
    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        ttl_s: float = TTL_S,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._ttl = ttl_s
        self._now = now
        self._bytes = 0

    def keep(self, reply: Mapping[str, Any], conversation: tuple[Any, ...]) -> bool:
        """Store a finished response with the conversation it answered; False when it is not kept (failed, no id,
        or too large for the whole store). Items are kept as they are, never copied: nobody changes them after."""
        reply_id = reply.get("id")
        if not isinstance(reply_id, str) or reply.get("status") not in KEPT:
            return False
        # The items of the conversation this one continues are shared with that entry, yet counted again here:
        # the total overstates what is held, never understates it.
        try:
            size = len(orjson.dumps(conversation)) + len(orjson.dumps(reply))
        except TypeError:  # orjson.JSONEncodeError: nothing a client sent or got can be like that
            log.exception("a response could not be measured and is not kept")
            return False
        if size > self._max_bytes:
            log.info("a response of %d bytes is larger than the response store and is not kept", size)
            return False
        self._drop(reply_id)
        self._entries[reply_id] = _Entry(StoredReply(reply, conversation), size, self._now() + self._ttl)
        self._bytes += size
        entries, now = self._entries, self._now()
        while entries:  # the least recently used go first: over a bound, or expired (a cheap sweep)
            first = next(iter(entries))
            full = len(entries) > self._max_entries or self._bytes > self._max_bytes
            if not full and entries[first].expires > now:
                break
            self._drop(first)
        return reply_id in entries

    def get(self, reply_id: str) -> StoredReply | None:
        """The stored response, or None when it is unknown or has expired."""
        entry = self._entries.get(reply_id)
        if entry is None:
            return None
        if entry.expires <= self._now():
            self._drop(reply_id)
            return None
        self._entries.move_to_end(reply_id)
        return entry.stored

    def delete(self, reply_id: str) -> bool:
        """Forget a response; False when there was none (or it had expired)."""
        found = self.get(reply_id) is not None
        self._drop(reply_id)
        return found

    def _drop(self, reply_id: str) -> None:
        entry = self._entries.pop(reply_id, None)
        if entry is not None:
            self._bytes -= entry.size

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """The bytes counted against the bound."""
        return self._bytes
