"""`trayagent serve` hot-reloads config.yaml, survives a crash of its proxy, stops without orphans, runs once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.polling import eventually, pid_alive, port_open
from tests.serverproc import ServeProcess, free_port, http, isolated_env, run_cli
from tests.streams import SlowStream

pytestmark = pytest.mark.timeout(60)


def save_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def reload_env(home: Path) -> dict[str, str]:
    return {**isolated_env(home), "TRAYAGENT_TEST_ROUTES": "1"}


def proxy_children(pid: int) -> list[int]:
    """Proxy processes of the agent `pid`, whichever of its threads started them (the supervisor's does).

    multiprocessing's resource tracker is a child too; it is not a proxy.
    """
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass  # the thread ended meanwhile
    proxies = []
    for child in children:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                proxies.append(child)
        except OSError:
            pass
    return sorted(proxies)


def status(port: int, **headers: str) -> dict[str, object]:
    reply = http(port, "GET", "/api/status", headers=headers)
    assert reply.status == 200, reply.body
    data: dict[str, object] = reply.json()
    return data


def test_a_port_change_moves_the_proxy_while_a_stream_finishes_on_the_old_port(home: Path) -> None:
    old, new = free_port(), free_port()
    server = ServeProcess(home, f"proxy:\n  port: {old}\n", env=reload_env(home)).start()
    try:
        stream = SlowStream(old, chunks=40, delay=0.25).start()  # outlasts a new child's start-up, even under load
        save_atomically(home / "config.yaml", f"proxy:\n  port: {new}\n")
        assert eventually(lambda: port_open(new), 15), server.output()
        assert http(new, "GET", "/healthz").status == 200
        assert len(stream.lines) < stream.chunks  # the new port answered while the old stream was still running
        assert eventually(lambda: not port_open(old), 5)
        assert stream.finish() and stream.complete, stream.lines
        assert f"proxy.port {old} → {new}" in server.output()
    finally:
        assert server.stop() == 0, server.output()


def test_an_invalid_save_keeps_the_proxy_running_and_reports_key_and_line(home: Path) -> None:
    port = free_port()
    server = ServeProcess(home, f"proxy:\n  port: {port}\n", env=reload_env(home)).start()
    try:
        save_atomically(home / "config.yaml", f'proxy:\n  port: {port}\n  allow_lan_access: "maybe"\n')
        assert eventually(lambda: status(port)["config_error"] is not None, 10)
        error = str(status(port)["config_error"])
        assert 'proxy.allow_lan_access (line 3): expected true or false, got "maybe"' in error
        assert "invalid config, keeping the last good configuration" in server.output()
        assert http(port, "GET", "/healthz").status == 200

        save_atomically(home / "config.yaml", f"proxy:\n  port: {port}\n  auth_mode: [\n")
        assert eventually(lambda: "not valid YAML (line" in str(status(port)["config_error"]), 10)

        save_atomically(home / "config.yaml", f"proxy:\n  port: {port}\n")
        assert eventually(lambda: status(port)["config_error"] is None, 10)
    finally:
        assert server.stop() == 0, server.output()


def test_auth_changes_apply_live_without_dropping_a_stream(home: Path) -> None:
    port = free_port()
    server = ServeProcess(home, f"proxy:\n  port: {port}\n", env=reload_env(home)).start()
    try:
        pid_before = proxy_children(server.proc.pid)  # type: ignore[union-attr]
        assert len(pid_before) == 1
        stream = SlowStream(port, chunks=8, delay=0.2).start()
        save_atomically(
            home / "config.yaml", f"proxy:\n  port: {port}\n  auth_mode: strict\n  api_key: sk-hot-reload-1\n"
        )
        assert eventually(lambda: http(port, "GET", "/healthz").status == 401, 10)
        assert http(port, "GET", "/healthz", headers={"x-api-key": "sk-hot-reload-1"}).status == 200
        assert stream.finish() and stream.complete
        assert proxy_children(server.proc.pid) == pid_before  # type: ignore[union-attr]
        assert "sk-hot-reload-1" not in server.output()  # the key never reaches the log
    finally:
        assert server.stop() == 0, server.output()


def test_a_killed_proxy_is_restarted(home: Path) -> None:
    port = free_port()
    server = ServeProcess(home, f"proxy:\n  port: {port}\n", env=reload_env(home)).start()
    try:
        assert server.proc is not None
        (child,) = proxy_children(server.proc.pid)
        os.kill(child, signal.SIGKILL)
        assert eventually(lambda: proxy_children(server.proc.pid) not in ([], [child]), 15)  # type: ignore[union-attr]
        assert eventually(lambda: port_open(port), 15)
        assert http(port, "GET", "/healthz").status == 200
        assert "was killed by signal 9 (SIGKILL); restarting in 1 s" in server.output()
    finally:
        assert server.stop() == 0, server.output()


def test_ctrl_c_stops_everything_with_no_orphan(home: Path) -> None:
    port = free_port()
    (home / "config.yaml").write_text(f"proxy:\n  port: {port}\n")
    log = (home / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayagent", "serve"],
        env=reload_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    log.close()
    try:
        assert eventually(lambda: port_open(port), 20)
        (child,) = proxy_children(proc.pid)
        stream = SlowStream(port, chunks=6, delay=0.2).start()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole group gets SIGINT
        assert proc.wait(20) == 0
        assert stream.finish() and stream.complete  # the child ignored SIGINT; the supervisor drained it
        assert not pid_alive(child)
        assert not port_open(port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_a_second_agent_for_the_same_data_dir_says_so_and_exits(home: Path) -> None:
    port = free_port()
    server = ServeProcess(home, f"proxy:\n  port: {port}\n").start()
    try:
        result = run_cli(isolated_env(home), "serve")
        assert result.returncode == 1
        assert f"trayagent is already running for {home / 'data'} (trayagent serve, pid {server.proc.pid})" in (  # type: ignore[union-attr]
            result.stderr
        )
        no_display = run_cli(isolated_env(home))  # bare `trayagent` without a display falls back to serve
        assert no_display.returncode == 1
        assert "no graphical display" in no_display.stderr and "already running" in no_display.stderr
    finally:
        assert server.stop() == 0


def test_a_stale_lock_file_from_a_crash_does_not_block(home: Path) -> None:
    (home / "data").mkdir(mode=0o700)
    (home / "data" / "agent.lock").write_text("999999 serve\n")  # left behind by a crashed agent
    server = ServeProcess(home, f"proxy:\n  port: {free_port()}\n").start()
    assert server.stop() == 0


def test_bare_trayagent_without_a_display_says_so_and_serves(home: Path) -> None:
    port = free_port()
    (home / "config.yaml").write_text(f"proxy:\n  port: {port}\n")
    log = (home / "tray.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "trayagent"], env=isolated_env(home), stdout=log, stderr=log)
    log.close()
    try:
        assert eventually(lambda: port_open(port), 20)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    output = (home / "tray.log").read_text()
    assert "no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set); running the proxy in the foreground" in (
        output
    )


def test_account_settings_apply_live_through_a_fresh_registry(home: Path) -> None:
    port = free_port()
    server = ServeProcess(home, f"proxy:\n  port: {port}\n", env=reload_env(home)).start()
    try:
        before = proxy_children(server.proc.pid)  # type: ignore[union-attr]
        save_atomically(home / "config.yaml", f"proxy:\n  port: {port}\nscheduling:\n  max_attempts: 5\n")
        assert eventually(lambda: "account settings reloaded" in server.output(), 10), server.output()
        assert "scheduling.max_attempts 3 → 5" in server.output()
        accounts = status(port)["accounts"]
        assert isinstance(accounts, dict) and accounts["total"] == 0 and accounts["error"] is None
        assert proxy_children(server.proc.pid) == before  # no restart: the same proxy process
    finally:
        assert server.stop() == 0, server.output()


def test_a_display_that_cannot_be_reached_also_falls_back_to_serve(home: Path) -> None:
    port = free_port()
    (home / "config.yaml").write_text(f"proxy:\n  port: {port}\n")
    env = {**isolated_env(home), "DISPLAY": ":4321"}  # set, but no X server behind it
    log = (home / "tray.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "trayagent"], env=env, stdout=log, stderr=log)
    log.close()
    try:
        assert eventually(lambda: port_open(port), 30), (home / "tray.log").read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    output = (home / "tray.log").read_text()
    assert "trayagent: no tray is available (" in output and "running the proxy in the foreground instead" in output
    log_file = (home / "data" / "logs" / "trayagent.log").read_text()
    assert "listening on" in log_file and "trayagent stopped" in log_file  # the rotating log in the data dir
