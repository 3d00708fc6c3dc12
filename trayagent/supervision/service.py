"""The proxy service: the supervisor plus the config watcher, applying every saved config.yaml.

`trayagent serve` and the tray agent both run one, so both get hot reload and crash recovery. A save
is diffed against the config in force: port / LAN access → a new listener while the old one drains;
auth and everything else → pushed into the running proxy. An invalid save changes nothing but the
reported `config_error` (log, tray, `/api/status`); a move to a port another program holds leaves the old
address serving the old config (reported as the proxy's `error` with its `address`). Every change is also
written to `<data>/service.json` (servicerecord.py), where the CLI finds the proxy.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from trayagent.config import Config
from trayagent.configchange import diff_config
from trayagent.errors import ConfigError
from trayagent.logsetup import set_level
from trayagent.paths import Paths
from trayagent.supervision.proxychild import ChildLaunch
from trayagent.supervision.proxystatus import ProxyStatus
from trayagent.supervision.restartpolicy import RestartPolicy
from trayagent.supervision.servicerecord import ServiceRecord, remove_record, write_record
from trayagent.supervision.supervisor import Supervisor
from trayagent.supervision.watcher import ConfigEvent, ConfigSnapshot, ConfigWatcher

log = logging.getLogger("trayagent.service")

DRAIN_MARGIN = 5.0  # on a rebind the old listener's streams get the request timeout plus this
WAITING = "the proxy starts by itself once the file is valid"


@dataclass(frozen=True, slots=True)
class ServiceState:
    proxy: ProxyStatus
    config: Config  # the config in force: what the proxy runs (or starts with); the defaults before any valid file
    config_error: str | None  # why the file on disk is not the config in force
    config_path: Path
    has_config: bool = True  # False: no valid config.yaml was ever read, so nothing can start yet

    @property
    def move_error(self) -> str | None:
        """Why the proxy is not on the file's new address (it still serves the old one), or None."""
        proxy = self.proxy
        return proxy.reason if proxy.state == "error" and proxy.address else None

    @property
    def serving_previous_config(self) -> bool:
        return self.proxy.serving and bool(self.config_error or self.move_error)


Listener = Callable[[ServiceState], None]
KNOWN_SNAPSHOTS = 8  # versions sent to the supervisor that a failed move may fall back to


def describe_problems(error: ConfigError) -> str:
    """The problems without the file name (shown next to the path anyway): `proxy.port (line 3): expected …`."""
    return "; ".join(error.problems)


