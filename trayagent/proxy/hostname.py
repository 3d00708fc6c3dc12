"""The Host header, parsed strictly (RFC 9110 §7.2, RFC 3986 §3.2.2): a name and an optional numeric port.

Anything else is malformed, never "probably fine": `[::1].evil.example`, `127.0.0.1:8045.evil.example`,
`127.0.0.1:8045@evil.example` and `localhost:evil.example` carry a loopback-looking prefix that a loose split
would have taken for the name, which is what DNS rebinding relies on.
"""

from __future__ import annotations

import ipaddress
import re

from trayagent.frozen import frozen

# reg-name: unreserved / pct-encoded / sub-delims (RFC 3986 §3.2.2); `:`, `@`, `[`, `]`, `/` are not in it.
_REG_NAME = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=%]+")
_PORT = re.compile(r"[0-9]{1,5}")
MAX_HOST_CHARS = 255 + 1 + 5  # a DNS name, ':' and a port


@frozen  # made for every request: see trayagent/frozen.py
class Host:
    name: str  # lower case; an IPv6 literal without its brackets
    port: int | None
    ipv6: bool = False


def parse_host(value: str) -> Host | None:
    """`name[:port]` or `[ipv6][:port]`; None when the value is anything else (empty, junk, a second `:`)."""
    if not value or len(value) > MAX_HOST_CHARS or not value.isascii():
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        literal, rest = value[1:end], value[end + 1 :]
        try:
            ipaddress.IPv6Address(literal.split("%25", 1)[0])  # RFC 6874 zone: `%25` then the zone id
        except ValueError:
            return None
        port = _port(rest)
        return None if port is False else Host(literal.lower(), port, ipv6=True)
    name, colon, port_text = value.partition(":")
    if not _REG_NAME.fullmatch(name):
        return None
    port = _port(colon + port_text)
    return None if port is False else Host(name.lower(), port)


def _port(rest: str) -> int | None | bool:
    """`""` → None (no port), `":8045"` → 8045; False for anything else (`:`, `:x`, `:99999`, `.evil`)."""
    if not rest:
        return None
    if rest[0] != ":" or not _PORT.fullmatch(rest[1:]):
        return False
    port = int(rest[1:])
    return port if port <= 65535 else False


def is_loopback_name(host: Host) -> bool:
    """`localhost`, a `*.localhost` name (RFC 6761 keeps them on this machine), or a loopback IP literal."""
    name = host.name.rstrip(".") if not host.ipv6 else host.name
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return address.is_loopback or (mapped is not None and mapped.is_loopback)
