"""The running proxy's view of the accounts: reloaded when `accounts.json` changes, quota kept fresh.

`trayagent accounts …` commands (or the status window) change the file; the proxy notices within
`poll_s` by comparing the file's stat, so accounts come and go without a restart. A damaged file is
reported (log and status) while the last good list keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from trayagent.accounts.record import Account
from trayagent.accounts.service import AccountService
from trayagent.accounts.store import AccountStore, FileSignature
from trayagent.accounts.tokens import TokenKeeper
from trayagent.config import Config
from trayagent.errors import AccountsFileError
from trayagent.secrets import SecretStore
from trayagent.upstream.client import CloudCodeClient
from trayagent.upstream.session import open_session

log = logging.getLogger(__name__)

_NEVER = FileSignature(-1, -1, -1)


class AccountRegistry:
    def __init__(
        self,
        config: Config,
        data_dir: Path,
        secrets: SecretStore,
        *,
        poll_s: float = 1.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = AccountStore(data_dir)
        self.accounts: tuple[Account, ...] = ()
        self.error: str | None = None  # why the file could not be read, while it cannot
        self.service: AccountService | None = None
        self._data_dir = data_dir
        self._secrets = secrets
        self._poll_s = poll_s
        self._now = now
        self._signature: FileSignature | None = _NEVER
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._refreshing = asyncio.Lock()
        self._pending: set[asyncio.Task[bool]] = set()
        # Called with (before, after) whenever the list is replaced (e.g. the pool lifts a verified account).
        self.listeners: list[Callable[[tuple[Account, ...], tuple[Account, ...]], None]] = []

    async def start(self) -> None:
        session = self._session = open_session(self.config.upstream)
        self.service = AccountService(self.config, self._data_dir, self._secrets, session, self._now)
        await self.reload()
        self._tasks = [asyncio.create_task(self._watch(), name="accounts-watch")]
        if self.config.scheduling.quota_refresh_minutes > 0:
            self._tasks.append(asyncio.create_task(self._keep_quota_fresh(), name="accounts-quota"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self.service = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The pooled upstream session (None until started)."""
        return self._session

    @property
    def tokens(self) -> TokenKeeper:
        return self._running().tokens

    @property
    def cloud(self) -> CloudCodeClient:
        return self._running().cloud

    def _running(self) -> AccountService:
        if self.service is None:
            raise RuntimeError("the account registry is not started")
        return self.service

    def schedule_reload(self) -> None:
        """Look at the file soon (something in this process just wrote it) without waiting for it here."""
        task = asyncio.get_running_loop().create_task(self.reload())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def counts(self) -> dict[str, int]:
        statuses = [a.status for a in self.accounts]
        return {
            "total": len(statuses),
            "available": statuses.count("ok"),
            "disabled": statuses.count("disabled"),
            "needs_verification": statuses.count("needs_verification"),
        }

    def enabled(self) -> tuple[Account, ...]:
        return tuple(a for a in self.accounts if a.enabled)

    async def reload(self) -> bool:
        """Re-read the file if it changed since the last look; True when the list was replaced."""
        signature = await asyncio.to_thread(self.store.signature)
        if signature == self._signature:
            return False
        try:
            accounts = await asyncio.to_thread(self.store.load)
        except AccountsFileError as exc:
            if self.error != str(exc):
                log.error("accounts: %s; still serving the %d account(s) read before", exc, len(self.accounts))
            self.error = str(exc)
            self._signature = signature
            return False
        self._signature = signature
        self.error = None
        before = {a.id for a in self.accounts}
        after = {a.id for a in accounts}
        if before != after:
            log.info("accounts: %d in the pool (%+d)", len(accounts), len(after) - len(before))
        previous, self.accounts = self.accounts, tuple(accounts)
        for listener in self.listeners:
            try:
                listener(previous, self.accounts)
            except Exception:
                log.exception("accounts: a listener failed")
        return True

    async def refresh_quota(self, accounts: tuple[Account, ...] | None = None, jitter_s: float = 0.0) -> None:
        """Ask Google for the quota of the given (default: every enabled) account, then reload."""
        if self.service is None:
            return
        async with self._refreshing:
            targets = self.enabled() if accounts is None else accounts
            outcomes = await self.service.refresh_many(targets, jitter_s=jitter_s)
            for outcome in outcomes:
                if outcome.problem:
                    log.warning("accounts: %s: %s", outcome.account.email, outcome.problem)
            await self.reload()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                await self.reload()
            except Exception:  # a watcher that dies would silently freeze the pool
                log.exception("accounts: reloading failed")

    async def _keep_quota_fresh(self) -> None:
        interval = self.config.scheduling.quota_refresh_minutes * 60
        jitter = min(30.0, interval / 10)
        while True:
            stale = tuple(
                a for a in self.enabled() if a.quota_checked_at is None or self._now() - a.quota_checked_at >= interval
            )
            if stale:
                try:
                    await self.refresh_quota(stale, jitter_s=jitter)
                except Exception:
                    log.exception("accounts: quota refresh failed")
            await asyncio.sleep(min(interval, 60.0))
