"""The proxy's API key: a literal `proxy.api_key` in config.yaml, else one generated and kept as a secret."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from trayagent.config import Config
from trayagent.secrets import SecretStore

SECRET_NAME = "api_key"


@dataclass(frozen=True, slots=True)
class ApiKey:
    value: str
    source: str  # where it comes from, in words

    @property
    def from_config(self) -> bool:
        return self.source.startswith("config")

    @property
    def masked(self) -> str:
        """Enough to recognise the key (`sk-ab…wxyz`), never enough to use it."""
        return mask_key(self.value)


def mask_key(value: str) -> str:
    if len(value) >= 16:
        return f"{value[:5]}…{value[-4:]}"
    return f"{value[:3]}…"  # too short to show a tail without giving most of it away


def generate_api_key() -> str:
    return "sk-" + secrets.token_hex(16)


def resolve_api_key(config: Config, store: SecretStore) -> ApiKey:
    """The key in force: config.yaml wins; otherwise the stored one, generated on first use."""
    if config.proxy.api_key:
        return ApiKey(config.proxy.api_key, f"config file {config.source} (proxy.api_key)")
    value = store.get(SECRET_NAME)
    if not value:
        value = generate_api_key()
        store.set(SECRET_NAME, value)
    return ApiKey(value, store.location)


def rotate_api_key(store: SecretStore) -> str:
    """Replace the stored key with a new one. The caller refuses when config.yaml pins a key."""
    value = generate_api_key()
    store.set(SECRET_NAME, value)
    return value


class CachedKey:
    """The key in force for a process that asks for it often (the tray polls every 10 s): read from the secret
    store once, and again only after `forget()` (a 401 says it was rotated). Keyring reads can block on D-Bus."""

    def __init__(self, store: SecretStore) -> None:
        self._store = store
        self._value: str | None = None
        self._lock = threading.Lock()

    def value(self, config: Config) -> str:
        if config.proxy.api_key:
            return config.proxy.api_key
        with self._lock:
            if self._value is None:
                self._value = resolve_api_key(config, self._store).value
            return self._value

    def forget(self) -> None:
        with self._lock:
            self._value = None
