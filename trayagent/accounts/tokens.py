"""Access tokens for accounts: refreshed ahead of expiry, one refresh at a time, rotations kept.

One refresh per account at a time across the whole machine: an asyncio lock inside the process and a
file lock between processes (the proxy and a CLI command may both want a token; a second refresh with
a rotated refresh token would be refused by Google). After taking the locks the stored token is read
again, since the other holder may just have refreshed it. A refused refresh token (`invalid_grant`)
disables the account with the reason, and a disabled account is never refreshed again by itself.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from trayagent.accounts.google_auth import GoogleAuth
from trayagent.accounts.oauth import TokenGrant
from trayagent.accounts.record import Account, access_token_name, refresh_token_name
from trayagent.accounts.store import AccountStore
from trayagent.errors import TokenRevoked
from trayagent.files.filelock import FileLock
from trayagent.redact import redact
from trayagent.secrets import SecretStore

REFRESH_MARGIN_S = 300.0  # refresh when less than 5 minutes remain


def sign_in_again(email: str) -> str:
    return f"sign in again with `trayagent accounts login` (as {email}) or re-add its refresh token"


class TokenKeeper:
    def __init__(
        self,
        secrets: SecretStore,
        store: AccountStore,
        auth: GoogleAuth,
        locks_dir: Path,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = secrets
        self._store = store
        self._auth = auth
        self._locks_dir = locks_dir
        self._now = now
        self._cache: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def access_token(self, account: Account) -> str:
        """A token valid for at least a few more minutes. TokenRevoked when the account cannot have one."""
        if account.status == "disabled":  # (an account awaiting verification may still ask)
            raise TokenRevoked(f"{redact(account.email)} is disabled: {account.disabled_reason}")
        token = self._fresh(self._cache.get(account.id))
        if token is not None:
            return token
        lock = self._locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            token = self._fresh(self._cache.get(account.id))  # someone refreshed while we waited
            if token is not None:
                return token
            return await self._refresh_across_processes(account)

    def invalidate(self, account_id: str) -> None:
        """Forget the cached access token (Google answered 401 with it); the next call refreshes."""
        self._cache.pop(account_id, None)
        self._secrets.delete(access_token_name(account_id))

    def remember(self, account: Account, grant: TokenGrant) -> None:
        """Keep a grant obtained elsewhere (sign-in, import). Blocking: the secret store may be slow."""
        if grant.refresh_token:
            self._secrets.set(refresh_token_name(account.id), grant.refresh_token)
        self._secrets.set(
            access_token_name(account.id),
            json.dumps({"access_token": grant.access_token, "expires_at": grant.expires_at}),
        )
        self._cache[account.id] = (grant.access_token, grant.expires_at)

    def _fresh(self, entry: tuple[str, float] | None) -> str | None:
        if entry is None or entry[1] - self._now() < REFRESH_MARGIN_S:
            return None
        return entry[0]

    async def _refresh_across_processes(self, account: Account) -> str:
        lock = FileLock(self._locks_dir / f"token-{account.id}.lock")
        await asyncio.to_thread(lock.acquire)
        try:
            stored = await asyncio.to_thread(self._stored_access, account.id)
            token = self._fresh(stored)
            if token is not None and stored is not None:
                self._cache[account.id] = stored
                return token
            refresh_token = await asyncio.to_thread(self._secrets.get, refresh_token_name(account.id))
            if not refresh_token:
                reason = "no refresh token is stored for it; " + sign_in_again(account.email)
                await asyncio.to_thread(self._disable, account, reason)
                raise TokenRevoked(f"{redact(account.email)}: {reason}")
            try:
                grant = await self._auth.refresh(refresh_token)
            except TokenRevoked as exc:
                reason = f"{exc}; {sign_in_again(account.email)}"
                await asyncio.to_thread(self._disable, account, reason)
                raise TokenRevoked(f"{redact(account.email)} is now disabled: {reason}") from None
            await asyncio.to_thread(self.remember, account, grant)
            return grant.access_token
        finally:
            await asyncio.to_thread(lock.release)

    def _stored_access(self, account_id: str) -> tuple[str, float] | None:
        raw = self._secrets.get(access_token_name(account_id))
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return str(data["access_token"]), float(data["expires_at"])
        except (ValueError, KeyError, TypeError):
            return None

    def _disable(self, account: Account, reason: str) -> None:
        self._cache.pop(account.id, None)
        self._store.modify(account.id, lambda a: replace(a, enabled=False, disabled_reason=reason))
