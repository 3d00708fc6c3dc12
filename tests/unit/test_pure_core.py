"""The pure core stays pure: translators and policies import no I/O frameworks, nor do the modules they import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "trayagent"
TRANSLATE = sorted((PACKAGE / "translate").glob("*.py"))
PURE_MODULES = [
    *TRANSLATE,
    PACKAGE / "proxy" / "auth.py",
    PACKAGE / "proxy" / "surface.py",
    *(PACKAGE / "proxy" / "monitor" / name for name in ("row.py", "query.py")),
    *(PACKAGE / "proxy" / name for name in ("accountview.py", "exhaustion.py")),
    PACKAGE / "redact.py",
    PACKAGE / "errors.py",
    PACKAGE / "agent" / "menu.py",
    PACKAGE / "configchange.py",
    PACKAGE / "supervision" / "restartpolicy.py",
    PACKAGE / "supervision" / "proxystatus.py",
    *(PACKAGE / "accounts" / name for name in ("record.py", "oauth.py", "quota.py", "table.py", "ratelimit.py")),
    PACKAGE / "upstream" / "google_error.py",
    PACKAGE / "upstream" / "identity.py",
    PACKAGE / "upstream" / "sse.py",
    PACKAGE / "upstream" / "error_body.py",
    *(PACKAGE / "accounts" / name for name in ("pool.py", "poolstate.py")),
]
FORBIDDEN = {
    "sanic",
    "aiohttp",
    "asyncio",
    "socket",
    "os",
    "subprocess",
    "keyring",
    "yaml",
    "httpx",
    "requests",
    "time",  # clocks are injected (`now`), so tests run on a fake one
}


def imported_names(module: Path) -> set[str]:
    """The top-level name of everything `module` imports, anywhere in it."""
    imported = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    return imported


def _module_file(dotted: str) -> Path | None:
    """trayagent.a.b → trayagent/a/b.py or trayagent/a/b/__init__.py."""
    base = PACKAGE.parent.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _dotted(module: Path) -> str:
    parts = module.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that runs at import or call time: `if TYPE_CHECKING:` blocks are skipped."""
    found: list[ast.AST] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def package_imports(module: Path) -> set[Path]:
    """The trayagent modules `module` loads when it runs, with the packages' __init__.py they pass through."""
    targets: set[str] = set()
    here = _dotted(module).split(".") if module.name != "__init__.py" else [*_dotted(module).split("."), ""]
    for node in _runtime_nodes(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module
            if node.level:  # relative: `from . import x`, `from .hub import y`
                base = ".".join([*here[: len(here) - node.level], node.module or ""]).strip(".")
            if base:
                targets.add(base)
                targets |= {f"{base}.{alias.name}" for alias in node.names}  # `from pkg import submodule`
    files: set[Path] = set()
    for target in targets:
        parts = target.split(".")
        if parts[0] != PACKAGE.name:
            continue
        for depth in range(1, len(parts) + 1):
            found = _module_file(".".join(parts[:depth]))
            if found is not None:
                files.add(found)
    return files - {module}


# Where the translators' code is loaded from (compiled or not), decided once as trayagent.translate is imported:
# it reads the build's manifest then, and is no code a translator runs. Only that __init__ may import it (below).
LOADER = PACKAGE / "compiled.py"


def reachable(start: Path) -> set[Path]:
    """`start` and every trayagent module importing it runs, its own packages' __init__.py included (not LOADER)."""
    packages = {d / "__init__.py" for d in start.parents if d.is_relative_to(PACKAGE)}
    seen = {start, *packages, LOADER}
    pending = list(seen - {LOADER})
    while pending:
        for found in package_imports(pending.pop()) - seen:
            seen.add(found)
            pending.append(found)
    return seen - {LOADER}


@pytest.mark.parametrize("module", PURE_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_io_imports(module: Path) -> None:
    assert not imported_names(module) & FORBIDDEN


@pytest.mark.parametrize("module", TRANSLATE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_translator_reaches_no_io_through_its_imports(module: Path) -> None:
    impure = {
        str(reached.relative_to(PACKAGE)): sorted(imported_names(reached) & FORBIDDEN) for reached in reachable(module)
    }
    assert {name: bad for name, bad in impure.items() if bad} == {}


def test_only_the_translate_package_itself_imports_the_loader() -> None:
    importers = {str(module.relative_to(PACKAGE)) for module in TRANSLATE if LOADER in package_imports(module)}
    assert importers == {"translate/__init__.py"}


def test_the_import_walk_follows_packages_and_submodules() -> None:
    """The walk itself: error_shapes reaches hub, errors and the packages it passes through; config reaches yaml."""
    reached = {str(p.relative_to(PACKAGE)) for p in reachable(PACKAGE / "translate" / "error_shapes.py")}
    assert {"translate/hub.py", "errors.py", "__init__.py", "translate/__init__.py"} <= reached
    config = reachable(PACKAGE / "config.py")
    assert PACKAGE / "yamlsource.py" in config and "yaml" in imported_names(PACKAGE / "yamlsource.py")


def test_the_compiled_build_fingerprints_every_module_outside_translate_that_it_imports() -> None:
    """trayagent/compiled.py lists by hand what the translate modules import from the rest of the package (hub.py's
    `frozen` included: the compiled modules make its classes): a build must be dropped when one of those changes,
    so a new import there must join the list."""
    from trayagent import compiled

    imported = {
        found
        for module in TRANSLATE
        for found in package_imports(module)
        if not found.is_relative_to(PACKAGE / "translate") and found.name != "__init__.py"
    } - {LOADER}
    assert {str(path.relative_to(PACKAGE)) for path in imported} == set(compiled.IMPORTED)
