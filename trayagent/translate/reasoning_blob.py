"""The reasoning blob: thought signatures packed into a Responses reasoning item's `encrypted_content`, so a
stateless client (`store: false`, Codex) carries them to the next turn and Google accepts its history.

Opaque to the client and versioned: `PREFIX` + base64url(JSON {"f": model family, "e": entries}). Entries:
  ["t", text, signature]   a signed thought: replayed as a thought part, text and signature as Google gave them
  ["c", call_id, signature] the signature of the functionCall whose id is call_id
  ["x", signature]          the signature of the turn's last text part
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

PREFIX: Final = "trayagent.r1."

Entry = list[str]


@dataclass(frozen=True, slots=True)
class Blob:
    family: str
    entries: tuple[Entry, ...]


class CorruptBlob(ValueError):
    """Our prefix on something we cannot read: the client changed it."""


def pack(family: str, entries: Sequence[Entry]) -> str:
    raw = orjson.dumps({"f": family, "e": list(entries)})
    return PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")


def unpack(value: object) -> Blob | None:
    """The blob in an echoed `encrypted_content`; None when it is not one of ours (another provider's, absent)."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return None
    try:
        data: Any = orjson.loads(base64.urlsafe_b64decode(value[len(PREFIX) :]))
    except (binascii.Error, ValueError) as exc:
        raise CorruptBlob(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("f"), str) or not isinstance(data.get("e"), list):
        raise CorruptBlob("not a reasoning blob")
    entries = data["e"]
    for entry in entries:
        if not _valid(entry):
            raise CorruptBlob("a malformed entry")
    return Blob(data["f"], tuple(entries))


def _valid(entry: object) -> bool:
    if not isinstance(entry, list) or not entry or not all(isinstance(field, str) for field in entry):
        return False
    return (entry[0] in ("t", "c") and len(entry) == 3) or (entry[0] == "x" and len(entry) == 2)
