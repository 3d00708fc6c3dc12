"""Spawned children owned by one worker thread: spawn, pipe, stop → SIGTERM → kill, reap.

The proxy supervisor and the status window both run this way. Public methods of the owner only post
commands (`_post`) to its worker thread, which runs them, waits on the children's pipes and exit
sentinels, relays their log lines and calls the owner's hooks. Children are spawned (never forked: a
GUI toolkit may be loaded) from that long-lived thread on purpose: Linux's PR_SET_PDEATHSIG fires when
the *thread* that created a child ends, so a short-lived spawning thread would kill its child.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

from trayagent.logsetup import relay_record
from trayagent.supervision.messages import LogLine
from trayagent.supervision.restartpolicy import describe_exit

L = TypeVar("L")
Target = Callable[[Connection, L], None]
Command = Callable[[], None]


def spawn_process(target: Target[L], launch: L, name: str) -> tuple[BaseProcess, Connection]:
    """Start `target(conn, launch)` in a spawned process; returns it and the parent's end of the pipe."""
    context = multiprocessing.get_context("spawn")
    parent_end, child_end = context.Pipe(duplex=True)
    process = context.Process(target=target, args=(child_end, launch), name=name, daemon=True)
    process.start()
    child_end.close()
    return process, parent_end


class ChildProcess:
    """One spawned child as its owner sees it: the pipe, what it reported, and how far its stop has gone."""

    def __init__(
        self,
        process: BaseProcess,
        conn: Connection,
        spawned_at: float,
        *,
        label: str,
        term_attempts: int,
        logger: logging.Logger,
    ) -> None:
        self.process, self.conn, self.spawned_at = process, conn, spawned_at
        self.label, self.log = label, logger  # "proxy", "status window": how log lines name it
        self.term_attempts = term_attempts  # SIGTERMs before the kill (one can be lost during Sanic's start-up)
        self.conn_open = True
        self.ready_at: float | None = None
        self.failure: str | None = None  # why it could not start, as it said or as we saw
        self.stop_asked_at: float | None = None
        self.escalate_at: float | None = None
        self.terms = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def exit_text(self) -> str:
        return describe_exit(self.process.exitcode)

    def send(self, message: object) -> bool:
        """False when the pipe is gone (the child is exiting; its sentinel will tell)."""
        try:
            self.conn.send(message)
        except (OSError, ValueError):
            return False
        return True

    def receive(self) -> Iterator[object]:
        """Every message waiting in the pipe; at EOF the pipe is marked closed."""
        try:
            while self.conn.poll():
                yield self.conn.recv()
        except (EOFError, OSError):
            self.conn_open = False

    def late(self, now: float, ready_timeout: float) -> bool:
        """Still not ready `ready_timeout` after the spawn, with no reason given and no stop asked."""
        starting = self.ready_at is None and self.failure is None and self.stop_asked_at is None
        return starting and now - self.spawned_at > ready_timeout

    def give_up(self, reason: str) -> None:
        self.failure = reason
        self.process.kill()

    def ask_stop(self, message: object, deadline: float, now: float) -> None:
        """Ask over the pipe; from `deadline` on, `escalate` takes over. A second ask only ever shortens it."""
        if self.stop_asked_at is not None:
            self.escalate_at = min(self.escalate_at or deadline, deadline)
            return
        self.stop_asked_at, self.escalate_at = now, deadline
        if not self.send(message):
            self.escalate_at = now  # no pipe: straight to SIGTERM

    def escalate(self, now: float) -> None:
        """Past its deadline: SIGTERM (up to `term_attempts` times, a second apart), then kill."""
        if self.escalate_at is None or now < self.escalate_at:
            return
        if self.terms < self.term_attempts:
            self.terms += 1
            self.log.warning("%s pid %s did not stop in time; sending SIGTERM (%d)", self.label, self.pid, self.terms)
            self.process.terminate()
            self.escalate_at = now + 1.0
        else:
            self.log.warning("%s pid %s ignored SIGTERM; killing it", self.label, self.pid)
            self.process.kill()
            self.escalate_at = now + 5.0

    def close(self) -> None:
        self.conn.close()
        self.process.join(1)


C = TypeVar("C", bound=ChildProcess)


class ChildHost(ABC, Generic[C]):
    """The worker thread and its command queue. Owners implement the hooks; they all run on the worker."""

    def __init__(
        self, thread_name: str, *, label: str, logger: logging.Logger, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._label, self._log = label, logger
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._wake_r, self._wake_w = multiprocessing.Pipe(duplex=False)
        self._post_lock = threading.Lock()
        self._worker_ended = False
        self._worker = threading.Thread(target=self._work, name=thread_name, daemon=True)

    # -- hooks --------------------------------------------------------------------------------------------

    @abstractmethod
    def _children(self) -> Iterable[C]:
        """Every child the worker waits on."""

    @abstractmethod
    def _on_message(self, child: C, message: object) -> None:
        """Anything but a log line (those are written here, under the child's pid)."""

    @abstractmethod
    def _on_exit(self, child: C) -> None:
        """The child is gone: its last messages were read, its pipe is closed, it is joined."""

    @abstractmethod
    def _tick(self) -> float | None:
        """Run due timers; return how long the worker may sleep (None: until something happens)."""

    @abstractmethod
    def _finished(self) -> bool:
        """Checked after each batch of commands: leave the loop now."""

    def _on_end(self) -> None:
        """The loop is over: answer whoever still waits. Commands posted meanwhile run right after."""

    # -- for owners ---------------------------------------------------------------------------------------

    def _start_worker(self) -> None:
        self._worker.start()

    def _post(self, command: Command) -> bool:
        """Queue `command` for the worker; False (and not queued) once the worker has ended."""
        with self._post_lock:
            if self._worker_ended:
                return False
            self._commands.put(command)
            self._wake_w.send_bytes(b"!")
        return True

    def _discard_worker(self) -> None:
        """For an owner whose worker never started: free the wake pipe."""
        with self._post_lock:
            self._worker_ended = True
            self._wake_r.close()
            self._wake_w.close()

    # -- the worker ---------------------------------------------------------------------------------------

    def _work(self) -> None:
        try:
            while True:
                self._run_commands()
                if self._finished():
                    break
                timeout = self._tick()
                objects: dict[Any, tuple[C | None, bool]] = {self._wake_r: (None, False)}
                for child in self._children():
                    if child.conn_open:
                        objects[child.conn] = (child, False)
                    objects[child.process.sentinel] = (child, True)
                for ready in wait(list(objects), timeout=timeout):
                    which, exited = objects[ready]
                    if which is None:
                        while self._wake_r.poll():
                            self._wake_r.recv_bytes()
                    elif not exited:
                        self._receive(which)
                    elif which in self._children():
                        self._reap(which)
        finally:
            self._on_end()
            with self._post_lock:
                self._worker_ended = True
            self._run_commands()  # posted while ending: each answers at once
            self._wake_r.close()
            self._wake_w.close()

    def _run_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                command()
            except Exception:  # a bug in one command must not end the worker
                self._log.exception("%s command failed", self._label)

    def _receive(self, child: C) -> None:
        for message in child.receive():
            if isinstance(message, LogLine):
                relay_record(name=message.logger, level=message.level, text=message.text, pid=child.pid)
            else:
                self._on_message(child, message)

    def _reap(self, child: C) -> None:
        if child.conn_open:
            self._receive(child)
        child.close()
        self._on_exit(child)
