"""What every CLI command needs: the config in force, the secret store, and a voice on stderr."""

from __future__ import annotations

import sys

from trayagent.config import Config, ensure_config_file, load_config
from trayagent.paths import Paths, ensure_private_dir
from trayagent.secrets import KeyringSecretStore, open_secret_store


def say(message: str) -> None:
    """A message for the person at the terminal (stdout stays clean for data)."""
    print(f"trayagent: {message}", file=sys.stderr)


def load_for(paths: Paths, *, create: bool) -> Config:
    """The config in force; on first run (`create`) write the commented sample and say so."""
    if create and ensure_config_file(paths.config_file):
        say(f"first run: wrote a commented config to {paths.config_file}")
    if not paths.config_file.exists():
        return Config()
    return load_config(paths.config_file)


def secret_store(paths: Paths) -> KeyringSecretStore:
    ensure_private_dir(paths.data_dir)
    return open_secret_store(paths.data_dir)
