"""`@frozen`: a dataclass the type checker holds immutable, as cheap to make as a plain slotted one.

`@dataclass(frozen=True)` makes every instance's fields immutable at run time by setting each one through
`object.__setattr__` in `__init__`, at about 1.5k instructions a field. The objects made for every request (its
Host and browser signals, the access policy, the route's target, the client call, the hub request, the account
pick, each upstream SSE event, the monitor's row) cost 62k instructions more per request that way, 91k with the
monitor on: 4% and 5.5% of a whole Gemini-native stream request (callgrind). These objects are written once and
never changed, and mypy (`make lint`, run by CI) flags any assignment to their fields, so the guarantee stays
where it catches mistakes: before the code runs (tests/unit/test_frozen.py holds each of those classes to it).

Instances are not hashable (a frozen dataclass's are): none of these is a key or in a set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

_Class = TypeVar("_Class", bound=type)


@dataclass_transform(frozen_default=True)
def frozen(cls: _Class) -> _Class:
    """A slotted dataclass of `cls`; read-only to the type checker."""
    return dataclass(slots=True)(cls)  # type: ignore[return-value]