class ProxyService:
    def __init__(
        self,
        paths: Paths,
        initial: ConfigEvent,
        *,
        log_level: str | None = None,
        test_routes: bool = False,
        tray_menu: bool | None = None,
        policy: RestartPolicy | None = None,
        stop_grace: float = 10.0,
    ) -> None:
        """`initial` is the file as read at start; an error there leaves the proxy waiting for a good save.

        `log_level` (from --verbose) overrides config.yaml's `log_level`. `tray_menu`: None under `trayagent
        serve`; under the tray, whether its icon has a menu (the status page says how the proxy is started).
        """
        self.paths = paths
        self._level_override = log_level
        self._test_routes = test_routes
        self._tray_menu = tray_menu
        self._lock = threading.RLock()
        self._snapshot = initial if isinstance(initial, ConfigSnapshot) else None  # the file's last valid version
        self._in_force = self._snapshot  # the version the supervisor runs (differs after a failed move)
        self._known: dict[str, ConfigSnapshot] = {self._snapshot.text: self._snapshot} if self._snapshot else {}
        self._moves = 0  # rebinds asked of the supervisor: a failed one is undone only if it is the last
        self._config_error = None if isinstance(initial, ConfigSnapshot) else describe_problems(initial)
        if isinstance(initial, ConfigError):
            log.error("%s is invalid: %s; %s", paths.config_file.name, self._config_error, WAITING)
        self._want_running = False
        self._listeners: list[Listener] = []
        self._watcher: ConfigWatcher | None = None
        self._written: ServiceRecord | None = None
        self._record_lock = threading.Lock()
        launch = self._launch_for(self._snapshot) if self._snapshot else self._launch_for_defaults()
        self.supervisor = Supervisor(launch, policy=policy, stop_grace=stop_grace)
        self.supervisor.add_listener(lambda _status: self._publish())
        self._write_record(self.state)  # from the start: the CLI finds this agent even before a proxy runs

    @property
    def state(self) -> ServiceState:
        with self._lock:
            in_force, error = self._in_force, self._config_error
        config = in_force.config if in_force else Config(source=self.paths.config_file)
        return ServiceState(self.supervisor.status, config, error, self.paths.config_file, in_force is not None)

    def add_listener(self, listener: Listener) -> None:
        """Called with the whole new state after every change, on a worker thread; must return quickly."""
        self._listeners.append(listener)

    def start(self) -> Future[ProxyStatus]:
        self._want_running = True
        with self._lock:
            snapshot, error = self._snapshot, self._config_error
            if snapshot is not None and self._in_force is not snapshot:
                self._run(snapshot, rebind=True, drain_grace=0.0)  # stopped after a failed move: the file's config
        if snapshot is not None:
            return self.supervisor.start()
        name = self.paths.config_file.name
        log.info("the proxy cannot start while %s is invalid; %s", name, WAITING)  # the error itself is logged
        done: Future[ProxyStatus] = Future()
        done.set_result(ProxyStatus("error", f"{name} is invalid ({error}); {WAITING}"))
        return done

    def stop(self) -> Future[ProxyStatus]:
        self._want_running = False
        return self.supervisor.stop()

    def restart(self) -> Future[ProxyStatus]:
        """Restart the proxy; after a failed port move, try the file's address again (the port may be free now)."""
        self._want_running = True
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None:
                return self.start()
            if self._in_force is not snapshot and self.supervisor.status.serving:
                log.info("trying %s again", self._launch_for(snapshot).address)
                return self._run(snapshot, rebind=True, drain_grace=self._drain_for(self._in_force))
        return self.supervisor.restart()

    def watch(self) -> ConfigWatcher:
        """Start following config.yaml; returns the watcher (its `ready` event is set once armed)."""
        if self._watcher is None:
            digest = self._snapshot.digest if self._snapshot else None
            self._watcher = ConfigWatcher(self.paths.config_file, self.apply, initial_digest=digest).start()
        return self._watcher

    def close(self, grace: float | None = None) -> ProxyStatus:
        """Stop watching and stop every proxy process; blocks until they are gone."""
        if self._watcher is not None:
            self._watcher.stop()
        status = self.supervisor.close(grace)
        with self._record_lock:
            remove_record(self.paths.data_dir, os.getpid())
            self._written = None
        return status

    def apply(self, event: ConfigEvent) -> None:
        """One saved version of config.yaml: switch to it, or keep the config in force and report why."""
        with self._lock:
            self._apply(event)
        self._publish()

    def _apply(self, event: ConfigEvent) -> None:
        if isinstance(event, ConfigError):
            error = describe_problems(event)
            if error == self._config_error:
                return  # the same problem, seen again (the watcher's first look at a file already read)
            self._config_error = error
            if self._in_force is None:
                log.error("%s is invalid: %s; %s", self.paths.config_file.name, error, WAITING)
            else:
                log.error("invalid config, keeping the last good configuration: %s", event)
            self.supervisor.set_config_error(self._config_error)
            return
        old, had_error = self._in_force, self._config_error
        self._snapshot, self._config_error = event, None
        for warning in event.config.warnings:
            log.warning("config: %s", warning)
        if self._level_override is None:
            set_level(event.config.log_level)
        if had_error:
            self.supervisor.set_config_error(None)  # the proxy serving now says so too, whatever comes next
        if old is None:
            log.info("the config is valid now%s", "; starting the proxy" if self._want_running else "")
            self._run(event, rebind=True, drain_grace=0.0)
            if self._want_running:
                self.supervisor.start()
            return
        change = diff_config(old.config, event.config)
        if not change:
            moved_back = self.supervisor.status.state == "error" and self.supervisor.status.serving
            if moved_back:
                log.info("config.yaml names the address in force again: the proxy stays where it is")
                self._run(event, rebind=False, drain_grace=0.0)
            elif had_error:
                log.info("the config is valid again; nothing changed")
            self._in_force = event  # the same settings (comments may differ)
            return
        launch = self._launch_for(event)
        if change.rebind:
            log.info("config reloaded (%s): moving the proxy to %s", change.describe(), launch.address)
        else:
            log.info("config reloaded (%s): applied to the running proxy", change.describe())
        self._run(event, rebind=change.rebind, drain_grace=self._drain_for(old))

    def _run(self, snapshot: ConfigSnapshot, *, rebind: bool, drain_grace: float) -> Future[ProxyStatus]:
        """Make `snapshot` the config in force. A move that fails falls back to what the supervisor still serves."""
        self._in_force = snapshot
        self._known[snapshot.text] = snapshot
        while len(self._known) > KNOWN_SNAPSHOTS:
            self._known.pop(next(iter(self._known)))
        done = self.supervisor.reconfigure(self._launch_for(snapshot), rebind=rebind, drain_grace=drain_grace)
        if rebind:
            self._moves += 1
            move = self._moves
            done.add_done_callback(lambda future: self._after_move(move, future))
        return done

    def _after_move(self, move: int, future: Future[ProxyStatus]) -> None:
        # On the supervisor's thread, right after it fell back to the launch it still serves. A move replaced
        # by a later one settles with that one's outcome: only the last move's callback undoes anything.
        if future.cancelled() or future.exception() is not None:
            return
        status = future.result()
        if not (status.state == "error" and status.serving):
            return
        with self._lock:
            if move == self._moves and self._in_force is not None:
                self._in_force = self._known.get(self.supervisor.launch.config_text, self._in_force)
        self._publish()

    @staticmethod
    def _drain_for(old: ConfigSnapshot | None) -> float:
        return (old.config.proxy.request_timeout if old else 0.0) + DRAIN_MARGIN

    def _launch_for(self, snapshot: ConfigSnapshot) -> ChildLaunch:
        proxy = snapshot.config.proxy
        return ChildLaunch(
            config_text=snapshot.text,
            config_source=str(self.paths.config_file),
            data_dir=str(self.paths.data_dir),
            host=proxy.bind_host,
            port=proxy.port,
            log_level=self._level_override or snapshot.config.log_level,
            parent_pid=os.getpid(),
            config_error=self._config_error,
            test_routes=self._test_routes,
            tray_menu=self._tray_menu,
        )

    def _launch_for_defaults(self) -> ChildLaunch:
        # Never started while the file is invalid; a placeholder until the first good save.
        defaults = Config()
        return ChildLaunch(
            config_text="",
            config_source=None,
            data_dir=str(self.paths.data_dir),
            host=defaults.proxy.bind_host,
            port=defaults.proxy.port,
            log_level=self._level_override or defaults.log_level,
            parent_pid=os.getpid(),
            test_routes=self._test_routes,
            tray_menu=self._tray_menu,
        )

    def _publish(self) -> None:
        state = self.state
        self._write_record(state)
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:
                log.exception("a service listener failed")

    def _write_record(self, state: ServiceState) -> None:
        """`<data>/service.json` for the CLI: where the proxy really serves and with which config."""
        with self._lock:
            in_force = self._in_force
        proxy = state.proxy
        record = ServiceRecord(
            agent_pid=os.getpid(),
            state=proxy.state,
            reason=proxy.reason,
            address=proxy.address,
            proxy_pid=proxy.pid,
            config_path=str(state.config_path),
            config_error=state.config_error,
            move_error=state.move_error,
            config_text=in_force.text if in_force else None,
        )
        with self._record_lock:
            if record == self._written:
                return
            try:
                write_record(self.paths.data_dir, record)
            except OSError as exc:
                log.debug("cannot write the service record: %s", exc)
                return
            self._written = record
