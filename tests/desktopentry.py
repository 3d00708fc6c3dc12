"""Checking a generated XDG desktop entry with desktop-file-validate (skipped where it is not installed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

needs_validator = pytest.mark.skipif(
    not shutil.which("desktop-file-validate"), reason="desktop-file-validate not installed (desktop-file-utils)"
)


def validate(path: Path) -> None:
    result = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
