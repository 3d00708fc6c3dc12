"""Access control, pure: which requests need the API key, where a key may be sent, and the comparison.

A key may come as `Authorization: Bearer KEY`, `Authorization: KEY`, `x-api-key: KEY`,
`x-goog-api-key: KEY`, or `?key=KEY` on /v1beta paths (as the Gemini SDK sends it). Every presented
candidate is compared in constant time; any match admits the request.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections.abc import Iterable

from trayagent.config import EffectiveAuthMode
from trayagent.errors import AuthError, Forbidden
from trayagent.proxy.surface import PathClass

HOW_TO_SEND = (
    "send it as 'Authorization: Bearer <key>', 'x-api-key: <key>' or 'x-goog-api-key: <key>' "
    "(see it with `trayagent key show`)"
)


def key_required(path_class: PathClass, mode: EffectiveAuthMode, peer_is_loopback: bool) -> bool:
    if mode == "strict":
        return True
    if path_class == "admin":
        # The status API and UI can start sign-ins and show accounts: never open to the network.
        return not (mode == "off" and peer_is_loopback)
    if mode == "all_except_health":
        return path_class != "health"
    return False


def presented_keys(
    authorization: str | None, x_api_key: str | None, x_goog_api_key: str | None, query_key: str | None
) -> list[str]:
    keys = []
    if authorization:
        scheme, _, rest = authorization.strip().partition(" ")
        keys.append(rest.strip() if scheme.lower() == "bearer" and rest else authorization.strip())
    for value in (x_api_key, x_goog_api_key, query_key):
        if value:
            keys.append(value.strip())
    return keys


def key_matches(candidates: Iterable[str], expected: str) -> bool:
    want = expected.encode()
    matched = False
    for candidate in candidates:
        # No early exit: the time taken does not depend on which candidate matched.
        matched |= hmac.compare_digest(candidate.encode(), want)
    return matched


def check_key(candidates: list[str], expected: str) -> None:
    """Raise AuthError saying whether the key was missing or wrong."""
    if not candidates:
        raise AuthError(f"this trayagent proxy needs its API key: {HOW_TO_SEND}")
    if not key_matches(candidates, expected):
        raise AuthError(f"the API key is not valid for this trayagent proxy; {HOW_TO_SEND}")


@functools.lru_cache(maxsize=256)  # asked twice per request (Host check, key policy) about a few peers
def is_loopback(address: str | None) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def check_host(host_header: str | None, lan_access: bool) -> None:
    """Refuse foreign Host names while bound to loopback (defeats DNS rebinding from web pages)."""
    if lan_access or not host_header:
        return
    host = host_header.strip().lower()
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost" or name.endswith(".localhost") or is_loopback(name):
        return
    raise Forbidden(
        f"Host '{host_header}' is not a loopback name; with proxy.allow_lan_access off trayagent only "
        "answers http://127.0.0.1 or http://localhost"
    )
