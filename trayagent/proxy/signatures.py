"""Thought signatures the upstream returned, kept (bounded, with a time to live) so protocol front ends whose
clients drop them (OpenAI tool calls carry only an id) can put them back on the next turn.

Keys: `call:<id>` for a function call with an id, `call:<name>:<args hash>` for one without, and
`session:<key>` for the last signature seen in a conversation.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import orjson

MAX_ENTRIES = 20_000
TTL_S = 6 * 3600.0


def call_key(call: Mapping[str, Any]) -> str:
    call_id = call.get("id")
    if isinstance(call_id, str) and call_id:
        return f"call:{call_id}"
    args = orjson.dumps(call.get("args") or {}, option=orjson.OPT_SORT_KEYS)
    return f"call:{call.get('name')}:{hashlib.sha256(args).hexdigest()[:16]}"


class SignatureCache:
    def __init__(
        self, max_entries: int = MAX_ENTRIES, ttl_s: float = TTL_S, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl_s
        self._now = now

    def remember(self, key: str, signature: str) -> None:
        entries = self._entries
        entries[key] = (signature, self._now() + self._ttl)
        entries.move_to_end(key)
        while len(entries) > self._max:
            entries.popitem(last=False)

    def recall(self, key: str) -> str | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if found[1] <= self._now():
            del self._entries[key]
            return None
        # A signature read back is one a conversation still replays: evict it last (LRU, not FIFO).
        self._entries.move_to_end(key)
        return found[0]

    def observe(self, chunk: Mapping[str, Any], session_key: str | None) -> None:
        """Keep every signature in one upstream chunk."""
        for candidate in chunk.get("candidates") or ():
            content = candidate.get("content") if isinstance(candidate, dict) else None
            if not isinstance(content, dict):
                continue
            for part in content.get("parts") or ():
                if not isinstance(part, dict):
                    continue
                signature = part.get("thoughtSignature")
                if not isinstance(signature, str) or not signature:
                    continue
                call = part.get("functionCall")
                if isinstance(call, dict):
                    self.remember(call_key(call), signature)
                if session_key is not None:
                    self.remember(f"session:{session_key}", signature)

    def __len__(self) -> int:
        return len(self._entries)
