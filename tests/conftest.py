"""Shared fixtures: an isolated trayagent home per test and real `trayagent serve` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.google import FakeGoogle
from tests.serverproc import ServeProcess, free_port, isolated_env

pytest_plugins = ["tests.clientcli"]  # the real client CLIs: `real_client`, `signed_in`, `no_account`


def pytest_report_header() -> str:
    from trayagent import translate  # its import decides (trayagent/compiled.py)

    return f"trayagent front ends: {translate.RUNS_AS}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return isolated_env(home)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def serve_factory(tmp_path: Path) -> Iterator[type[ServeProcess]]:
    """Start as many servers as a test needs; all are stopped at the end, whatever happened."""
    started: list[ServeProcess] = []

    class Tracked(ServeProcess):
        def start(self, wait: bool = True, timeout: float = 20) -> ServeProcess:
            started.append(self)
            return super().start(wait, timeout)

    yield Tracked
    for server in started:
        if server.proc is not None and server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(5)


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    """A fake Google (OAuth + Cloud Code) on a free loopback port, for one test."""
    fake = FakeGoogle().start()
    yield fake
    fake.stop()
