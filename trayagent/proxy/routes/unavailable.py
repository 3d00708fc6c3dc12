"""What AI routes answer while the account pool is empty: a 503 in the client's shape that says how to fix it.

Bodies are still read and validated first: a malformed request is the client's to fix whatever the
pool holds, and it must never cost the client a confusing 503.
"""

from __future__ import annotations

from typing import NoReturn

from trayagent.errors import NoAccountAvailable
from trayagent.proxy.body import read_json_object
from trayagent.proxy.context import ProxyContext, ProxyRequest
from trayagent.proxy.exhaustion import NO_ACCOUNT_MESSAGE


def no_account(ctx: ProxyContext) -> NoAccountAvailable:
    registry = ctx.accounts
    counts = registry.counts() if registry is not None else {"total": 0, "available": 0}
    if counts["total"] == 0:
        return NoAccountAvailable(NO_ACCOUNT_MESSAGE)
    if counts["available"] == 0:
        return NoAccountAvailable(
            f"all {counts['total']} Google account(s) are disabled or need verification: "
            "see `trayagent accounts list`, then sign in again or verify them"
        )
    return NoAccountAvailable(
        f"{counts['available']} Google account(s) are ready, but this version of trayagent "
        "does not forward this protocol to Google yet (Gemini-native /v1beta routes work)"
    )


async def post_without_account(request: ProxyRequest, **_: str) -> NoReturn:
    await read_json_object(request, request.app.ctx.config.proxy.max_body_bytes)
    raise no_account(request.app.ctx)
