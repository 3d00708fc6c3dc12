"""Where trayagent keeps its files: the config file and the data directory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "trayagent"
CONFIG_FILE_NAME = "config.yaml"


@dataclass(frozen=True, slots=True)
class Paths:
    config_file: Path
    data_dir: Path

    @property
    def secrets_file(self) -> Path:
        return self.data_dir / "secrets.json"


def resolve_paths(env: Mapping[str, str] | None = None, config_override: str | os.PathLike[str] | None = None) -> Paths:
    """TRAYAGENT_HOME=DIR puts everything under DIR; otherwise the platform's user dirs.

    `--config PATH` replaces only the config file; data stays where it would be.
    """
    env = os.environ if env is None else env
    home = env.get("TRAYAGENT_HOME")
    if home:
        base = Path(home).expanduser()
        config_file, data_dir = base / CONFIG_FILE_NAME, base / "data"
    else:
        config_file = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / CONFIG_FILE_NAME
        data_dir = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    if config_override is not None:
        config_file = Path(config_override).expanduser()
    return Paths(config_file=Path(os.path.abspath(config_file)), data_dir=Path(os.path.abspath(data_dir)))


def ensure_private_dir(path: Path) -> Path:
    """Create a directory readable by the user only (it holds tokens and logs)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
