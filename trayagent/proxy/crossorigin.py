"""What a web page may do through the user's browser, pure: the status API's origin rule and CORS on the rest.

Browsers send any page's "simple" requests (a form post, `fetch` in `no-cors` mode) to any address without asking,
and attach `Origin` and `Sec-Fetch-Site` to say where they come from. So:

- The status API (`/api/*`, `/ui/*`, `/metrics`) answers only its own status page or a program: a request without
  the API key is refused with 403 when its `Origin` is another origin (or `null`), or when `Sec-Fetch-Site` says
  another site or origin sent it (a navigation to a `/ui/` page excepted: that only shows the page). A POST must
  declare `Content-Type: application/json` (415 otherwise), which no web page can send across origins without a
  preflight, and the status API never grants one. A request with the right key passes: no page can add one.
- Where no key is needed (the AI routes in `off`), a request from a page whose origin is not this machine's
  (http(s)://127.0.0.1, localhost, [::1], any port) or listed in `proxy.cors_origins` is refused with 403, so no
  web page can spend the quota; CORS headers admit only those origins. Where the key is needed, `*`: a page
  cannot know the key, and a browser app the user gave it may call from anywhere.
- Chrome's Private Network Access preflight (`Access-Control-Request-Private-Network: true`) is granted only to an
  origin the CORS policy admits, never on the status API.
"""

from __future__ import annotations

from collections.abc import Mapping

from trayagent.errors import Forbidden, UnsupportedMediaType
from trayagent.frozen import frozen
from trayagent.origins import is_loopback_host, is_loopback_origin
from trayagent.proxy.surface import PathClass

_EXPOSED = "Retry-After, X-Account, X-Mapped-Model"
_METHODS = "GET, POST, DELETE, OPTIONS"
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_OWN_SITE = frozenset({"same-origin", "none"})  # `none`: the user typed the address or used a bookmark
_NOT_A_PAGE = "only the proxy's own status page may call it from a browser, or a program that sends the API key"


@frozen  # made for every request: see trayagent/frozen.py
class BrowserSignals:
    """What a request says about the page that sent it (all None for a program)."""

    method: str
    path: str
    host: str | None
    origin: str | None
    fetch_site: str | None
    fetch_mode: str | None
    content_type: str | None

    @classmethod
    def of(cls, method: str, path: str, headers: Mapping[str, str]) -> BrowserSignals:
        return cls(
            method=method.upper(),
            path=path,
            host=headers.get("host"),
            origin=headers.get("origin"),
            fetch_site=headers.get("sec-fetch-site"),
            fetch_mode=headers.get("sec-fetch-mode"),
            content_type=headers.get("content-type"),
        )


@frozen  # made for every request: see trayagent/frozen.py
class Policy:
    """The settings the decisions depend on, read from the live config per request."""

    path_class: PathClass
    key_needed: bool  # this path, in this mode, from this peer
    cors: bool  # proxy.cors
    trusted: tuple[str, ...] = ()  # proxy.cors_origins, normalised
    lan_access: bool = False


def check_request(signals: BrowserSignals, policy: Policy, *, key_valid: bool) -> None:
    """Raise Forbidden or UnsupportedMediaType for what a web page must not do; a request with the key passes."""
    if key_valid:
        return
    if policy.path_class == "admin":
        _check_admin(signals)
        if not policy.key_needed and policy.lan_access and not is_loopback_host(signals.host):
            # Admitted without a key (auth_mode off, from this machine) while the Host check is off: only by a
            # loopback name, or a web page could reach it through DNS rebinding.
            raise Forbidden(
                f"Host '{_short(signals.host or '')}' is not a loopback name; without the API key the status API "
                "answers only http://127.0.0.1 or http://localhost"
            )
    elif policy.path_class == "ai" and not policy.key_needed and signals.origin is not None:
        if not origin_admitted(signals.origin, policy):
            raise Forbidden(
                f"web pages from {_short(signals.origin)} may not use this proxy without its API key; "
                "add that origin to proxy.cors_origins to trust it, or send the key"
            )


