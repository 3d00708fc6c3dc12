"""Everything a running proxy needs, handed to `create_app`; nothing is global."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from sanic import Request, Sanic
from sanic.config import Config as SanicConfig

from trayagent import __version__
from trayagent.apikey import ApiKey, resolve_api_key
from trayagent.config import Config
from trayagent.secrets import SecretStore

if TYPE_CHECKING:
    from trayagent.accounts.registry import AccountRegistry


@dataclass
class ProxyContext:
    """Holds the current snapshots; a reload swaps `config` or `api_key` whole, never edits them."""

    config: Config
    api_key: ApiKey
    secrets: SecretStore
    data_dir: Path | None = None  # None: no account pool (tests of the bare app)
    accounts: AccountRegistry | None = None  # set while the server runs
    version: str = __version__
    config_error: str | None = None
    started_at: float = field(default_factory=time.time)
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reload_api_key(self) -> ApiKey:
        """Re-read the key from config and the secret store (after `trayagent key rotate`)."""
        with self._reload_lock:
            self.api_key = resolve_api_key(self.config, self.secrets)
            return self.api_key

    def address(self) -> str:
        return f"http://{self.config.proxy.bind_host}:{self.config.proxy.port}"


# Typed handles for handlers: `request.app.ctx` is the ProxyContext.
ProxyApp = Sanic[SanicConfig, ProxyContext]
ProxyRequest = Request[ProxyApp, SimpleNamespace]
