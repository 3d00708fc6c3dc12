"""Put this folder first on PYTHONPATH and PyGObject (`gi`) is not importable: a machine without the
`linux-gui` extra, for the processes started with it (and their children, which inherit PYTHONPATH)."""

from __future__ import annotations

import sys
from importlib.machinery import ModuleSpec


class _NoPyGObject:
    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if name == "gi" or name.startswith("gi."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoPyGObject())  # type: ignore[arg-type]
