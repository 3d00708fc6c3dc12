"""The proxy served in-process for tests: `create_app(...)` on a loopback socket, its own event loop in a thread.

Protocol, SDK and front-end tests use this instead of a `trayagent serve` process: it starts in a fraction of the
time, and a test can plug in AI route rows (`ai_routes=`). Processes stay the subject only where they are the
subject (supervision, reload, signals, the CLI, the GUI).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar

from sanic import Sanic

from tests.fakes.google import FakeGoogle
from tests.serverproc import Reply, free_port, http
from trayagent.apikey import resolve_api_key
from trayagent.config import parse_config_text
from trayagent.proxy.app import create_app
from trayagent.proxy.context import ProxyApp, ProxyContext, Runtime
from trayagent.proxy.routetable import AI_ROUTES, AiRoute
from trayagent.secrets import FileSecretStore

_T = TypeVar("_T")
Sanic.test_mode = True  # many apps in one test process: Sanic must not refuse a second one


class InProcessProxy:
    """A started proxy with the fake Google behind it; `add_account` signs an account in through the registry."""

    def __init__(
        self,
        home: Path,
        google: FakeGoogle,
        *,
        key: str,
        extra_yaml: str = "",
        ai_routes: Iterable[AiRoute] = (),
        auth_mode: str = "strict",
        proxy_yaml: str = "",
    ) -> None:
        """`auth_mode` and `proxy_yaml` (more lines of the `proxy:` section, indented) shape who may call."""
        self.home = home
        self.google = google
        self.key = key
        self.port = free_port()
        data_dir = home / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        proxy = f"proxy:\n  port: {self.port}\n  auth_mode: {auth_mode}\n  api_key: {key}\n{proxy_yaml}"
        config = parse_config_text(google.config_yaml(extra=proxy + extra_yaml))
        secrets = FileSecretStore(data_dir / "secrets.json")
        self.ctx = ProxyContext(Runtime(config, resolve_api_key(config, secrets)), secrets=secrets, data_dir=data_dir)
        self.app: ProxyApp = create_app(self.ctx, ai_routes=(*AI_ROUTES, *ai_routes))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="inprocess-proxy", daemon=True)
        self._server: Any = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> InProcessProxy:
        self._thread.start()
        self.run(self._start())
        return self

    def stop(self) -> None:
        try:
            self.run(self._stop(), timeout=20)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def run(self, coro: Coroutine[Any, Any, _T], timeout: float = 30) -> _T:
        """Run a coroutine on the proxy's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def add_account(self, email: str, **fake: Any) -> None:
        """Create the account at the fake Google (`fake`: its FakeAccount fields) and sign it in here."""
        if email not in self.google.accounts:
            self.google.add_account(email, **fake)
        token = self.google.issue_refresh_token(email)

        async def add() -> None:
            registry = self.ctx.registry
            assert registry is not None and registry.service is not None
            outcome = await registry.service.add_refresh_token(token)
            assert outcome.account.email == email, outcome
            await registry.reload()

        self.run(add())

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> Reply:
        return http(
            self.port, method, path, body=body, headers={"x-api-key": self.key, **(headers or {})}, timeout=timeout
        )

    async def _start(self) -> None:
        self._server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        assert self._server is not None
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        self._serving = asyncio.ensure_future(self._server.serve_forever())

    async def _stop(self) -> None:
        server = self._server
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
        self._serving.cancel()
