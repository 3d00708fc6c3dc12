"""The translators' compiled build: the modules of `trayagent.translate` compiled to C by mypyc
(scripts/compile_translators.py, run by `make run`, `make test` and `make bench`), and the decision, made once
when `trayagent.translate` is imported, whether to use it.

The build lives beside the interpreter that made it (`<sys.prefix>/trayagent-compiled`), never in the source
tree: a stale extension there would shadow the `.py` file being edited. Its manifest records a hash of every
source it was compiled from (the translate modules and the two trayagent modules they import); the build is used
only when each of those sources is unchanged and no translate module was added or removed, so an edit takes
effect at once, as pure Python, until the next build. The compiled modules are the same code, so the pure form
is a complete fallback: where there is no C compiler, or with TRAYAGENT_PURE_PYTHON=1 in the environment.

Compiled, a module-level name is a lookup in the module's dict each time it is read, unless it is `Final`: then
it is a C static. So the translate modules' constants are all declared `Final`.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

PACKAGE = Path(__file__).resolve().parent  # the trayagent package being run
BUILD = Path(sys.prefix) / "trayagent-compiled"
MANIFEST = "manifest.json"
PURE_VARIABLE = "TRAYAGENT_PURE_PYTHON"
# What the compiled modules import from outside trayagent.translate: a change there may change what they assume.
IMPORTED = ("errors.py", "frozen.py")
# Left as Python: the package's own __init__ (it makes this decision), and hub.py, whose runtime-checkable
# Protocols mypyc cannot compile.
UNCOMPILED = frozenset({"__init__.py", "hub.py"})


def compiled_sources(package: Path = PACKAGE) -> list[str]:
    """The translate modules the build compiles, as paths relative to the trayagent package."""
    names = sorted(path.name for path in (package / "translate").glob("*.py") if path.name not in UNCOMPILED)
    return [f"translate/{name}" for name in names]


def fingerprint(package: Path = PACKAGE) -> dict[str, str]:
    """Each source the build depends on → the SHA-256 of its bytes."""
    return {name: _sha256(package / name) for name in [*compiled_sources(package), *IMPORTED]}


def manifest(package: Path = PACKAGE) -> bytes:
    """The manifest a build of `package`'s sources writes, for this interpreter."""
    return orjson.dumps(
        {"python": sys.implementation.cache_tag, "sources": fingerprint(package)}, option=orjson.OPT_INDENT_2
    )


def search_path(path: Iterable[str], package: Path = PACKAGE, build: Path = BUILD) -> tuple[list[str], str]:
    """`trayagent.translate`'s `__path__`, with the compiled build's directory first when the build matches the
    sources, and the verdict: "compiled", or "pure Python (why)"."""
    listed = list(path)
    verdict = _verdict(package, build)
    if verdict == "compiled":
        listed.insert(0, str(build / "trayagent" / "translate"))
    return listed, verdict


def _verdict(package: Path, build: Path) -> str:
    if os.environ.get(PURE_VARIABLE, "") not in ("", "0"):
        return f"pure Python ({PURE_VARIABLE} is set)"
    try:
        recorded: Any = orjson.loads((build / MANIFEST).read_bytes())
    except FileNotFoundError:
        return "pure Python (no compiled build)"
    except (OSError, orjson.JSONDecodeError) as exc:
        return f"pure Python (the compiled build's manifest is unreadable: {exc})"
    if not isinstance(recorded, dict) or recorded.get("python") != sys.implementation.cache_tag:
        return "pure Python (the compiled build is for another Python)"
    try:
        current = fingerprint(package)
    except OSError as exc:
        return f"pure Python (a source could not be read: {exc})"
    if recorded.get("sources") != current:
        return "pure Python (the sources changed since the compiled build; `make` rebuilds it)"
    return "compiled"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
