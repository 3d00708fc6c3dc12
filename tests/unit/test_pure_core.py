"""The pure core stays pure: translators and policies import no I/O frameworks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "trayagent"
PURE_MODULES = [
    *sorted((PACKAGE / "translate").glob("*.py")),
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


@pytest.mark.parametrize("module", PURE_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_io_imports(module: Path) -> None:
    tree = ast.parse(module.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN
