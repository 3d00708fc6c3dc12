"""Where files live: TRAYAGENT_HOME, --config, and the platform's user dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from trayagent.paths import resolve_paths


def test_trayagent_home_holds_everything(tmp_path: Path) -> None:
    paths = resolve_paths({"TRAYAGENT_HOME": str(tmp_path)})
    assert paths.config_file == tmp_path / "config.yaml"
    assert paths.data_dir == tmp_path / "data"
    assert paths.secrets_file == tmp_path / "data" / "secrets.json"


def test_config_option_moves_only_the_config(tmp_path: Path) -> None:
    paths = resolve_paths({"TRAYAGENT_HOME": str(tmp_path)}, tmp_path / "elsewhere.yaml")
    assert paths.config_file == tmp_path / "elsewhere.yaml"
    assert paths.data_dir == tmp_path / "data"


def test_relative_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    paths = resolve_paths({"TRAYAGENT_HOME": "rel"}, "c.yaml")
    assert paths.config_file == tmp_path / "c.yaml" and paths.data_dir == tmp_path / "rel" / "data"


def test_platform_dirs_without_trayagent_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    paths = resolve_paths({})
    assert paths.config_file == tmp_path / "cfg" / "trayagent" / "config.yaml"
    assert paths.data_dir == tmp_path / "share" / "trayagent"
