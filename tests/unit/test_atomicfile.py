"""Atomic replacement: the new content with its mode, no temp file left, the old file kept on failure.

The crash case (a writer killed mid-write) spawns processes: tests/integration/test_atomicfile_crash.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trayagent.files.atomicfile import write_atomic


def test_replaces_content_with_the_given_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomic(target, b"one", mode=0o600)
    write_atomic(target, b"two", mode=0o644)
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomic(target, b"old")
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
