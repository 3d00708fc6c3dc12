"""The proxy served in-process for tests: `create_app(...)` on a loopback socket, its own event loop in a thread.

Protocol, SDK and front-end tests use this instead of a `trayagent serve` process: it starts in a fraction of the
time, and a test can plug in AI route rows (`ai_routes=`). Processes stay the subject only where they are the
subject (supervision, reload, signals, the CLI, the GUI).
"""

from __future__ import annotations

import asyncio
import json
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
    """A proxy with the fake Google behind it (or none: the default upstream, never reached without accounts);
    `add_account` signs an account in through the registry. `with InProcessProxy(...) as proxy:` starts and stops it."""

    def __init__(
        self,
        home: Path,
        google: FakeGoogle | None,
        *,
        key: str | None,
        extra_yaml: str = "",
        ai_routes: Iterable[AiRoute] = (),
        auth_mode: str | None = "strict",
        proxy_yaml: str = "",
    ) -> None:
        """`key` and `auth_mode` go into the `proxy:` section (None: left out, so the defaults apply and a key is
        made in the secret store, as `trayagent serve` does), `proxy_yaml` adds more lines of it (indented),
        `extra_yaml` follows. The config is written to `home/config.yaml` too, so CLI commands run with
        `isolated_env(home)` see the same config and data directory as this proxy."""
        self.home = home
        self.google = google
        self.key = key
        self.port = free_port()
        data_dir = home / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        settings = {"port": self.port, "auth_mode": auth_mode, "api_key": key}
        lines = [f"  {name}: {json.dumps(value)}\n" for name, value in settings.items() if value is not None]
        section = "proxy:\n" + "".join(lines) + proxy_yaml
        text = google.config_yaml(extra=section + extra_yaml) if google is not None else section + extra_yaml
        self.config_file = home / "config.yaml"
        self.config_file.write_text(text)
        config = parse_config_text(text, self.config_file)
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

    def __enter__(self) -> InProcessProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving (the app's stop listeners run: accounts closed, monitor flushed); a second call does nothing."""
        if not self._thread.is_alive():
            return
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
        google = self.google
        assert google is not None, "a proxy without a fake Google has no accounts to sign in"
        if email not in google.accounts:
            google.add_account(email, **fake)
        token = google.issue_refresh_token(email)

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
        """A request with this proxy's key in `x-api-key` (when it has one); `http(proxy.port, …)` sends none."""
        key = {"x-api-key": self.key} if self.key is not None else {}
        return http(self.port, method, path, body=body, headers={**key, **(headers or {})}, timeout=timeout)

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
