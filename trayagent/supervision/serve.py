"""`trayagent serve`: the proxy service in the foreground, hot-reloading config.yaml, until Ctrl-C or SIGTERM.

The proxy itself runs in a supervised child process (restarted if it crashes); this process owns the
terminal, the log file and the signals, and stops the child before it exits, so nothing is orphaned.
SIGHUP restarts the proxy (handy after the supervisor gave up on a crash loop).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

from trayagent.errors import ServeError
from trayagent.files.instancelock import InstanceLock
from trayagent.logsetup import configure_logging, file_handler, terminal_handler
from trayagent.paths import Paths, ensure_private_dir
from trayagent.supervision.service import ProxyService
from trayagent.supervision.watcher import read_snapshot

log = logging.getLogger("trayagent")

TEST_ROUTES_ENV = "TRAYAGENT_TEST_ROUTES"


def test_routes_enabled() -> bool:
    """Test-only routes, read once at the composition root (see proxy/routes/slowstream.py)."""
    return os.environ.get(TEST_ROUTES_ENV) == "1"


def serve_foreground(paths: Paths, *, verbose: bool) -> int:
    """Raises ConfigError (exit 2) for an invalid file at start, ServeError (exit 1) when the proxy cannot start.

    The caller has written the first-run config file (`config.ensure_config_file`) and said so.
    """
    snapshot = read_snapshot(paths.config_file)
    ensure_private_dir(paths.data_dir)
    lock = InstanceLock(paths.data_dir)
    if not lock.acquire("serve"):
        raise ServeError(f"trayagent is already running for {paths.data_dir} ({lock.holder()})")
    try:
        level = "debug" if verbose else snapshot.config.log_level
        configure_logging(level, handlers=[terminal_handler(), file_handler(paths.data_dir)])
        for warning in snapshot.config.warnings:
            log.warning("config: %s", warning)
        service = ProxyService(
            paths, snapshot, log_level="debug" if verbose else None, test_routes=test_routes_enabled()
        )
        return _run(service)
    finally:
        lock.release()


def _run(service: ProxyService) -> int:
    stop = threading.Event()

    def on_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    def on_hangup(signum: int, frame: FrameType | None) -> None:
        log.info("SIGHUP: restarting the proxy")
        service.restart()

    previous = {sig: signal.signal(sig, on_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    if hasattr(signal, "SIGHUP"):
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, on_hangup)
    try:
        status = service.start().result()
        if status.state != "running":
            raise ServeError(status.reason or "the proxy did not start")
        service.watch()
        while not stop.wait(0.5):
            pass
        log.debug("stopping: letting in-flight requests finish")
        return 0
    finally:
        service.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
