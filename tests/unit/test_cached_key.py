"""The tray's cached API key: one secret-store read for many polls, a fresh read after forget()."""

from __future__ import annotations

from trayagent.apikey import CachedKey
from trayagent.config import parse_config_text


class CountingStore:
    location = "memory"

    def __init__(self) -> None:
        self.values: dict[str, str] = {"api_key": "sk-first-0123456789"}
        self.reads = 0

    def get(self, name: str) -> str | None:
        self.reads += 1
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


def test_the_store_is_read_once_until_forgotten() -> None:
    store = CountingStore()
    cached = CachedKey(store)
    config = parse_config_text("")
    assert [cached.value(config) for _ in range(5)] == ["sk-first-0123456789"] * 5
    assert store.reads == 1
    store.values["api_key"] = "sk-rotated-0123456789"
    assert cached.value(config) == "sk-first-0123456789"  # still the cached one, until told
    cached.forget()
    assert cached.value(config) == "sk-rotated-0123456789" and store.reads == 2


def test_a_key_pinned_in_the_config_never_touches_the_store() -> None:
    store = CountingStore()
    config = parse_config_text("proxy:\n  api_key: sk-pinned-0123456789abcdef\n")
    assert CachedKey(store).value(config) == "sk-pinned-0123456789abcdef" and store.reads == 0
