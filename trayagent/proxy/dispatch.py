"""The dispatcher: a Gemini-format request in; an account picked, the upstream called, failures classified,
retried or rotated; a stream of Gemini chunks (or one merged reply) out.

Every protocol front end goes through here. For streams nothing is returned before the first real chunk,
so a failure before it (a 429, an empty stream) moves to the next account without the client seeing it.
After that a failure ends the stream with `StreamBroken`, which the front end renders as an error event; so
does a stream that ends without its finish reason (cut short upstream). Transient failures are held back from
the pool until the request ends (`heldfailures.py`): one that repeats on a second account follows the request,
so the request gets it (`UpstreamFailed`) and no account is set aside for it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from trayagent.accounts.pool import AccountPool, NoneAvailable, Wait
from trayagent.accounts.project import resolve_project
from trayagent.accounts.ratelimit import Failure, sign_in_lost
from trayagent.accounts.record import Account
from trayagent.accounts.registry import AccountRegistry
from trayagent.config import Config
from trayagent.errors import (
    GoogleError,
    ProxyError,
    StreamBroken,
    TokenRevoked,
    UpstreamFailed,
    UpstreamRejected,
)
from trayagent.proxy.catalog import CatalogCache
from trayagent.proxy.exchange import Exchange
from trayagent.proxy.exhaustion import exhaustion_error
from trayagent.proxy.heldfailures import HeldFailures
from trayagent.proxy.inflight import InFlight
from trayagent.proxy.signatures import SignatureCache
from trayagent.proxy.upstreamreply import Reply, failure_parts, follows_the_request, mask_email, proxied_headers
from trayagent.redact import redact
from trayagent.translate.gemini import fit_thinking_to_history, merge_chunks, repair_signatures
from trayagent.translate.hub import HubRequest
from trayagent.translate.models import Route
from trayagent.upstream.generation import (
    GenerationClient,
    count_tokens_body,
    envelope,
    generation_failure,
    is_real_chunk,
)

log = logging.getLogger(__name__)

MAX_WAIT_S = 6.0  # total time one request may spend waiting for a cooldown to end before failing
_T = TypeVar("_T")


class Dispatcher:
    """One per config snapshot over one account registry; the pool, the signature cache and the catalogs belong
    to the proxy and outlive it. Dispatchers over one registry share its in-flight count (`InFlight`), which the
    registry's renewal waits on before closing its connections."""

    def __init__(
        self,
        config: Config,
        registry: AccountRegistry,
        pool: AccountPool,
        signatures: SignatureCache,
        catalogs: CatalogCache,
        inflight: InFlight,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.registry = registry
        self.pool = pool
        self.signatures = signatures
        self.inflight = inflight
        self._catalogs = catalogs
        self._sleep = sleep
        pool.settings = config.scheduling
        session = registry.session
        assert session is not None, "the registry must be started first"
        self.client = GenerationClient(session, config.upstream, config.proxy.request_timeout)

    def route(self, requested: str) -> Route:
        return self._catalogs.get(self.config.models.mapping, self.registry.accounts).route(requested)

    # -- calls ----------------------------------------------------------------------------------

    async def stream(self, hub: HubRequest, exchange: Exchange) -> Reply:
        """The reply once its first real chunk is in; ProxyError (429/503/4xx) when no account can give one."""
        held = HeldFailures()
        try:
            return await self._stream(hub, exchange, held, owns_held=True)
        except BaseException:
            self.record_held(held)
            raise

    async def _stream(self, hub: HubRequest, exchange: Exchange, held: HeldFailures, *, owns_held: bool) -> Reply:
        route = self.route(hub.model)
        exchange.upstream_model = route.model
        restored = self.signatures.restore(hub.request, route.model, verify=hub.verify_signatures)
        # Signatures not sent can leave a Claude tool turn without its opening thinking: thinking off then.
        request = dict(fit_thinking_to_history(restored, route.model))
        session_id = hub.session_key or f"-{uuid.uuid4().int % 10**18}"

        async def attempt(account: Account, token: str, project: str) -> Reply:
            payload = envelope(project, route.model, request, session_id)
            stream = await self.client.open_stream(payload, token)
            chunks = stream.chunks()
            try:
                async for chunk in chunks:
                    if is_real_chunk(chunk):
                        self.signatures.observe(chunk, hub.session_key, route.model)
                        if "usageMetadata" in chunk:
                            exchange.usage = chunk["usageMetadata"]
                        return Reply(
                            self, chunk, chunks, stream, account, route, hub, exchange, held, owns_held=owns_held
                        )
            except BaseException:
                stream.aclose()
                raise
            raise generation_failure("Google ended the stream without sending anything", 503)

        def repair() -> None:
            request.update(fit_thinking_to_history(repair_signatures(request, route.model), route.model))

        return await self._with_accounts(route, hub, exchange, attempt, repair, held)

    async def complete(self, hub: HubRequest, exchange: Exchange) -> tuple[dict[str, Any], dict[str, str]]:
        """One merged reply (non-streaming clients), with the headers to send. Nothing has reached the
        client yet when a stream breaks here, so a broken stream is simply tried again, on another account."""
        broken: StreamBroken | None = None
        held = HeldFailures()  # shared by both tries: the second one skips the account that broke off
        try:
            for _ in range(2):
                reply = await self._stream(hub, exchange, held, owns_held=False)
                try:
                    chunks = [chunk async for chunk in reply.chunks()]
                except StreamBroken as exc:
                    broken = exc
                    continue
                finally:
                    reply.close()
                return merge_chunks(chunks), reply.headers
        finally:
            self.record_held(held)
        assert broken is not None
        broken.extra_headers = proxied_headers(None, exchange.upstream_model or hub.model)
        raise broken

    async def count_tokens(self, hub: HubRequest, exchange: Exchange) -> tuple[dict[str, Any], dict[str, str]]:
        route = self.route(hub.model)
        exchange.upstream_model = route.model
        payload = count_tokens_body(hub.request)
        answered: list[Account] = []

        async def attempt(account: Account, token: str, project: str) -> dict[str, Any]:
            reply = await self.client.count_tokens(payload, token)
            answered.append(account)
            return reply

        held = HeldFailures()
        try:
            reply = await self._with_accounts(route, hub, exchange, attempt, lambda: None, held)
        finally:
            self.record_held(held)
        return reply, proxied_headers(answered[-1] if answered else None, route.model)

    # -- the retry / rotation loop --------------------------------------------------------------

    async def _with_accounts(
        self,
        route: Route,
        hub: HubRequest,
        exchange: Exchange,
        attempt: Callable[[Account, str, str], Awaitable[_T]],
        repair: Callable[[], None],
        held: HeldFailures,
    ) -> _T:
        self.inflight.enter()
        try:
            return await self._rotate(route, hub, exchange, attempt, repair, held)
        except ProxyError as exc:
            if not exc.extra_headers:
                exc.extra_headers = {"X-Mapped-Model": route.model}
                if exchange.account:
                    exc.extra_headers["X-Account"] = exchange.account
            raise
        finally:
            self.inflight.leave()

    async def _rotate(
        self,
        route: Route,
        hub: HubRequest,
        exchange: Exchange,
        attempt: Callable[[Account, str, str], Awaitable[_T]],
        repair: Callable[[], None],
        held: HeldFailures,
    ) -> _T:
        model = route.model
        tried = held.tried
        last: Failure | None = None
        waited = 0.0
        while True:
            accounts = self.registry.accounts
            decision = self.pool.pick(accounts, model, hub.session_key, exclude=tried)
            if isinstance(decision, Wait) and waited + decision.seconds <= MAX_WAIT_S:
                await self._sleep(max(decision.seconds, 0.01))
                waited += max(decision.seconds, 0.01)
                continue
            if isinstance(decision, Wait | NoneAvailable):
                self.record_held(held)  # the request ends here: its failures count now (and in the answer)
                raise self._exhausted(decision, last, model)
            account = decision.account
            tried.add(account.id)
            exchange.account = mask_email(account.email)
            result = await self._on_account(account, model, exchange, attempt, repair, held)
            if not isinstance(result, Failure):
                return result
            if held.same_elsewhere(account, result):
                held.drop()
                raise UpstreamFailed(follows_the_request(result, part_way=False))
            last = result
            if len(tried) >= self.pool.max_attempts(accounts):
                self.record_held(held)
                raise self._exhausted(None, last, model)

    async def _on_account(
        self,
        account: Account,
        model: str,
        exchange: Exchange,
        attempt: Callable[[Account, str, str], Awaitable[_T]],
        repair: Callable[[], None],
        held: HeldFailures,
    ) -> _T | Failure:
        """Use one account, retrying it where the failure says so; the result or the failure that ends it."""
        retries_here = 0
        while True:
            try:
                token = await self.registry.tokens.access_token(account)
                project = account.project_id
                if project is None:
                    project = await self._resolve_project(account, token)
                    account = replace(account, project_id=project)
                exchange.attempts += 1
                result = await attempt(account, token, project)
            except TokenRevoked as exc:
                failure = sign_in_lost(str(exc))
                self.note_failure(account, model, failure, exchange, disabled_already=True)
                return failure
            except GoogleError as exc:
                status, body, headers = failure_parts(exc)
                failure = self.pool.classify(
                    account,
                    model,
                    status,
                    body,
                    headers,
                    retries_here=retries_here,
                    held_failures=held.count(account.id),
                )
                self.note_failure(account, model, failure, exchange, held=held)
                if held.same_elsewhere(account, failure):
                    return failure  # no retry here either: it follows the request
                if failure.disable:
                    await self._disable(account, failure)
            else:
                held.forget(account.id)
                self.pool.record_success(account, model)
                self.record_held(held, part_way=False)  # it works here: the failures before were those accounts' own
                return result
            retries_here += 1
            step = failure.step
            if step == "retry_same":
                await self._sleep(failure.retry_in_s)
            elif step == "refresh_then_retry":
                await asyncio.to_thread(self.registry.tokens.invalidate, account.id)
            elif step == "repair_signature_then_retry":
                repair()
            elif step == "resolve_project_then_retry":
                account = replace(account, project_id=None)
            elif step == "return_to_client":
                raise UpstreamRejected(failure.message, failure.status or 400)
            else:
                return failure

    def note_failure(
        self,
        account: Account,
        model: str,
        failure: Failure,
        exchange: Exchange,
        *,
        disabled_already: bool = False,
        held: HeldFailures | None = None,
        part_way: bool = False,
    ) -> None:
        if held is not None and held.holds(failure):
            held.hold(account, model, failure, part_way=part_way)
        else:
            self.pool.record_failure(account, model, failure)
        exchange.upstream_failures.append(failure.kind)
        log.info("%s on %s: %s (%s)", model, mask_email(account.email), redact(failure.message), failure.step)
        if disabled_already:
            # TokenKeeper wrote the disabled state; the registry sees it on its next look.
            self.registry.schedule_reload()

    def record_held(self, held: HeldFailures, *, part_way: bool = True) -> None:
        """The held failures go to the pool now: the request went on elsewhere or ended another way."""
        for entry in held.release(part_way=part_way):
            self.pool.record_failure(entry.account, entry.model, entry.failure)

    async def _resolve_project(self, account: Account, token: str) -> str:
        cloud = self.registry.cloud
        info = await resolve_project(cloud, token)
        store = self.registry.store
        await asyncio.to_thread(
            store.modify,
            account.id,
            lambda a: replace(a, project_id=info.project_id, tier=info.tier, tier_name=info.tier_name),
        )
        self.registry.schedule_reload()
        return info.project_id

    async def _disable(self, account: Account, failure: Failure) -> None:
        """An account that needs the user (verification, a new sign-in) is disabled on disk, with the reason."""

        def change(current: Account) -> Account:
            url = failure.validation_url or current.validation_url
            return replace(current, enabled=False, disabled_reason=failure.message, validation_url=url)

        try:
            await asyncio.to_thread(self.registry.store.modify, account.id, change)
        except Exception:  # the pool keeps it out anyway; the file problem shows in the registry's error
            log.exception("could not record that %s is disabled", mask_email(account.email))
        log.warning("%s disabled: %s", mask_email(account.email), redact(failure.message))
        await self.registry.reload()

    def _exhausted(self, decision: Wait | NoneAvailable | None, last: Failure | None, model: str) -> ProxyError:
        now = self.pool.now()
        cooldowns = [self.pool.cooldown_of(a.id, model) for a in self.registry.accounts if a.enabled]
        return exhaustion_error(decision, last, model, cooldowns, now)
