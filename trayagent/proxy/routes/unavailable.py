"""What AI routes answer while the account pool is empty: a 503 in the client's shape that says how to fix it.

Bodies are still read and validated first: a malformed request is the client's to fix whatever the
pool holds, and it must never cost the client a confusing 503.
"""

from __future__ import annotations

from typing import NoReturn

from trayagent.errors import NoAccountAvailable
from trayagent.proxy.body import read_json_object
from trayagent.proxy.context import ProxyRequest

NO_ACCOUNT_MESSAGE = (
    "no Google account yet: run `trayagent accounts login` to sign one in "
    "(or `trayagent accounts add --refresh-token TOKEN`), then retry"
)


def no_account() -> NoAccountAvailable:
    return NoAccountAvailable(NO_ACCOUNT_MESSAGE)


async def post_without_account(request: ProxyRequest, **_: str) -> NoReturn:
    await read_json_object(request, request.app.ctx.config.proxy.max_body_bytes)
    raise no_account()


async def get_without_account(request: ProxyRequest, **_: str) -> NoReturn:
    raise no_account()
