"""The supervisor with real proxy child processes on free loopback ports: start, stop, drain, rebind, crash, orphan."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.polling import eventually, pid_alive, port_open
from tests.serverproc import REPO, free_port, http
from tests.streams import SlowStream
from trayagent.supervision.proxychild import ChildLaunch
from trayagent.supervision.proxystatus import ProxyStatus
from trayagent.supervision.restartpolicy import RestartPolicy
from trayagent.supervision.supervisor import Supervisor

pytestmark = pytest.mark.timeout(60)


def launch_for(data_dir: Path, port: int, extra: str = "") -> ChildLaunch:
    return ChildLaunch(
        config_text=f"proxy:\n  port: {port}\n{extra}",
        config_source=None,
        data_dir=str(data_dir),
        host="127.0.0.1",
        port=port,
        log_level="info",
        parent_pid=os.getpid(),
        test_routes=True,
    )


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Children inherit the environment at spawn: never the developer's keyring.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    path = tmp_path / "data"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def supervisors() -> Iterator[list[Supervisor]]:
    made: list[Supervisor] = []
    yield made
    for sup in made:
        sup.close(grace=1)


def make(supervisors: list[Supervisor], launch: ChildLaunch, **kwargs: object) -> tuple[Supervisor, list[ProxyStatus]]:
    sup = Supervisor(launch, **kwargs)  # type: ignore[arg-type]
    seen: list[ProxyStatus] = []
    sup.add_listener(seen.append)
    supervisors.append(sup)
    return sup, seen


def test_start_reports_running_then_stop_frees_the_port(data_dir: Path, supervisors: list[Supervisor]) -> None:
    port = free_port()
    sup, seen = make(supervisors, launch_for(data_dir, port))
    status = sup.start().result(20)
    assert status.state == "running" and status.address == f"http://127.0.0.1:{port}"
    assert status.pid is not None and pid_alive(status.pid)
    assert http(port, "GET", "/healthz").status == 200
    assert [s.state for s in seen] == ["starting", "running"]

    assert sup.stop().result(20).state == "stopped"
    assert not port_open(port)
    assert not pid_alive(status.pid)
    assert sup.start().result(20).state == "running"  # and again


def test_stop_mid_stream_lets_the_stream_finish(data_dir: Path, supervisors: list[Supervisor]) -> None:
    port = free_port()
    sup, _ = make(supervisors, launch_for(data_dir, port))
    sup.start().result(20)
    stream = SlowStream(port, chunks=8, delay=0.15).start()
    t0 = time.monotonic()
    assert sup.stop(grace=10).result(20).state == "stopped"
    assert stream.finish() and stream.complete, stream.lines
    assert stream.error is None
    assert time.monotonic() - t0 < 8  # drained, not waited out


def test_a_busy_port_is_an_error_with_the_reason(data_dir: Path, supervisors: list[Supervisor]) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        sup, _ = make(supervisors, launch_for(data_dir, port))
        status = sup.start().result(20)
    assert status.state == "error"
    assert status.reason == f"port {port} is already in use on 127.0.0.1"
    assert status.address is None


def test_rebind_to_a_new_port_while_a_stream_finishes_on_the_old(data_dir: Path, supervisors: list[Supervisor]) -> None:
    old_port, new_port = free_port(), free_port()
    sup, _ = make(supervisors, launch_for(data_dir, old_port))
    first = sup.start().result(20)
    # Long enough to outlast a new child's start-up (seconds on a loaded machine): the overlap is the subject.
    stream = SlowStream(old_port, chunks=25, delay=0.2).start()
    status = sup.reconfigure(launch_for(data_dir, new_port), rebind=True, drain_grace=30).result(20)
    assert status.state == "running" and status.address == f"http://127.0.0.1:{new_port}"
    assert status.pid != first.pid
    assert http(new_port, "GET", "/healthz").status == 200
    assert len(stream.lines) < stream.chunks  # still streaming when the new port answered
    assert eventually(lambda: not port_open(old_port), 5)  # the old listener closed at once
    assert stream.finish() and stream.complete, stream.lines
    assert first.pid is not None and eventually(lambda: not pid_alive(first.pid), 10)


def test_rebind_on_the_same_port_drains_the_old_child_first(data_dir: Path, supervisors: list[Supervisor]) -> None:
    port = free_port()
    sup, _ = make(supervisors, launch_for(data_dir, port))
    first = sup.start().result(20)
    stream = SlowStream(port, chunks=8, delay=0.2).start()
    status = sup.restart().result(20)
    assert status.state == "running" and status.pid != first.pid
    assert http(port, "GET", "/healthz").status == 200
    assert stream.finish() and stream.complete, stream.lines


def test_a_rebind_to_a_busy_port_keeps_serving_on_the_old_one(data_dir: Path, supervisors: list[Supervisor]) -> None:
    port = free_port()
    sup, _ = make(supervisors, launch_for(data_dir, port))
    first = sup.start().result(20)
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        busy = other.getsockname()[1]
        status = sup.reconfigure(launch_for(data_dir, busy), rebind=True, drain_grace=5).result(20)
        assert status.state == "error"
        expected = f"could not move to http://127.0.0.1:{busy}: port {busy} is already in use on 127.0.0.1"
        assert status.reason == expected
        assert (status.address, status.pid) == (f"http://127.0.0.1:{port}", first.pid)  # who still serves
        assert sup.launch.port == port  # the old launch is the one in force again (a crash restarts it)
        assert http(port, "GET", "/healthz").status == 200
        # The serving proxy itself says so: the page and the CLI read it from /api/status.
        assert eventually(lambda: http(port, "GET", "/api/status").json()["move_error"] == expected, 5)
        assert http(port, "GET", "/api/status").json()["serving_previous_config"] is True

        # The file goes back to the port in force: the move is given up, the proxy is simply running again.
        back = sup.reconfigure(launch_for(data_dir, port, "  cors: false\n"), rebind=False, drain_grace=5).result(5)
        assert (back.state, back.pid, back.reason) == ("running", first.pid, None)
        assert eventually(lambda: http(port, "GET", "/api/status").json()["move_error"] is None, 5)


def test_a_live_change_for_an_address_no_child_serves_takes_a_new_listener(
    data_dir: Path, supervisors: list[Supervisor]
) -> None:
    """A caller's view can lag (a move failed meanwhile): a config for another address is never pushed into a child
    listening elsewhere, where it would claim an address it does not serve."""
    port, other = free_port(), free_port()
    sup, _ = make(supervisors, launch_for(data_dir, port))
    first = sup.start().result(20)
    status = sup.reconfigure(launch_for(data_dir, other), rebind=False, drain_grace=5).result(20)
    assert (status.state, status.address) == ("running", f"http://127.0.0.1:{other}") and status.pid != first.pid
    assert http(other, "GET", "/api/status").json()["address"] == f"http://127.0.0.1:{other}"


def test_auth_changes_apply_without_dropping_connections(data_dir: Path, supervisors: list[Supervisor]) -> None:
    port = free_port()
    sup, _ = make(supervisors, launch_for(data_dir, port))
    first = sup.start().result(20)
    stream = SlowStream(port, chunks=6, delay=0.2).start()
    strict = launch_for(data_dir, port, "  auth_mode: strict\n  api_key: sk-test-key-123\n")
    assert sup.reconfigure(strict, rebind=False, drain_grace=5).result(5).pid == first.pid
    assert eventually(lambda: http(port, "GET", "/healthz").status == 401, 5)
    assert http(port, "GET", "/healthz", headers={"Authorization": "Bearer sk-test-key-123"}).status == 200
    assert stream.finish() and stream.complete  # the stream that was in flight is untouched
    assert sup.status.pid == first.pid


def test_kill_9_of_the_child_restarts_it(data_dir: Path, supervisors: list[Supervisor]) -> None:
    port = free_port()
    policy = RestartPolicy(first_delay=0.1, max_delay=1)
    sup, seen = make(supervisors, launch_for(data_dir, port), policy=policy)
    first = sup.start().result(20)
    assert first.pid is not None
    os.kill(first.pid, signal.SIGKILL)
    assert eventually(lambda: sup.status.state == "running" and sup.status.pid != first.pid, 20), seen
    assert http(port, "GET", "/healthz").status == 200
    restarting = [s for s in seen if s.state == "starting" and s.reason and "restarting" in s.reason]
    assert restarting and "was killed by signal 9 (SIGKILL)" in (restarting[0].reason or "")


def test_a_crash_loop_gives_up_with_a_reason(data_dir: Path, supervisors: list[Supervisor]) -> None:
    port = free_port()
    policy = RestartPolicy(first_delay=0.05, max_delay=0.2, give_up_after=3, window=60)
    sup, seen = make(supervisors, launch_for(data_dir, port), policy=policy)
    sup.start().result(20)
    for _ in range(3):
        assert eventually(lambda: sup.status.state in ("running", "error"), 20)
        if sup.status.state == "error":
            break
        pid = sup.status.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        assert eventually(lambda p=pid: sup.status.pid != p, 20)  # type: ignore[misc]
    assert eventually(lambda: sup.status.state == "error", 10), seen
    assert sup.status.reason is not None
    assert sup.status.reason.startswith("the proxy crashed 3 times within 60 s (last: was killed by signal 9")
    assert "stopped restarting" in sup.status.reason
    assert not port_open(port)
    assert sup.start().result(20).state == "running"  # a deliberate Start tries again


PARENT_SCRIPT = """
import os, sys, time
from trayagent.supervision.proxychild import ChildLaunch
from trayagent.supervision.supervisor import Supervisor
port, data = int(sys.argv[1]), sys.argv[2]
launch = ChildLaunch(f"proxy:\\n  port: {port}\\n", None, data, "127.0.0.1", port, "info", os.getpid())
if __name__ == "__main__":
    status = Supervisor(launch).start().result(20)
    print(status.state, status.pid, flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_the_child_exits_when_its_parent_dies(data_dir: Path, tmp_path: Path, sig: int) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT_SCRIPT)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen(
        [sys.executable, str(script), str(port), str(data_dir)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        state, pid = parent.stdout.readline().split()
        assert state == "running" and port_open(port)
        parent.send_signal(sig)
        parent.wait(10)
        assert eventually(lambda: not pid_alive(int(pid)), 15), "the proxy child outlived its parent"
        assert not port_open(port)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(5)
        assert parent.stdout is not None
        parent.stdout.close()


def test_a_child_that_ignores_stop_and_sigterm_is_killed(data_dir: Path, supervisors: list[Supervisor]) -> None:
    from tests.fakes.children import stubborn_child

    sup, _ = make(supervisors, launch_for(data_dir, free_port()), target=stubborn_child)
    pid = sup.start().result(20).pid
    assert pid is not None
    t0 = time.monotonic()
    assert sup.stop(grace=0.2).result(20).state == "stopped"
    elapsed = time.monotonic() - t0
    assert not pid_alive(pid)
    assert 3 < elapsed < 10  # grace, then three SIGTERMs a second apart, then the kill
