"""The command line on the unhappy paths: an invalid config.yaml, a proxy that could not move, a reader that
leaves early, a machine without a keyring. Real `trayagent` processes with their own home folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.polling import eventually
from tests.serverproc import ServeProcess, free_port, http, run_cli

pytestmark = pytest.mark.timeout(90)

PINNED = "sk-pinned-trouble-0123456789"


def save_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def api_status(port: int) -> dict[str, object]:
    reply = http(port, "GET", "/api/status", headers={"Authorization": f"Bearer {PINNED}"})
    assert reply.status == 200, reply.body
    data: dict[str, object] = reply.json()
    return data


class _Stranger(BaseHTTPRequestHandler):
    """Another program's web server: JSON that looks like a status, but not trayagent's."""

    def do_GET(self) -> None:
        body = json.dumps({"state": "running", "address": "somewhere", "accounts": {"total": 99}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stranger() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stranger)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_an_invalid_config_leaves_status_key_and_accounts_working_with_the_config_the_proxy_serves(
    home: Path, env: dict[str, str], serve_factory: type[ServeProcess]
) -> None:
    port = free_port()
    config = home / "config.yaml"
    server = serve_factory(home, f"proxy:\n  port: {port}\n  auth_mode: strict\n  api_key: {PINNED}\n").start()
    save_atomically(config, f"proxy:\n  port: {port}\n  auth_mode: strict\n  api_key: {PINNED}\n  cors: sometimes\n")
    assert eventually(lambda: api_status(port)["config_error"], 10)
    problem = 'proxy.cors (line 5): expected true or false, got "sometimes"'
    warning = f"warning: config.yaml is invalid ({problem}); using the previous config, which the running proxy serves"

    status = run_cli(env, "status")
    assert status.returncode == 0, status.stderr
    assert warning in status.stderr
    assert f"address    http://127.0.0.1:{port}" in status.stdout
    assert f"           invalid: {problem}" in status.stdout
    assert "           the proxy serves the previous config" in status.stdout

    key = run_cli(env, "key", "show")
    assert (key.returncode, key.stdout.strip()) == (0, PINNED)  # the key of the config in force
    assert warning in key.stderr

    accounts = run_cli(env, "accounts", "list", "--json")
    assert (accounts.returncode, json.loads(accounts.stdout)) == (0, [])
    assert warning in accounts.stderr

    assert "watchfiles" not in server.output()  # its "1 change detected" is not the user's business
    assert "invalid config, keeping the last good configuration" in server.output()

    assert server.stop() == 0
    # No proxy now: the defaults, said as such (and a key of their own, not the file's).
    key = run_cli(env, "key", "show")
    assert key.returncode == 0 and key.stdout.strip() not in ("", PINNED)
    assert f"warning: config.yaml is invalid ({problem}); using the defaults until it is fixed ({config})" in key.stderr
    assert run_cli(env, "config", "check").returncode == 2  # the validator still says no


def test_after_a_failed_port_move_status_asks_where_the_proxy_really_serves(
    home: Path, env: dict[str, str], serve_factory: type[ServeProcess], stranger: int
) -> None:
    port = free_port()
    server = serve_factory(home, f"proxy:\n  port: {port}\n").start()
    save_atomically(home / "config.yaml", f"proxy:\n  port: {stranger}\n")
    moved = f"could not move to http://127.0.0.1:{stranger}: port {stranger} is already in use on 127.0.0.1"
    assert eventually(lambda: http(port, "GET", "/api/status").json()["move_error"] == moved, 20), server.output()

    status = run_cli(env, "status")
    assert status.returncode == 0, status.stderr
    assert f"address    http://127.0.0.1:{port}\n           {moved}\n" in status.stdout
    assert "free that port, then Restart from the tray (or save config.yaml again) to move" in status.stdout
    assert "the proxy serves the previous config" in status.stdout
    assert "somewhere" not in status.stdout and "of 99" not in status.stdout  # nothing of the stranger's

    assert server.stop() == 0
    # No trayagent now: config.yaml's port is asked, and the program there is not taken for the proxy.
    status = run_cli(env, "status")
    assert status.returncode == 1 and status.stdout == ""
    assert f"port {stranger} answers, but not as trayagent: another program holds it" in status.stderr


def test_status_of_an_agent_waiting_for_a_valid_config(home: Path, env: dict[str, str]) -> None:
    """The tray agent started on an invalid file runs no proxy; `status` says why and what happens next."""
    from trayagent.errors import ConfigError
    from trayagent.paths import Paths
    from trayagent.supervision.service import ProxyService
    from trayagent.supervision.servicerecord import read_record
    from trayagent.supervision.watcher import read_snapshot

    config = home / "config.yaml"
    config.write_text(f"proxy:\n  port: {free_port()}\n  auth_mode: sometimes\n")
    paths = Paths(config_file=config, data_dir=home / "data")
    with pytest.raises(ConfigError) as invalid:
        read_snapshot(config)
    service = ProxyService(paths, invalid.value)
    try:
        service.start()
        assert eventually(lambda: read_record(paths.data_dir), 5)
        status = run_cli(env, "status")
        assert status.returncode == 1
        assert (
            "no proxy is serving: config.yaml is invalid (proxy.auth_mode (line 3): expected one of off, strict, "
            'all_except_health, auto, got "sometimes"); the proxy starts by itself once the file is valid'
        ) in status.stderr
    finally:
        service.close()
    assert read_record(paths.data_dir) is None  # the agent is gone: so is its record


@pytest.mark.parametrize(
    "command", [("accounts", "list", "--json"), ("key", "show"), ("config", "path"), ("--help",)], ids=" ".join
)
def test_a_reader_that_leaves_early_is_normal_not_a_traceback(env: dict[str, str], command: tuple[str, ...]) -> None:
    """`trayagent … | head`: the pipe closes before the command writes (here at once, so it happens every time)."""
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayagent", *command], env=env, stdout=write_end, stderr=subprocess.PIPE, text=True
    )
    os.close(write_end)
    os.close(read_end)  # the reader is gone before the first byte
    _, stderr = proc.communicate(timeout=30)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert proc.returncode in (0, 141)
