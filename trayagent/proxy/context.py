"""Everything a running proxy needs, handed to `create_app`; nothing is global.

Two immutable snapshots, each swapped as one attribute: `Runtime` (config, key, config error) on every reload,
`Backend` (account registry + dispatcher) when the account settings change or the server starts. A request reads
`ctx.runtime` once and keeps that snapshot for its whole life. The pool, the signature cache and the response store
live as long as the process: cooldowns, signatures and stored responses must survive reloads.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from sanic import Request, Sanic
from sanic.config import Config as SanicConfig

from trayagent import __version__
from trayagent.accounts.pool import AccountPool
from trayagent.apikey import ApiKey, resolve_api_key
from trayagent.config import Config
from trayagent.proxy.catalog import CatalogCache, ModelCatalog
from trayagent.proxy.responsestore import ResponseStore
from trayagent.proxy.signatures import SignatureCache
from trayagent.proxy.uisession import UiSessions
from trayagent.secrets import SecretStore

if TYPE_CHECKING:
    from trayagent.accounts.registry import AccountRegistry
    from trayagent.proxy.dispatch import Dispatcher
    from trayagent.proxy.exchange import Exchange
    from trayagent.proxy.logins import Logins
    from trayagent.proxy.metrics import Metrics
    from trayagent.proxy.monitor.writer import Monitor

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Runtime:
    """The configuration in force: swapped whole on reload, never edited."""

    config: Config
    api_key: ApiKey
    config_error: str | None = None  # why the file on disk is not the one in force, while it is not
    move_error: str | None = None  # the file's new address could not be taken: this process serves the old config

    def address(self) -> str:
        return f"http://{self.config.proxy.bind_host}:{self.config.proxy.port}"


@dataclass(frozen=True, slots=True)
class Backend:
    """The accounts and the dispatcher over them: swapped whole when they are renewed."""

    registry: AccountRegistry
    dispatcher: Dispatcher


@dataclass(eq=False)
class ProxyContext:
    runtime: Runtime
    secrets: SecretStore
    data_dir: Path | None = None  # None: no account pool (tests of the bare app)
    backend: Backend | None = None  # set while the server runs
    monitor: Monitor | None = None  # the request log; set by create_app when there is a data dir
    metrics: Metrics | None = None  # set by create_app
    logins: Logins | None = None  # sign-ins started over the status API; set by create_app
    signatures: SignatureCache = field(default_factory=SignatureCache)
    responses: ResponseStore = field(default_factory=ResponseStore)  # Responses API `store`, in memory
    ui_sessions: UiSessions = field(default_factory=UiSessions)  # status page cookies (routes/ui.py)
    version: str = __version__
    tray_menu: bool | None = None  # None: no tray supervises this proxy (`trayagent serve`); else: its icon has a menu
    started_at: float = field(default_factory=time.time)
    # Called with every finished AI exchange (request monitor, metrics); each must return at once.
    observers: list[Callable[[Exchange], None]] = field(default_factory=list)
    pool: AccountPool = field(init=False)  # cooldowns and sessions: outlive backend renewals
    catalogs: CatalogCache = field(default_factory=CatalogCache, repr=False)
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.pool = AccountPool(self.runtime.config.scheduling, now=time.time, rng=random.Random())

    @property
    def registry(self) -> AccountRegistry | None:
        backend = self.backend
        return backend.registry if backend is not None else None

    def catalog(self, runtime: Runtime) -> ModelCatalog:
        """The model catalog for this runtime's mapping and the accounts signed in now."""
        backend = self.backend
        accounts = backend.registry.accounts if backend is not None else ()
        return self.catalogs.get(runtime.config.models.mapping, accounts)

    def reload_api_key(self) -> ApiKey:
        """Re-read the key from config and the secret store (after `trayagent key rotate`)."""
        with self._reload_lock:
            runtime = self.runtime
            key = resolve_api_key(runtime.config, self.secrets)
            self.runtime = replace(runtime, api_key=key)
            return key

    def finish(self, exchange: Exchange) -> None:
        """Hand a finished exchange to the observers; one failing observer never hurts the others."""
        for observe in self.observers:
            try:
                observe(exchange)
            except Exception:
                log.exception("an exchange observer failed")


# Typed handles for handlers: `request.app.ctx` is the ProxyContext.
ProxyApp = Sanic[SanicConfig, ProxyContext]
ProxyRequest = Request[ProxyApp, SimpleNamespace]
