"""The proxy supervisor: runs the proxy as a spawned child process and keeps it up. No GUI imports.

Theory of operation. One worker thread (`ChildHost`) owns every child; public methods only post
commands to it and return a Future of the next settled status (running, error or stopped), so no
caller ever blocks on a child unless it chooses to wait.
- start: spawn a child, which binds its own socket and reports `Ready` (or `Failed`, e.g. a busy port).
- stop: ask the child over its pipe to drain (Sanic's graceful shutdown), then SIGTERM up to three
  times (one can be lost during Sanic's start-up), then kill.
- rebind (port / LAN change): a new child on the new address, then the old one drains its streams;
  on the same port the old listener closes first and the new child waits for the port. A new child that
  cannot start (the port is another program's) leaves the old one serving: the status is `error` with the
  old `address`, the old launch is the one in force again, and the old child is told (`MoveProblem`).
- crash (an exit nobody asked for): restart after a backoff from `RestartPolicy`, or give up and say why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from trayagent.supervision.childprocess import ChildHost, ChildProcess, spawn_process
from trayagent.supervision.messages import ConfigProblem, Failed, MoveProblem, Ready, Reconfigure, Stop
from trayagent.supervision.proxychild import ChildLaunch, child_main
from trayagent.supervision.proxystatus import ProxyStatus
from trayagent.supervision.restartpolicy import CrashHistory, RestartPolicy

log = logging.getLogger("trayagent.supervisor")

SAME_PORT_BIND_WAIT = 5.0  # how long a replacement waits for its predecessor to let go of the port
TERM_ATTEMPTS = 3
Listener = Callable[[ProxyStatus], None]
ChildTarget = Callable[[Connection, ChildLaunch], None]
Command = Callable[[Future[ProxyStatus]], None]


class _Child(ChildProcess):
    def __init__(self, process: BaseProcess, conn: Connection, spawned_at: float, launch: ChildLaunch) -> None:
        super().__init__(process, conn, spawned_at, label="proxy", term_attempts=TERM_ATTEMPTS, logger=log)
        self.launch = launch


class Supervisor(ChildHost[_Child]):
    def __init__(
        self,
        launch: ChildLaunch,
        *,
        policy: RestartPolicy | None = None,
        stop_grace: float = 10.0,
        ready_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        target: ChildTarget = child_main,
    ) -> None:
        super().__init__("proxy-supervisor", label="supervisor", logger=log, clock=clock)
        self._launch = launch
        self._policy = policy or RestartPolicy()
        self._stop_grace = stop_grace
        self._ready_timeout = ready_timeout
        self._target = target
        self._active: _Child | None = None
        self._incoming: _Child | None = None  # a replacement starting while the active one still serves
        self._draining: list[_Child] = []
        self._drain_grace = stop_grace
        self._history = CrashHistory()
        self._restart_at: float | None = None
        self._status = ProxyStatus("stopped")
        self._waiters: list[Future[ProxyStatus]] = []
        self._listeners: list[Listener] = []
        self._closing = False
        self._close_future: Future[ProxyStatus] | None = None
        self._start_worker()

    # -- public API: every method posts to the worker and returns at once -------------------------------

    @property
    def status(self) -> ProxyStatus:
        return self._status

    @property
    def launch(self) -> ChildLaunch:
        """The launch in force: what runs, or what a start or a crash restart runs (the old one after a failed move)."""
        return self._launch

    def add_listener(self, listener: Listener) -> None:
        """Called on the supervisor thread with every new status; must return quickly and never wait on us."""
        self._listeners.append(listener)

    def start(self) -> Future[ProxyStatus]:
        return self._order(self._cmd_start)

    def stop(self, grace: float | None = None) -> Future[ProxyStatus]:
        return self._order(lambda fut: self._cmd_stop(fut, self._stop_grace if grace is None else grace))

    def restart(self) -> Future[ProxyStatus]:
        return self._order(self._cmd_restart)

    def reconfigure(self, launch: ChildLaunch, *, rebind: bool, drain_grace: float) -> Future[ProxyStatus]:
        """Run with `launch` from now on: pushed into the running child, or a new child when `rebind`."""
        return self._order(lambda fut: self._cmd_reconfigure(fut, launch, rebind, drain_grace))

    def set_config_error(self, error: str | None) -> Future[ProxyStatus]:
        return self._order(lambda fut: self._cmd_config_error(fut, error))

    def close(self, grace: float | None = None, timeout: float = 60.0) -> ProxyStatus:
        """Stop every child (draining ones too) and the worker. Blocks: for shutdown paths only."""
        if self._worker.is_alive():
            done = self._order(lambda fut: self._cmd_close(fut, self._stop_grace if grace is None else grace))
            done.result(timeout)
            self._worker.join(timeout)
        return self._status

    # -- worker -----------------------------------------------------------------------------------------

    def _order(self, command: Command) -> Future[ProxyStatus]:
        future: Future[ProxyStatus] = Future()
        if not self._post(lambda: self._obey(command, future)):
            future.set_result(self._status)  # the worker has ended
        return future

    def _obey(self, command: Command, future: Future[ProxyStatus]) -> None:
        if self._closing:
            future.set_result(self._status)  # closing: nothing more to do
            return
        try:
            command(future)
        except Exception as exc:  # a bug in a command must not kill the supervisor
            log.exception("supervisor command failed")
            if not future.done():
                future.set_exception(exc)

    def _children(self) -> list[_Child]:
        return [c for c in (self._active, self._incoming, *self._draining) if c is not None]

    def _finished(self) -> bool:
        return self._closing and not self._children()

    def _on_end(self) -> None:
        self._closing = True  # commands posted meanwhile are answered with the final status
        self._publish(ProxyStatus("stopped"))
        for pending in [*self._waiters, self._close_future]:
            if pending is not None and not pending.done():
                pending.set_result(self._status)

    def _tick(self) -> float:
        now = self._clock()
        if self._restart_at is not None and now >= self._restart_at:
            self._restart_at = None
            self._active = self._spawn(self._launch)
        for child in self._children():
            child.escalate(now)
            if child in (self._active, self._incoming) and child.late(now, self._ready_timeout):
                child.give_up(f"the proxy did not become ready within {self._ready_timeout:g} s")
        deadlines = [c.escalate_at for c in self._children() if c.escalate_at is not None]
        starting = [c for c in (self._active, self._incoming) if c is not None and c.ready_at is None]
        deadlines += [c.spawned_at + self._ready_timeout for c in starting]
        if self._restart_at is not None:
            deadlines.append(self._restart_at)
        return max(0.0, min([0.5, *(d - now for d in deadlines)]))

    def _spawn(self, launch: ChildLaunch) -> _Child:
        process, conn = spawn_process(self._target, launch, "trayagent-proxy")
        child = _Child(process, conn, self._clock(), launch)
        log.debug("spawned proxy pid %s for %s", child.pid, launch.address)
        if self._active is None or self._active is child:
            self._publish(ProxyStatus("starting", f"starting on {launch.address}", None, child.pid))
        return child

    def _on_message(self, child: _Child, message: object) -> None:
        if isinstance(message, Failed):
            child.failure = message.reason
        elif isinstance(message, Ready) and message.pid == child.pid:
            child.ready_at = self._clock()
            if child.stop_asked_at is not None:
                return
            if child is self._incoming:
                old, self._active, self._incoming = self._active, child, None
                if old is not None:
                    self._ask_stop(old, self._drain_grace, draining=True)
            if child is self._active:
                self._publish(ProxyStatus("running", None, child.launch.address, child.pid))

    def _on_exit(self, child: _Child) -> None:
        exit_text = child.exit_text
        if child in self._draining:
            self._draining.remove(child)
            log.debug("proxy pid %s (%s) finished draining and %s", child.pid, child.launch.address, exit_text)
            return
        if child is self._incoming:
            self._incoming = None
            reason = child.failure or f"the new proxy on {child.launch.address} {exit_text}"
            old = self._active
            if old is None or old.ready_at is None:
                return self._publish(ProxyStatus("error", reason))
            self._launch = old.launch  # the old config keeps serving, and is what a crash restarts
            why = f"could not move to {child.launch.address}: {reason}"
            old.send(MoveProblem(why))
            return self._publish(ProxyStatus("error", why, old.launch.address, old.pid))
        self._active = None
        if child.stop_asked_at is not None or child.failure is not None:
            self._publish(ProxyStatus("error", child.failure) if child.failure else ProxyStatus("stopped"))
        else:
            self._crashed(child, exit_text)

    def _crashed(self, child: _Child, exit_text: str) -> None:
        now = self._clock()
        uptime = now - child.ready_at if child.ready_at is not None else 0.0
        what = exit_text if child.ready_at is not None else f"{exit_text} while starting"
        self._history = self._history.record(self._policy, now, uptime)
        decision = self._history.decide(self._policy, now, what)
        if decision.restart:
            log.warning("proxy pid %s: %s", child.pid, decision.reason)
            self._restart_at = now + decision.delay
            self._publish(ProxyStatus("starting", decision.reason))
        else:
            self._publish(ProxyStatus("error", decision.reason))

    def _ask_stop(self, child: _Child, grace: float, *, draining: bool = False) -> None:
        if draining and child not in self._draining:
            self._draining.append(child)
        # Already stopping (e.g. draining for minutes): a second ask only ever shortens its deadline.
        now = self._clock()
        child.ask_stop(Stop(grace), now + grace + 1.0, now)

    def _send(self, message: object) -> None:
        for child in (self._active, self._incoming):
            if child is not None and child.stop_asked_at is None:
                child.send(message)  # False: it is exiting; its sentinel will tell

    def _publish(self, status: ProxyStatus) -> None:
        if status == self._status:
            return
        self._status = status
        log.debug("proxy %s%s", status.state, f": {status.reason}" if status.reason else "")
        if status.state == "error" and status.address:
            log.error("proxy: %s; still serving on %s (the config from before)", status.reason, status.address)
        elif status.state == "error":
            log.error("proxy: %s", status.reason)
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:
                log.exception("a supervisor listener failed")
        if status.state != "starting":
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                waiter.set_result(status)

    # -- commands (run on the worker thread) ------------------------------------------------------------

    def _cmd_start(self, future: Future[ProxyStatus]) -> None:
        if self._active is not None or self._restart_at is not None:
            if self._status.state == "running":
                future.set_result(self._status)
            else:
                self._waiters.append(future)
            return
        self._history = CrashHistory()  # a deliberate start forgives earlier crashes
        self._waiters.append(future)
        self._active = self._spawn(self._launch)

    def _cmd_stop(self, future: Future[ProxyStatus], grace: float) -> None:
        self._restart_at = None
        if self._incoming is not None:
            self._ask_stop(self._incoming, 0.0, draining=True)
            self._incoming = None
        if self._active is None:
            self._publish(ProxyStatus("stopped"))
            return future.set_result(self._status)
        self._waiters.append(future)
        self._ask_stop(self._active, grace)

    def _cmd_restart(self, future: Future[ProxyStatus]) -> None:
        if self._active is None:
            return self._cmd_start(future)
        self._replace(future, self._launch, self._stop_grace)

    def _cmd_reconfigure(self, future: Future[ProxyStatus], launch: ChildLaunch, rebind: bool, grace: float) -> None:
        self._launch = launch
        if self._active is None:
            if self._status.state == "error":
                self._cmd_start(future)  # the new config may be the fix (another port)
            else:
                future.set_result(self._status)  # stopped, or waiting to restart: the new launch applies then
            return
        # Only a child on this address can run this config live (one still serving the old address keeps its own);
        # with none there (a move failed meanwhile), it takes a new listener after all.
        here = [
            c
            for c in (self._active, self._incoming)
            if c and not c.stop_asked_at and c.launch.address == launch.address
        ]
        if not rebind and here:
            message = Reconfigure(launch.config_text, launch.config_source, launch.config_error, launch.log_level)
            for child in here:
                child.launch = launch.but(bind_wait=child.launch.bind_wait)
                child.send(message)
            active = self._active
            if self._status.state == "error" and active.ready_at is not None and self._incoming is None:
                # A failed move given up (the file is back on the address in force): all is well again.
                self._publish(ProxyStatus("running", None, active.launch.address, active.pid))
            return future.set_result(self._status)
        self._replace(future, launch, grace)

    def _replace(self, future: Future[ProxyStatus], launch: ChildLaunch, drain_grace: float) -> None:
        active = self._active
        assert active is not None
        self._drain_grace = drain_grace
        if self._incoming is not None:
            self._ask_stop(self._incoming, 0.0, draining=True)
            self._incoming = None
        self._waiters.append(future)
        if active.ready_at is not None and active.launch.port != launch.port:
            self._incoming = self._spawn(launch)  # the old child serves until the new one is ready
            return
        # Same port (or still starting): the old listener must go first; its streams keep draining.
        self._active = None
        self._ask_stop(active, drain_grace if active.ready_at else 0.0, draining=True)
        self._active = self._spawn(launch.but(bind_wait=SAME_PORT_BIND_WAIT))

    def _cmd_config_error(self, future: Future[ProxyStatus], error: str | None) -> None:
        self._launch = self._launch.but(config_error=error)
        self._send(ConfigProblem(error))
        future.set_result(self._status)

    def _cmd_close(self, future: Future[ProxyStatus], grace: float) -> None:
        self._closing, self._close_future, self._restart_at = True, future, None
        for child in self._children():
            self._ask_stop(child, grace)
