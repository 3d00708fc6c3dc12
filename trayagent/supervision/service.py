"""The proxy service: the supervisor plus the config watcher, applying every saved config.yaml.

`trayagent serve` and the tray agent both run one, so both get hot reload and crash recovery. A save
is diffed against the config in force: port / LAN access → a new listener while the old one drains;
auth and everything else → pushed into the running proxy. An invalid save changes nothing but the
reported `config_error` (log, tray, `/api/status`).
"""

from __future__ import annotations

import logging
import os
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
from trayagent.supervision.supervisor import Supervisor
from trayagent.supervision.watcher import ConfigEvent, ConfigSnapshot, ConfigWatcher

log = logging.getLogger("trayagent.service")

DRAIN_MARGIN = 5.0  # on a rebind the old listener's streams get the request timeout plus this


@dataclass(frozen=True, slots=True)
class ServiceState:
    proxy: ProxyStatus
    config: Config  # the last good config (in force, or waiting for the next start)
    config_error: str | None  # why the file on disk is not the config in force
    config_path: Path


Listener = Callable[[ServiceState], None]


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
        self._snapshot = initial if isinstance(initial, ConfigSnapshot) else None
        self._config_error = None if isinstance(initial, ConfigSnapshot) else describe_problems(initial)
        self._want_running = False
        self._listeners: list[Listener] = []
        self._watcher: ConfigWatcher | None = None
        launch = self._launch_for(self._snapshot) if self._snapshot else self._launch_for_defaults()
        self.supervisor = Supervisor(launch, policy=policy, stop_grace=stop_grace)
        self.supervisor.add_listener(lambda _status: self._publish())

    @property
    def state(self) -> ServiceState:
        config = self._snapshot.config if self._snapshot else Config(source=self.paths.config_file)
        return ServiceState(self.supervisor.status, config, self._config_error, self.paths.config_file)

    def add_listener(self, listener: Listener) -> None:
        """Called with the whole new state after every change, on a worker thread; must return quickly."""
        self._listeners.append(listener)

    def start(self) -> Future[ProxyStatus]:
        self._want_running = True
        if self._snapshot is None:
            done: Future[ProxyStatus] = Future()
            done.set_result(ProxyStatus("error", f"invalid config, fix it to start: {self._config_error}"))
            self._publish()
            return done
        return self.supervisor.start()

    def stop(self) -> Future[ProxyStatus]:
        self._want_running = False
        return self.supervisor.stop()

    def restart(self) -> Future[ProxyStatus]:
        self._want_running = True
        return self.supervisor.restart() if self._snapshot else self.start()

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
        return self.supervisor.close(grace)

    def apply(self, event: ConfigEvent) -> None:
        """One saved version of config.yaml: switch to it, or keep the last good one and report why."""
        if isinstance(event, ConfigError):
            self._config_error = describe_problems(event)
            log.error("invalid config, keeping the last good configuration: %s", event)
            self.supervisor.set_config_error(self._config_error)
            self._publish()
            return
        old, had_error = self._snapshot, self._config_error
        self._snapshot, self._config_error = event, None
        for warning in event.config.warnings:
            log.warning("config: %s", warning)
        if self._level_override is None:
            set_level(event.config.log_level)
        launch = self._launch_for(event)
        if old is None:
            log.info("the config is valid now")
            self.supervisor.reconfigure(launch, rebind=True, drain_grace=0.0)
            if self._want_running:
                self.supervisor.start()
            self._publish()
            return
        change = diff_config(old.config, event.config)
        if not change:
            if had_error:
                log.info("the config is valid again; nothing changed")
                self.supervisor.set_config_error(None)
            self._publish()
            return
        if change.rebind:
            log.info("config reloaded (%s): moving the proxy to %s", change.describe(), launch.address)
        else:
            log.info("config reloaded (%s): applied to the running proxy", change.describe())
        drain = old.config.proxy.request_timeout + DRAIN_MARGIN
        self.supervisor.reconfigure(launch, rebind=change.rebind, drain_grace=drain)
        self._publish()

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
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:
                log.exception("a service listener failed")
