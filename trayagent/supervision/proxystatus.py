"""The proxy's status as the supervisor publishes it: stopped / starting / running / error, with the why.

A plain value, shared by the supervisor (which produces it), the service, the CLI and the tray (which
show it); it lives apart so the pure menu code needs nothing that spawns processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProxyState = Literal["stopped", "starting", "running", "error"]


@dataclass(frozen=True, slots=True)
class ProxyStatus:
    state: ProxyState
    reason: str | None = None  # why: the error, or what a start is doing
    address: str | None = None  # where a proxy answers right now (also in `error` while an old one serves)
    pid: int | None = None

    @property
    def serving(self) -> bool:
        return self.address is not None
