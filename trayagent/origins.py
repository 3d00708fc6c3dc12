"""Web origins, pure: reading one the way browsers write it, and which ones count as this machine.

An origin is `scheme://host[:port]` with no path, as a browser sends it in the `Origin` header. The config's
`proxy.cors_origins` entries are normalised here the same way (lowercase, default port dropped), so a trusted
origin is compared with the header as one exact string.
"""

from __future__ import annotations

import ipaddress
import re

# Loopback names a page on this machine can have: any port, http or https.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def normalise_origin(text: str) -> str:
    """`text` as a browser would send it in `Origin`; ValueError saying what is wrong otherwise.

    A single trailing slash is tolerated (people copy origins from the address bar); a path, query, user name or
    wildcard is not, because the header never carries one."""
    value = text.strip()
    if value.lower() == "null":
        raise ValueError('"null" is the origin of sandboxed frames and local files: any page can have it')
    if value == "*":
        raise ValueError("* would let every web page use the proxy without its key; list the origins you trust")
    scheme, sep, rest = value.partition("://")
    scheme = scheme.lower()
    if not sep or not _SCHEME.match(scheme):
        raise ValueError("expected an origin like http://localhost:3000 or https://chat.example.com")
    if rest.endswith("/"):
        rest = rest[:-1]
    if not rest or any(c in rest for c in "/?#@\\*") or any(c.isspace() for c in rest):
        raise ValueError("expected only scheme://host[:port], with no path, query, user name or wildcard")
    host, port = _split_host_port(rest.lower())
    if port is not None and (not port.isdigit() or not 1 <= int(port) <= 65535):
        raise ValueError("the port must be a number 1-65535")
    if port is not None:
        port = str(int(port))
    if port == _DEFAULT_PORTS.get(scheme):
        port = None
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def _split_host_port(hostport: str) -> tuple[str, str | None]:
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise ValueError("an IPv6 address needs its closing ]")
        try:
            ipaddress.IPv6Address(hostport[1:end])
        except ValueError:
            raise ValueError(f"{hostport[: end + 1]} is not an IPv6 address") from None
        tail = hostport[end + 1 :]
        if tail and not tail.startswith(":"):
            raise ValueError("expected :port after the IPv6 address")
        return hostport[: end + 1], tail[1:] if tail else None
    host, sep, port = hostport.partition(":")
    if not _HOST_NAME.match(host):
        raise ValueError(f"{host!r} is not a host name")
    return host, port if sep else None


def is_loopback_origin(origin: str) -> bool:
    """A page served from this machine by name or loopback address: http(s)://127.0.0.1, localhost, [::1]."""
    scheme, sep, rest = origin.partition("://")
    if not sep or scheme not in _DEFAULT_PORTS:
        return False
    host = rest[: rest.index("]") + 1] if rest.startswith("[") and "]" in rest else rest.partition(":")[0]
    port = rest[len(host) :]
    return host in LOOPBACK_HOSTS and (port == "" or (port[:1] == ":" and port[1:].isdigit()))


def is_loopback_host(host_header: str | None) -> bool:
    """A `Host` header naming this machine (`localhost`, `*.localhost`, 127.x.x.x, [::1]), with any port."""
    if not host_header:
        return False
    value = host_header.strip().lower()
    if value.startswith("["):
        name, sep, tail = value[1:].partition("]")
        if not sep or (tail and not (tail[:1] == ":" and tail[1:].isdigit())):
            return False
    else:
        name, sep, port = value.partition(":")
        if sep and not port.isdigit():
            return False
    if name == "localhost" or name.endswith(".localhost"):
        return _HOST_NAME.match(name) is not None
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
