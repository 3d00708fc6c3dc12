"""Access control, pure: which requests need the API key, where a key may be sent, and the comparison.

A key may come as `Authorization: Bearer KEY`, `Authorization: KEY`, `x-api-key: KEY`,
`x-goog-api-key: KEY`, or `?key=KEY` on /v1beta paths (as the Gemini SDK sends it). Every presented
candidate is compared in constant time; any match admits the request.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
from collections.abc import Iterable, Sequence

from trayagent.config import EffectiveAuthMode
from trayagent.errors import AuthError, BadRequest, Forbidden
from trayagent.proxy.hostname import is_loopback_name, parse_host
from trayagent.proxy.surface import PathClass

log = logging.getLogger(__name__)

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
        matched |= hmac.compare_digest(_wire_bytes(candidate), want)
    return matched


def _wire_bytes(candidate: str) -> bytes:
    """The bytes the client sent. Headers are decoded as UTF-8 with surrogateescape, so a byte that is not UTF-8
    (`Bearer \\xff\\xfe`) is a lone surrogate here: it goes back to its byte, and simply does not match."""
    try:
        return candidate.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no header decoding makes (e.g. from a %-decoded query)
        return b"\xff"  # not UTF-8: equal to no key


def _unreadable(candidates: Iterable[str]) -> bool:
    """Whether a presented key holds bytes that are not UTF-8 (so no key could match it)."""
    return any(
        "\ud800" <= char <= "\udfff" for candidate in candidates if not candidate.isascii() for char in candidate
    )


_UNREADABLE_PEERS: set[str] = set()  # peers already told about in the log (bounded below)


def check_key(candidates: list[str], expected: str, peer: str | None = None) -> None:
    """Raise AuthError saying whether the key was missing or wrong. A key that is not even text is said so, and
    logged once per peer at most: a client cannot flood the log with it."""
    if not candidates:
        raise AuthError(f"this trayagent proxy needs its API key: {HOW_TO_SEND}")
    if key_matches(candidates, expected):
        return
    if _unreadable(candidates):
        if peer is not None and peer not in _UNREADABLE_PEERS and len(_UNREADABLE_PEERS) < 1024:
            _UNREADABLE_PEERS.add(peer)
            log.warning("a client at %s sent an API key header holding bytes that are not UTF-8 text", peer)
        raise AuthError(f"the API key sent holds bytes that are not UTF-8 text, so it is not valid; {HOW_TO_SEND}")
    raise AuthError(f"the API key is not valid for this trayagent proxy; {HOW_TO_SEND}")


@functools.lru_cache(maxsize=256)  # asked twice per request (Host check, key policy) about a few peers
def is_loopback(address: str | None) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def check_host(hosts: Sequence[str], lan_access: bool) -> None:
    """Exactly one well-formed Host header (400 otherwise, whatever the mode); while bound to loopback it must
    name this machine (403 otherwise: defeats DNS rebinding from web pages)."""
    if len(hosts) != 1:
        raise BadRequest(
            f"the request carries {len(hosts)} Host headers; HTTP/1.1 requires exactly one (RFC 9110 §7.2)"
        )
    host = parse_host(hosts[0].strip())
    if host is None:
        shown = repr(hosts[0][:100])  # repr: a byte that is not UTF-8 arrives as a surrogate, shown escaped
        raise BadRequest(f"the Host header {shown} is not a host name with an optional numeric port")
    if lan_access or is_loopback_name(host):
        return
    raise Forbidden(
        f"Host '{hosts[0]}' is not a loopback name; with proxy.allow_lan_access off trayagent only "
        "answers http://127.0.0.1 or http://localhost"
    )
