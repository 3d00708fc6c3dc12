"""The accounts part of the status API: list, add by refresh token or by Google sign-in, refresh, remove.

Every change goes through `AccountService` (the same code as `trayagent accounts …`) and ends with a
registry reload, so the pool serves the change at once. Tokens never appear in a reply.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from typing import Any

from sanic.response import HTTPResponse

from trayagent.accounts.login import LOGIN_TIMEOUT_S
from trayagent.accounts.record import Account, same_email
from trayagent.accounts.registry import AccountRegistry
from trayagent.accounts.service import AccountService, Outcome
from trayagent.agent.opener import can_open_browser
from trayagent.errors import AccountError, BadRequest, GoogleError, NoAccountAvailable, ProxyError, RouteNotFound
from trayagent.proxy.accountview import account_view
from trayagent.proxy.body import parse_json_object
from trayagent.proxy.context import ProxyApp, ProxyContext, ProxyRequest
from trayagent.proxy.logins import Logins
from trayagent.proxy.replies import json_reply

MAX_LOGIN_TIMEOUT_S = 1800.0


async def list_accounts(request: ProxyRequest) -> HTTPResponse:
    return json_reply(_accounts_reply(request.app.ctx))


async def add_account(request: ProxyRequest) -> HTTPResponse:
    ctx = request.app.ctx
    body = _json_body(request)
    token = body.get("refresh_token")
    if not isinstance(token, str) or not token.strip():
        raise BadRequest('expected {"refresh_token": "1//…"}: the refresh token of a Google account')
    registry, service = _running(ctx)
    try:
        outcome = await service.add_refresh_token(token)
    except GoogleError as exc:
        raise _google_failure(exc) from None
    except AccountError as exc:
        raise BadRequest(str(exc)) from None
    await registry.reload()
    return json_reply({"account": _view(ctx, outcome.account), "problem": outcome.problem, "created": outcome.created})


async def remove_account(request: ProxyRequest, email: str) -> HTTPResponse:
    ctx = request.app.ctx
    email = urllib.parse.unquote(email)
    registry, service = _running(ctx)
    removed = await asyncio.to_thread(service.remove, email)
    if removed is None:
        raise RouteNotFound(f"there is no account {email}")
    await registry.reload()
    return json_reply({"removed": removed.email})


async def refresh_accounts(request: ProxyRequest) -> HTTPResponse:
    """Ask Google again for the quota and status of one account (`{"email"}`) or of every enabled one."""
    ctx = request.app.ctx
    body = _json_body(request, optional=True)
    email = body.get("email")
    registry, _ = _running(ctx)
    if email is None:
        await registry.refresh_quota()
    elif not isinstance(email, str):
        raise BadRequest("email must be a string")
    else:
        account = next((a for a in registry.accounts if same_email(a.email, email)), None)
        if account is None:
            raise RouteNotFound(f"there is no account {email}")
        # Named explicitly, even a disabled account is checked: that is how a verified one comes back.
        await registry.refresh_quota((account,))
    return json_reply(_accounts_reply(ctx))


async def start_login(request: ProxyRequest) -> HTTPResponse:
    ctx = request.app.ctx
    body = _json_body(request, optional=True)
    browse = body.get("open_browser", True)
    timeout = body.get("timeout", LOGIN_TIMEOUT_S)
    if not isinstance(browse, bool):
        raise BadRequest("open_browser must be true or false")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 1 <= timeout <= MAX_LOGIN_TIMEOUT_S:
        raise BadRequest(f"timeout must be a number of seconds from 1 to {MAX_LOGIN_TIMEOUT_S:g}")
    registry, service = _running(ctx)

    async def added(outcome: Outcome) -> dict[str, Any]:
        await registry.reload()
        return _view(ctx, outcome.account)

    job = await _logins(ctx).start(service, added, timeout=float(timeout), browse=browse and can_open_browser())
    return json_reply(job.view())


async def login_state(request: ProxyRequest, login_id: str) -> HTTPResponse:
    job = _logins(request.app.ctx).get(login_id)
    if job is None:
        raise RouteNotFound(f"there is no sign-in {login_id} (finished ones are forgotten after a while)")
    return json_reply(job.view())


async def cancel_login(request: ProxyRequest, login_id: str) -> HTTPResponse:
    logins = _logins(request.app.ctx)
    job = logins.cancel(login_id)
    if job is None:
        raise RouteNotFound(f"there is no sign-in {login_id}")
    await logins.wait(login_id)
    return json_reply(job.view())


# -- helpers ------------------------------------------------------------------------------------------


def _accounts_reply(ctx: ProxyContext) -> dict[str, Any]:
    registry = ctx.registry
    if registry is None:
        return {"accounts": [], "error": None}
    return {"accounts": [_view(ctx, account) for account in registry.accounts], "error": registry.error}


def _view(ctx: ProxyContext, account: Account) -> dict[str, Any]:
    pool = ctx.pool
    return account_view(
        account, cooldowns=pool.state.active_cooldowns(time.time()), last_used=pool.state.last_used(account.id)
    )


def _running(ctx: ProxyContext) -> tuple[AccountRegistry, AccountService]:
    registry = ctx.registry
    service = registry.service if registry is not None else None
    if registry is None or service is None:
        raise NoAccountAvailable("the account registry is not running in this proxy")
    return registry, service


def _logins(ctx: ProxyContext) -> Logins:
    if ctx.logins is None:
        raise NoAccountAvailable("sign-in is not available in this proxy")
    return ctx.logins


def _json_body(request: ProxyRequest, *, optional: bool = False) -> dict[str, Any]:
    return parse_json_object(request.body or b"", optional=optional)


def _google_failure(exc: GoogleError) -> ProxyError:
    """Google could not be asked (down, slow): not the token's fault, so not a 400."""
    if not exc.transient:
        return BadRequest(str(exc))
    error = ProxyError(f"Google did not answer as expected, try again: {exc}")
    error.status_code = 502
    return error


def register(app: ProxyApp) -> None:
    app.add_route(list_accounts, "/api/accounts", methods=["GET"], name="api_accounts")
    app.add_route(add_account, "/api/accounts", methods=["POST"], name="api_accounts_add")
    app.add_route(refresh_accounts, "/api/accounts/refresh", methods=["POST"], name="api_accounts_refresh")
    app.add_route(start_login, "/api/accounts/login", methods=["POST"], name="api_login_start")
    app.add_route(login_state, "/api/accounts/login/<login_id>", methods=["GET"], name="api_login_state")
    app.add_route(cancel_login, "/api/accounts/login/<login_id>", methods=["DELETE"], name="api_login_cancel")
    app.add_route(remove_account, "/api/accounts/<email>", methods=["DELETE"], name="api_accounts_remove")
