"""`trayagent` as a real child process for tests: run CLI commands, start and stop `serve`."""

from __future__ import annotations

import http.client as httpclient
import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.polling import eventually
from trayagent.compiled import PURE_VARIABLE

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def isolated_env(home: Path, keyring_backend: str = "keyring.backends.fail.Keyring") -> dict[str, str]:
    """An environment where trayagent sees only `home`: no real keyring, no display, no user dirs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAYAGENT_", "XDG_", "PYTHON_KEYRING"))}
    if PURE_VARIABLE in os.environ:  # a suite run on pure-Python front ends runs its servers that way too
        env[PURE_VARIABLE] = os.environ[PURE_VARIABLE]
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(
        TRAYAGENT_HOME=str(home),
        HOME=str(home / "user"),
        XDG_CONFIG_HOME=str(home / "user" / ".config"),
        XDG_DATA_HOME=str(home / "user" / ".local" / "share"),
        PYTHON_KEYRING_BACKEND=keyring_backend,
        TRAYAGENT_TEST_KEYRING_FILE=str(home / "fake-os-keyring.json"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    return env


def run_cli(
    env: dict[str, str], *args: str, input: str | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayagent", *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    host: str = "127.0.0.1",
    timeout: float = 10,
) -> Reply:
    conn = httpclient.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


class ServeProcess:
    """`python -m trayagent serve` with its own home, config and log file."""

    def __init__(self, home: Path, config_yaml: str | None, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.env = env or isolated_env(home)
        self.log_path = home / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None
        home.mkdir(parents=True, exist_ok=True)
        if config_yaml is not None:
            (home / "config.yaml").write_text(config_yaml)

    @property
    def port(self) -> int:
        import yaml

        cfg = yaml.safe_load((self.home / "config.yaml").read_text()) or {}
        return int((cfg.get("proxy") or {}).get("port", 8045))

    def start(self, wait: bool = True, timeout: float = 20) -> ServeProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "trayagent", "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 20) -> None:
        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"trayagent serve exited with {self.proc.returncode}:\n{self.output()}")
            # Ready once the start line is logged: the socket is bound and the app is serving.
            return "listening on" in self.output()

        if not eventually(ready, timeout, interval=0.03):
            raise TimeoutError(f"trayagent serve not ready after {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise
        return self.proc.returncode

    def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        return http(self.port, method, path, **kwargs)
