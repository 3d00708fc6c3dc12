"""A streamed reply from the dispatcher whose first real chunk is in, and the helpers it shares with it.

Its chunks end in `StreamBroken` when the upstream fails part-way or stops without a finish reason (cut short);
a transient failure is held (`heldfailures.py`) and, when it repeats on a second account, said to follow the
request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from trayagent.accounts.ratelimit import Failure
from trayagent.accounts.record import Account
from trayagent.errors import GoogleError, StreamBroken
from trayagent.proxy.exchange import Exchange
from trayagent.proxy.heldfailures import HeldFailures
from trayagent.redact import redact
from trayagent.translate.hub import HubRequest
from trayagent.translate.models import Route
from trayagent.upstream.generation import ChunkStream, ReplyEnd, is_real_chunk, unfinished_failure

if TYPE_CHECKING:
    from trayagent.proxy.dispatch import Dispatcher


class Reply:
    """A streamed reply whose first real chunk has arrived: response headers may go out now."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        first: dict[str, Any],
        rest: AsyncIterator[dict[str, Any]],
        stream: ChunkStream,
        account: Account,
        route: Route,
        hub: HubRequest,
        exchange: Exchange,
        held: HeldFailures,
        *,
        owns_held: bool,
    ) -> None:
        self._dispatcher = dispatcher
        self._first: dict[str, Any] | None = first
        self._rest = rest
        self._stream = stream
        self.account = account
        self.route = route
        self._hub = hub
        self._exchange = exchange
        self._held = held
        self._owns_held = owns_held  # False: `complete` records the held failures after its last try
        self._end = ReplyEnd()
        self._end.see(first)
        self.headers = proxied_headers(account, route.model)
        self._open = True
        dispatcher.inflight.enter()

    async def chunks(self) -> AsyncIterator[dict[str, Any]]:
        """Every real chunk, the first included. StreamBroken when the upstream fails part-way."""
        d, exchange, session_key = self._dispatcher, self._exchange, self._hub.session_key
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        try:
            async for chunk in self._rest:
                if not is_real_chunk(chunk):
                    continue
                self._end.see(chunk)
                d.signatures.observe(chunk, session_key, self.route.model)
                usage = chunk.get("usageMetadata")
                if usage is not None:
                    exchange.usage = usage
                yield chunk
            if not self._end.complete:
                raise unfinished_failure()
        except GoogleError as exc:
            account, model, held = self.account, self.route.model, self._held
            status, body, headers = failure_parts(exc)
            failure = d.pool.classify(
                account, model, status, body, headers, before_first_byte=False, held_failures=held.count(account.id)
            )
            d.note_failure(account, model, failure, exchange, held=held, part_way=True)
            if held.same_elsewhere(account, failure):
                held.drop()
                raise StreamBroken(follows_the_request(failure, part_way=True)) from None
            raise StreamBroken(f"the reply from Google broke off part-way: {failure.message}") from None

    def close(self) -> None:
        """Always call when done: frees the upstream connection (early if the client went away)."""
        self._stream.aclose()
        if self._open:
            self._open = False
            self._dispatcher.inflight.leave()
            if self._owns_held:
                self._dispatcher.record_held(self._held)


def proxied_headers(account: Account | None, model: str) -> dict[str, str]:
    headers = {"X-Mapped-Model": model}
    if account is not None:
        headers["X-Account"] = mask_email(account.email)
    return headers


def mask_email(email: str) -> str:
    return redact(email)


def follows_the_request(failure: Failure, *, part_way: bool) -> str:
    what = "broke off the reply to this request" if part_way else "failed this request"
    return redact(
        f"Google {what} the same way on two accounts, so it follows the request and no account was set aside "
        f"for it (retrying it unchanged will likely fail again): {failure.message}"
    )


def failure_parts(exc: GoogleError) -> tuple[int | None, Any, Mapping[str, str] | None]:
    body = exc.body
    if body is None:
        body = str(exc)
    elif not isinstance(body, bytes | str | dict):
        body = orjson.dumps(body)
    return exc.status, body, exc.headers
