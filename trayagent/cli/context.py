"""What every CLI command needs: the config in force, the secret store, and a voice on stderr.

An invalid config.yaml does not stop the commands that only need *a* config (`status`, `key`, `accounts`):
they use the config the running proxy serves (from the agent's service record), or the defaults, and say so.
"""

from __future__ import annotations

import sys

from trayagent.config import Config, ensure_config_file, load_config, parse_config_text
from trayagent.errors import ConfigError
from trayagent.paths import Paths, ensure_private_dir
from trayagent.secrets import KeyringSecretStore, open_secret_store
from trayagent.supervision.servicerecord import read_record


def say(message: str) -> None:
    """A message for the person at the terminal (stdout stays clean for data)."""
    print(f"trayagent: {message}", file=sys.stderr)


def load_for(paths: Paths, *, create: bool) -> Config:
    """The config in force; on first run (`create`) write the commented sample and say so."""
    if create and ensure_config_file(paths.config_file):
        say(f"first run: wrote a commented config to {paths.config_file}")
    if not paths.config_file.exists():
        return Config()
    try:
        return load_config(paths.config_file)
    except ConfigError as exc:
        return _instead_of_invalid(paths, exc)


def _instead_of_invalid(paths: Paths, error: ConfigError) -> Config:
    problems = "; ".join(error.problems)
    name = paths.config_file.name
    record = read_record(paths.data_dir)
    if record is not None and record.config_text is not None and record.config_path == str(paths.config_file):
        try:
            config = parse_config_text(record.config_text, paths.config_file)
        except ConfigError:
            pass  # a record written by another version: the defaults, then
        else:
            say(f"warning: {name} is invalid ({problems}); using the previous config, which the running proxy serves")
            return config
    say(f"warning: {name} is invalid ({problems}); using the defaults until it is fixed ({paths.config_file})")
    return Config(source=paths.config_file)


def secret_store(paths: Paths) -> KeyringSecretStore:
    ensure_private_dir(paths.data_dir)
    return open_secret_store(paths.data_dir)
