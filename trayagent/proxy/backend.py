"""Opening, reconfiguring and closing the proxy's Backend: the account registry and the dispatcher over it.

One `open_backend` serves the server's start and every renewal. A config change that leaves the registry's own
settings alone only needs a new dispatcher over the same registry (`reconfigured`); one that changes them opens a
fresh registry, and the old one closes once the requests still on it are done (`close_backend`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from trayagent.accounts.pool import AccountPool
from trayagent.accounts.record import Account
from trayagent.accounts.registry import AccountRegistry
from trayagent.config import Config
from trayagent.proxy.context import Backend, ProxyContext
from trayagent.proxy.dispatch import Dispatcher
from trayagent.proxy.inflight import InFlight


def registry_settings(config: Config) -> tuple[object, ...]:
    """What an AccountRegistry copies at start: a change here needs a new one."""
    return (config.upstream, config.oauth, config.scheduling)


async def open_backend(ctx: ProxyContext, config: Config, data_dir: Path) -> Backend:
    registry = AccountRegistry(config, data_dir, ctx.secrets)
    await registry.start()
    registry.listeners.append(pool_follower(ctx.pool))
    return Backend(registry, _dispatcher(ctx, config, registry, InFlight()))


def reconfigured(ctx: ProxyContext, backend: Backend, config: Config) -> Backend:
    """The same registry under a new config snapshot (mapping, timeouts, scheduling applied live)."""
    return Backend(backend.registry, _dispatcher(ctx, config, backend.registry, backend.dispatcher.inflight))


async def close_backend(backend: Backend, drain_timeout: float) -> None:
    """Let the requests on it finish (bounded), then close the registry and its connections."""
    await backend.dispatcher.inflight.drained(drain_timeout)
    await backend.registry.stop()


def _dispatcher(ctx: ProxyContext, config: Config, registry: AccountRegistry, inflight: InFlight) -> Dispatcher:
    return Dispatcher(config, registry, ctx.pool, ctx.signatures, ctx.catalogs, inflight)


def pool_follower(pool: AccountPool) -> Callable[[tuple[Account, ...], tuple[Account, ...]], None]:
    """A registry listener: an account the user verified or signed in again (it turned `ok`) starts afresh,
    and a removed one is forgotten."""

    def follow(before: tuple[Account, ...], after: tuple[Account, ...]) -> None:
        old = {account.id: account.status for account in before}
        for account in after:
            if account.status == "ok" and old.get(account.id, "ok") != "ok":
                pool.release(account.id)
        for gone in old.keys() - {account.id for account in after}:
            pool.release(gone)

    return follow
