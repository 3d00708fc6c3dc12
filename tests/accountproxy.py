"""A proxy signed in to fake Google accounts: strict auth with a known key, ready to answer.

Modules that talk to the proxy the way a client does (the google-genai SDK, the real client CLIs) share one
such server per module, in-process (tests/inprocess.py); `signed_in_proxy` starts it, signs the accounts in and
waits until the pool has them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy
from tests.polling import eventually
from tests.serverproc import Reply, http


@dataclass
class SignedInProxy:
    google: FakeGoogle
    server: InProcessProxy
    port: int
    key: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, path: str, body: Any) -> Reply:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return http(self.port, "POST", path, body=data, headers={"x-goog-api-key": self.key})

    def envelope(self) -> dict[str, Any]:
        """The last body trayagent sent to streamGenerateContent."""
        body: dict[str, Any] = self.google.calls_to("streamGenerateContent")[-1].body
        return body

    def available(self) -> int:
        status = http(self.port, "GET", "/api/status", headers={"x-api-key": self.key}).json()
        return int(status["accounts"]["available"])


P = TypeVar("P", bound=SignedInProxy)


@contextmanager
def signed_in_proxy(
    home: Path,
    google: FakeGoogle,
    key: str,
    emails: Sequence[str],
    *,
    extra: str = "",
    kind: type[P] = SignedInProxy,  # type: ignore[assignment]
) -> Iterator[P]:
    """Serve with `key` (auth_mode strict) and `extra` config; each of `emails` (already added to the fake
    Google) signed in by refresh token. No emails: a proxy with an empty pool. Stopped at the end."""
    with InProcessProxy(home, google, key=key, extra_yaml=extra) as server:
        proxy = kind(google, server, server.port, key)
        for email in emails:
            server.add_account(email)
        assert eventually(lambda: proxy.available() == len(emails), timeout=10), proxy.available()
        yield proxy
