"""Thought signatures the upstream returned, kept (bounded, with a time to live) so protocol front ends whose
clients drop them (OpenAI tool calls carry only an id) can put them back on the next turn.

Keys: `call:<id>` for a function call with an id, `call:<name>:<args hash>` for one without, `session:<key>`
for the last signature seen in a conversation, and `sig:<hash>` → the model family that issued a signature.
Before a request goes up, `restore` puts back the signatures its function calls lost and drops the ones another
model family issued (they can never validate); it never makes one up.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from trayagent.translate.gemini import SKIP_SIGNATURE

MAX_ENTRIES = 20_000
TTL_S = 6 * 3600.0


def call_key(call: Mapping[str, Any]) -> str:
    call_id = call.get("id")
    if isinstance(call_id, str) and call_id:
        return f"call:{call_id}"
    return content_key(call)


def content_key(call: Mapping[str, Any]) -> str:
    """The key of a call by what it says (name and arguments): found again when a client renamed its id."""
    args = orjson.dumps(call.get("args") or {}, option=orjson.OPT_SORT_KEYS)
    return f"call:{call.get('name')}:{hashlib.sha256(args).hexdigest()[:16]}"


def model_family(model: str) -> str:
    """Signatures validate only on the family that issued them."""
    return "claude" if "claude" in model else "gemini"


def _signature_key(signature: str) -> str:
    return "sig:" + hashlib.sha256(signature.encode()).hexdigest()[:24]


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

    def observe(self, chunk: Mapping[str, Any], session_key: str | None, model: str | None = None) -> None:
        """Keep every signature in one upstream chunk (and, given the model, which family issued it)."""
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
                if model is not None:
                    self.remember(_signature_key(signature), model_family(model))

    def restore(self, request: Mapping[str, Any], model: str, *, verify: bool = False) -> Mapping[str, Any]:
        """The request with its model turns' signatures made right for `model`. A function call that lost its
        signature (OpenAI clients keep only the call id) gets the one Google gave it, found by id and then by
        name and arguments. With `verify`, a signature Google did not issue for this model family (another
        family's, or one this process never saw) is never sent: Claude models lose that thinking part, Gemini
        function calls get Google's skip sentinel. The input is never changed, and is returned as it is when
        nothing needed doing (the common case, kept cheap)."""
        contents = request.get("contents")
        if not isinstance(contents, list) or not (self._entries or verify):
            return request
        family = model_family(model)
        changed: dict[int, dict[str, Any]] = {}
        for index, content in enumerate(contents):
            if not isinstance(content, dict) or content.get("role") != "model":
                continue
            parts = content.get("parts")
            if not isinstance(parts, list):
                continue
            fixed = [new for part in parts if (new := self._restored(part, family, verify)) is not None]
            if len(fixed) != len(parts) or any(new is not old for new, old in zip(fixed, parts, strict=True)):
                changed[index] = {**content, "parts": fixed}
        if not changed:
            return request
        return {**request, "contents": [changed.get(i, content) for i, content in enumerate(contents)]}

    def _restored(self, part: Any, family: str, verify: bool) -> Any:
        """The part as it must go up, or None to leave it out."""
        if not isinstance(part, dict):
            return part
        signature = part.get("thoughtSignature")
        if isinstance(signature, str):
            if not verify or signature == SKIP_SIGNATURE or self.recall(_signature_key(signature)) == family:
                return part
            if family == "claude" and part.get("thought"):
                return None
            unsigned = {key: value for key, value in part.items() if key != "thoughtSignature"}
            if family == "gemini" and "functionCall" in part:
                unsigned["thoughtSignature"] = SKIP_SIGNATURE
            return unsigned
        call = part.get("functionCall")
        if not isinstance(call, dict):
            return part
        found = self.recall(call_key(call))
        if found is None and call.get("id"):
            found = self.recall(content_key(call))
        if found is None or self.recall(_signature_key(found)) not in (None, family):
            return part
        return {**part, "thoughtSignature": found}

    def __len__(self) -> int:
        return len(self._entries)