def _check_admin(signals: BrowserSignals) -> None:
    origin = signals.origin
    if origin is not None and origin.strip().lower() not in _own_origins(signals.host):
        where = "a sandboxed frame or a local file (Origin: null)" if origin.strip() == "null" else _short(origin)
        raise Forbidden(f"the status API does not answer web pages from {where}; {_NOT_A_PAGE}")
    site = signals.fetch_site
    if site is not None and site.strip().lower() not in _OWN_SITE and not _opens_page(signals):
        raise Forbidden(
            f"the status API does not answer requests other web pages make (Sec-Fetch-Site: {_short(site)}); "
            f"{_NOT_A_PAGE}"
        )
    if signals.method in _WITH_BODY and _media_type(signals.content_type) != "application/json":
        got = _short(signals.content_type) if signals.content_type else "no Content-Type"
        raise UnsupportedMediaType(
            f"{signals.method} {signals.path} takes a JSON body sent with 'Content-Type: application/json' "
            f"(got {got}; an empty body is fine)"
        )


def _own_origins(host: str | None) -> frozenset[str]:
    """The origins of pages this proxy served itself: the Host they were loaded from."""
    if not host:
        return frozenset()
    name = host.strip().lower()
    return frozenset({f"http://{name}", f"https://{name}"})


def _opens_page(signals: BrowserSignals) -> bool:
    """A navigation to a status page: shows it to the user, never its data to the page that linked it."""
    navigate = (signals.fetch_mode or "").strip().lower() == "navigate"
    page = signals.path == "/ui" or signals.path.startswith("/ui/")
    return navigate and page and signals.method in ("GET", "HEAD")


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def origin_admitted(origin: str, policy: Policy) -> bool:
    """May a page from `origin` use a path that needs no key?"""
    value = origin.strip().lower()
    return is_loopback_origin(value) or value in policy.trusted


def cors_headers(signals: BrowserSignals, policy: Policy) -> dict[str, str]:
    """The CORS headers of a reply (not a preflight)."""
    allowed = _allowed_origin(signals, policy)
    if allowed is None:
        return {"Vary": "Origin"} if _depends_on_origin(policy) else {}
    headers = {"Access-Control-Allow-Origin": allowed, "Access-Control-Expose-Headers": _EXPOSED}
    if allowed != "*":
        headers["Vary"] = "Origin"
    return headers


def preflight_headers(signals: BrowserSignals, policy: Policy, headers: Mapping[str, str]) -> dict[str, str]:
    """The answer to an OPTIONS request: `Allow` always; CORS grants only to an admitted origin, never on admin."""
    answer = {"Allow": _METHODS}
    allowed = _allowed_origin(signals, policy)
    if allowed is None:
        if _depends_on_origin(policy):
            answer["Vary"] = "Origin"
        return answer
    answer.update(
        {
            "Access-Control-Allow-Origin": allowed,
            "Access-Control-Allow-Methods": _METHODS,
            "Access-Control-Allow-Headers": headers.get("access-control-request-headers", "*"),
            "Access-Control-Max-Age": "3600",
        }
    )
    if allowed != "*":
        answer["Vary"] = "Origin"
    if (headers.get("access-control-request-private-network") or "").strip().lower() == "true":
        answer["Access-Control-Allow-Private-Network"] = "true"
    return answer


def _allowed_origin(signals: BrowserSignals, policy: Policy) -> str | None:
    """What `Access-Control-Allow-Origin` says, or None for no CORS grant."""
    if not policy.cors or policy.path_class == "admin":
        return None
    if policy.key_needed:
        return "*"
    origin = signals.origin
    if origin is None or not origin_admitted(origin, policy):
        return None
    return origin.strip()


def _depends_on_origin(policy: Policy) -> bool:
    return policy.cors and policy.path_class != "admin" and not policy.key_needed


def _short(text: str, limit: int = 100) -> str:
    """Header text quoted back in an error, cut so a huge header does not make a huge reply."""
    return text if len(text) <= limit else text[:limit] + "…"
