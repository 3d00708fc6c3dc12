"""A signed-in link to the status page: the API key buys a one-time ticket over loopback; only the ticket is in the URL.

`POST /api/ui-session` (with the key in a header) answers a ticket valid 60 s for one use;
`/ui/login?ticket=…&next=/ui/…` trades it for the page's HttpOnly cookie. So a link that leaks (history,
logs, a process list) is worth nothing a minute later, and the key itself never appears in one.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlencode

STATUS_PATH = "/ui/"
ADD_ACCOUNT_PATH = "/ui/#add"
TICKET_TIMEOUT_S = 5.0


class TicketUnavailable(Exception):
    """The proxy gave no ticket (refused the key, not answering, an older proxy); the message says why."""


@dataclass(frozen=True, slots=True)
class ProxyEndpoint:
    """Where the running proxy answers on this machine, and the key that opens its admin surface."""

    port: int
    api_key: str | None = field(default=None, repr=False)  # None: unreadable; the page then asks for it
    host: str = "127.0.0.1"

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"


def check_page_path(path: str) -> str:
    """A path on the status page (`/ui/…`), the only kind `/ui/login` redirects to."""
    if not path.startswith("/ui/") or path.startswith("//") or "\\" in path:
        raise ValueError(f"not a status page path: {path!r}")
    return path


def sign_in_url(origin: str, ticket: str, path: str = STATUS_PATH) -> str:
    """The link that trades `ticket` for the session cookie and lands on `path`."""
    return f"{origin}/ui/login?{urlencode({'ticket': ticket, 'next': check_page_path(path)})}"


def request_ticket(endpoint: ProxyEndpoint, timeout: float = TICKET_TIMEOUT_S) -> str:
    """A fresh one-time ticket from the proxy (blocking: call it off the GUI thread)."""
    if not endpoint.api_key:
        raise TicketUnavailable("the API key could not be read")
    request = urllib.request.Request(
        f"{endpoint.origin}/api/ui-session",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Bearer {endpoint.api_key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            ticket = json.loads(reply.read()).get("ticket")
    except urllib.error.HTTPError as exc:
        raise TicketUnavailable(f"the proxy answered {exc.code} to /api/ui-session") from None
    except (OSError, ValueError, AttributeError) as exc:
        raise TicketUnavailable(f"no answer from the proxy on {endpoint.origin}: {exc}") from None
    if not isinstance(ticket, str) or not ticket:
        raise TicketUnavailable("the proxy's answer to /api/ui-session had no ticket")
    return ticket
