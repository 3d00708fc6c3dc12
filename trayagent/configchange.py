"""What a config reload changes, and what that change needs: a rebind, an auth swap, or nothing but a live update.

Pure: compares two `Config` snapshots field by field; the service decides what to do with the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from trayagent.config import Config

# The listening address: changing it means a new listener (the old one drains its streams).
REBIND_KEYS = frozenset({"proxy.port", "proxy.allow_lan_access"})
# Who may call: swapped inside the running proxy, connections stay up.
AUTH_KEYS = frozenset({"proxy.auth_mode", "proxy.api_key"})
# Values that must never reach a log line, even as "old → new".
SECRET_KEYS = frozenset({"proxy.api_key", "oauth.client_secret"})


@dataclass(frozen=True, slots=True)
class ConfigChange:
    changed: tuple[tuple[str, Any, Any], ...]  # (dotted key, old value, new value), in declaration order

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _, _ in self.changed)

    @property
    def rebind(self) -> bool:
        return any(key in REBIND_KEYS for key in self.keys)

    @property
    def auth(self) -> bool:
        return any(key in AUTH_KEYS for key in self.keys)

    def __bool__(self) -> bool:
        return bool(self.changed)

    def describe(self) -> str:
        """`proxy.port 8045 → 8046, proxy.api_key changed` — never a secret's value."""
        parts = []
        for key, old, new in self.changed:
            if key in SECRET_KEYS or isinstance(old, dict | tuple) or isinstance(new, dict | tuple):
                parts.append(f"{key} changed")
            else:
                parts.append(f"{key} {_show(old)} → {_show(new)}")
        return ", ".join(parts) or "nothing"


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _plain(value: Any) -> Any:
    # MappingProxyType compares equal to a dict only one way round; normalise before comparing.
    if hasattr(value, "items") and not isinstance(value, dict):
        return dict(value.items())
    return value


def diff_config(old: Config, new: Config) -> ConfigChange:
    changed: list[tuple[str, Any, Any]] = []
    for section in fields(Config):
        if not section.compare:
            continue  # source path and warnings are not settings
        old_value, new_value = getattr(old, section.name), getattr(new, section.name)
        if hasattr(old_value, "__dataclass_fields__"):
            for item in fields(old_value):
                a, b = _plain(getattr(old_value, item.name)), _plain(getattr(new_value, item.name))
                if a != b:
                    changed.append((f"{section.name}.{item.name}", a, b))
        elif old_value != new_value:
            changed.append((section.name, old_value, new_value))
    return ConfigChange(tuple(changed))
