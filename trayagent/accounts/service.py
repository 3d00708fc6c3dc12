"""Adding, checking and removing accounts: what `trayagent accounts …`, the proxy and the status window do.

Adding an account (by sign-in or by refresh token) is: a valid token → the email (userinfo) → the record
and its tokens saved → project and tier (onboarding if needed) → quota. Once the record and tokens are
saved the account exists; a failure after that is recorded on it and reported, not rolled back.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp

from trayagent.accounts.google_auth import GoogleAuth
from trayagent.accounts.login import LOGIN_TIMEOUT_S, LoginSession
from trayagent.accounts.oauth import TokenGrant
from trayagent.accounts.project import resolve_project
from trayagent.accounts.quota import read_available_models
from trayagent.accounts.record import Account, access_token_name, new_account, refresh_token_name
from trayagent.accounts.store import AccountStore
from trayagent.accounts.tokens import TokenKeeper
from trayagent.config import Config
from trayagent.errors import AccountError, GoogleError, TokenRevoked
from trayagent.redact import redact
from trayagent.secrets import SecretStore
from trayagent.upstream.client import CloudCodeClient
from trayagent.upstream.session import open_session

REFRESH_CONCURRENCY = 5
VERIFY_REASON = "Google asks you to verify this account: open its verification link, then refresh it"


@dataclass(frozen=True, slots=True)
class Outcome:
    """An account after an add or a refresh, and what went wrong along the way (None: all well)."""

    account: Account
    problem: str | None = None
    created: bool = False


class AccountService:
    def __init__(
        self,
        config: Config,
        data_dir: Path,
        secrets: SecretStore,
        session: aiohttp.ClientSession,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = AccountStore(data_dir)
        self.secrets = secrets
        self.auth = GoogleAuth(session, config.oauth, now)
        self.cloud = CloudCodeClient(session, config.upstream)
        self.tokens = TokenKeeper(secrets, self.store, self.auth, data_dir / "locks", now)
        self._now = now

    @classmethod
    @asynccontextmanager
    async def open(cls, config: Config, data_dir: Path, secrets: SecretStore) -> AsyncIterator[AccountService]:
        session = open_session(config.upstream)
        try:
            yield cls(config, data_dir, secrets, session)
        finally:
            await session.close()

    # -- adding --------------------------------------------------------------------------------

    async def add_refresh_token(self, refresh_token: str) -> Outcome:
        token = refresh_token.strip()
        if not token:
            raise AccountError("the refresh token is empty")
        try:
            grant = await self.auth.refresh(token)
        except TokenRevoked as exc:
            raise AccountError(f"this refresh token does not work: {exc}") from None
        return await self._add(replace(grant, refresh_token=grant.refresh_token or token))

    async def login(self, show_url: Callable[[str], None], timeout: float = LOGIN_TIMEOUT_S) -> Outcome:
        """Sign in with Google in the browser; `show_url` gets the consent link as soon as it exists."""
        async with LoginSession.open(self.config.oauth) as login:
            show_url(login.url)
            code = await login.wait(timeout)
            try:
                grant = await self.auth.exchange_code(code, login.pkce.verifier, login.redirect_uri)
                if not grant.refresh_token:
                    raise GoogleError(
                        "Google gave no refresh token; remove trayagent's access at "
                        "https://myaccount.google.com/permissions and sign in again"
                    )
                outcome = await self._add(grant)
            except AccountError as exc:
                login.finish(False, str(exc))
                raise
            login.finish(True, f"{outcome.account.email} is ready to use in trayagent.")
            return outcome

    async def _add(self, grant: TokenGrant) -> Outcome:
        info = await self.auth.userinfo(grant.access_token)
        existing = await asyncio.to_thread(self.store.find, info.email)
        record = existing or new_account(info.email, self._now())
        # Adding again is how a user repairs an account: it is enabled afresh.
        record = replace(record, name=info.name or record.name, enabled=True, disabled_reason=None, validation_url=None)
        await asyncio.to_thread(self.tokens.remember, record, grant)
        stored = await asyncio.to_thread(self.store.upsert, record)
        if stored.id != record.id:  # another process added the same email meanwhile: keep its id
            await asyncio.to_thread(self._move_tokens, record.id, stored)
        outcome = await self.refresh(stored, recheck_project=True)
        return replace(outcome, created=existing is None)

    def _move_tokens(self, old_id: str, account: Account) -> None:
        for name in (refresh_token_name, access_token_name):
            value = self.secrets.get(name(old_id))
            if value is not None:
                self.secrets.set(name(account.id), value)
                self.secrets.delete(name(old_id))

    # -- checking ------------------------------------------------------------------------------

    async def refresh(self, account: Account, *, recheck_project: bool = False) -> Outcome:
        """Re-read the account's project (when unknown or asked) and its quota; record the result."""
        try:
            try:
                changes = await self._check(account, recheck_project)
            except GoogleError as exc:
                if exc.status != 401:
                    raise
                # The access token died early (revoked, or expired at Google): one refresh, one more try.
                await asyncio.to_thread(self.tokens.invalidate, account.id)
                changes = await self._check(account, recheck_project)
        except TokenRevoked as exc:
            current = await asyncio.to_thread(self._current, account)
            return Outcome(current, str(exc))
        except GoogleError as exc:
            changes = self._failure_changes(account, exc)
            problem: str | None = str(exc) if not exc.validation_url else f"{VERIFY_REASON}: {exc.validation_url}"
        else:
            problem = None
        updated = await asyncio.to_thread(self.store.modify, account.id, lambda a: replace(a, **changes))
        if updated is None:
            raise AccountError(f"{redact(account.email)} was removed meanwhile")
        return Outcome(updated, problem)

    async def _check(self, account: Account, recheck_project: bool) -> dict[str, Any]:
        token = await self.tokens.access_token(account)
        changes: dict[str, Any] = {}
        project = account.project_id
        if project is None or recheck_project:
            info = await resolve_project(self.cloud, token)
            project = info.project_id
            changes.update(project_id=info.project_id, tier=info.tier, tier_name=info.tier_name)
        try:
            reply = await self.cloud.call("fetchAvailableModels", {"project": project}, token)
        except GoogleError as exc:
            if exc.status != 404 or "project_id" in changes:
                raise
            # The project is gone: find (or make) the account's project again, once.
            info = await resolve_project(self.cloud, token)
            changes.update(project_id=info.project_id, tier=info.tier, tier_name=info.tier_name)
            reply = await self.cloud.call("fetchAvailableModels", {"project": info.project_id}, token)
        changes.update(quota=read_available_models(reply), quota_checked_at=self._now(), quota_error=None)
        if account.status == "needs_verification":  # it works again: the user has verified it
            changes.update(enabled=True, disabled_reason=None, validation_url=None)
        return changes

    def _failure_changes(self, account: Account, exc: GoogleError) -> dict[str, Any]:
        if exc.validation_url or exc.reason == "VALIDATION_REQUIRED":
            return {
                "enabled": False,
                "disabled_reason": VERIFY_REASON,
                "validation_url": exc.validation_url,
                "quota_error": str(exc),
            }
        return {"quota_error": str(exc), "quota_checked_at": self._now()}

    def _current(self, account: Account) -> Account:
        return next((a for a in self.store.load() if a.id == account.id), account)

    async def refresh_many(
        self,
        accounts: Sequence[Account],
        *,
        recheck_project: bool = False,
        concurrency: int = REFRESH_CONCURRENCY,
        jitter_s: float = 0.0,
    ) -> list[Outcome]:
        """Refresh several accounts, at most `concurrency` at once; each start is delayed by up to `jitter_s`."""
        gate = asyncio.Semaphore(concurrency)

        async def one(account: Account) -> Outcome:
            if jitter_s:
                await asyncio.sleep(random.uniform(0, jitter_s))
            async with gate:
                try:
                    return await self.refresh(account, recheck_project=recheck_project)
                except AccountError as exc:
                    return Outcome(account, str(exc))

        return list(await asyncio.gather(*(one(a) for a in accounts)))

    # -- removing, export, import ------------------------------------------------------------------

    def remove(self, email: str) -> Account | None:
        """Forget the account and its tokens. Blocking."""
        removed = self.store.remove(email)
        if removed is not None:
            self.secrets.delete(refresh_token_name(removed.id))
            self.secrets.delete(access_token_name(removed.id))
        return removed

    def export(self) -> tuple[list[dict[str, str]], list[str]]:
        """`[{"email", "refresh_token"}]` for every account, and the emails that had no token. Blocking."""
        entries, missing = [], []
        for account in self.store.load():
            token = self.secrets.get(refresh_token_name(account.id))
            if token:
                entries.append({"email": account.email, "refresh_token": token})
            else:
                missing.append(account.email)
        return entries, missing

    async def import_entries(self, entries: Iterable[dict[str, str]]) -> list[tuple[str, Outcome | AccountError]]:
        """Add each `{"email"?, "refresh_token"}`; one failure does not stop the others."""
        results: list[tuple[str, Outcome | AccountError]] = []
        for entry in entries:
            label = entry.get("email") or "(no email given)"
            try:
                outcome = await self.add_refresh_token(entry["refresh_token"])
            except AccountError as exc:
                results.append((label, exc))
                continue
            if entry.get("email") and entry["email"].lower() != outcome.account.email.lower():
                outcome = replace(
                    outcome,
                    problem=f"the file says {entry['email']}, but this token belongs to {outcome.account.email}",
                )
            results.append((outcome.account.email, outcome))
        return results


def parse_export(data: Any) -> list[dict[str, str]]:
    """Validate an import file: a JSON list of `{"email", "refresh_token"}` objects. ValueError says where."""
    if isinstance(data, dict) and isinstance(data.get("accounts"), list):
        data = data["accounts"]
    if not isinstance(data, list):
        raise ValueError('expected a JSON list like [{"email": "...", "refresh_token": "..."}]')
    entries = []
    for i, item in enumerate(data, 1):
        if not isinstance(item, dict) or not isinstance(item.get("refresh_token"), str) or not item["refresh_token"]:
            raise ValueError(f"entry {i} has no refresh_token")
        email = item.get("email")
        entries.append({"refresh_token": item["refresh_token"], **({"email": email} if isinstance(email, str) else {})})
    return entries
