"""The one aiohttp session a process uses for Google: pooled connections, timeouts, outbound proxy."""

from __future__ import annotations

from typing import Any

import aiohttp

from trayagent.config import UpstreamSettings
from trayagent.errors import ConfigError


def open_session(settings: UpstreamSettings) -> aiohttp.ClientSession:
    """Must be called on the event loop that will use it. Close it with `await session.close()`."""
    timeout = aiohttp.ClientTimeout(total=None, connect=settings.connect_timeout, sock_read=settings.read_timeout)
    connector: aiohttp.BaseConnector
    proxy = settings.http_proxy
    if proxy and proxy.startswith("socks"):
        connector = _socks_connector(proxy)
    else:
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, enable_cleanup_closed=True)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        trust_env=False,  # the outbound proxy is upstream.http_proxy, nothing else
        proxy=proxy if proxy and not proxy.startswith("socks") else None,
        auto_decompress=True,
    )


def _socks_connector(url: str) -> aiohttp.BaseConnector:
    try:
        from aiohttp_socks import ProxyConnector  # type: ignore[import-not-found]
    except ImportError:
        scheme = url.split("://")[0]
        problem = f"upstream.http_proxy: {scheme}:// proxies need the aiohttp-socks package (pip install aiohttp-socks)"
        raise ConfigError([problem]) from None
    connector: Any = ProxyConnector.from_url(url)
    return connector  # type: ignore[no-any-return]
