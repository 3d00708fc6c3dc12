"""Everything a running proxy needs, handed to `create_app`; nothing is global."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from sanic import Request, Sanic
from sanic.config import Config as SanicConfig

from trayagent import __version__
from trayagent.apikey import ApiKey, resolve_api_key
from trayagent.config import Config
from trayagent.proxy.signatures import SignatureCache
from trayagent.proxy.uisession import UiSessions
from trayagent.secrets import SecretStore

if TYPE_CHECKING:
    from trayagent.accounts.pool import AccountPool
    from trayagent.accounts.registry import AccountRegistry
    from trayagent.proxy.dispatch import Dispatcher
    from trayagent.proxy.exchange import Exchange
    from trayagent.proxy.logins import Logins
    from trayagent.proxy.metrics import Metrics
    from trayagent.proxy.monitor.writer import Monitor

log = logging.getLogger(__name__)


@dataclass
class ProxyContext:
    """Holds the current snapshots; a reload swaps `config` or `api_key` whole, never edits them."""

    config: Config
    api_key: ApiKey
    secrets: SecretStore
    data_dir: Path | None = None  # None: no account pool (tests of the bare app)
    accounts: AccountRegistry | None = None  # set while the server runs
    dispatcher: Dispatcher | None = None  # set while the server runs, renewed with the registry
    pool: AccountPool | None = None  # cooldowns and sessions: outlive registry renewals
    signatures: SignatureCache = field(default_factory=SignatureCache)
    monitor: Monitor | None = None  # the request log; set by create_app when there is a data dir
    metrics: Metrics | None = None  # set by create_app
    logins: Logins | None = None  # sign-ins started over the status API; set by create_app
    ui_sessions: UiSessions = field(default_factory=UiSessions)  # status page cookies (routes/ui.py)
    version: str = __version__
    config_error: str | None = None
    started_at: float = field(default_factory=time.time)
    # Called with every finished AI exchange (request monitor, metrics); each must return at once.
    observers: list[Callable[[Exchange], None]] = field(default_factory=list)
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reload_api_key(self) -> ApiKey:
        """Re-read the key from config and the secret store (after `trayagent key rotate`)."""
        with self._reload_lock:
            self.api_key = resolve_api_key(self.config, self.secrets)
            return self.api_key

    def finish(self, exchange: Exchange) -> None:
        """Hand a finished exchange to the observers; one failing observer never hurts the others."""
        for observe in self.observers:
            try:
                observe(exchange)
            except Exception:
                log.exception("an exchange observer failed")

    def address(self) -> str:
        return f"http://{self.config.proxy.bind_host}:{self.config.proxy.port}"


# Typed handles for handlers: `request.app.ctx` is the ProxyContext.
ProxyApp = Sanic[SanicConfig, ProxyContext]
ProxyRequest = Request[ProxyApp, SimpleNamespace]
