"""What a spawned child and its parent say over their pipe, as typed values (picklable for spawn).

Up, from a child: `Ready`, `Failed`, `LogLine` (the proxy child and the status window both send them).
Down, to the proxy child: `Stop`, `Reconfigure`, `ConfigProblem`, `MoveProblem`; the status window gets `Stop` too.
The window's own page messages live beside its page (window/windowchild.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ready:
    """The child is up: the proxy listens on host:port, the window is on screen."""

    pid: int
    host: str | None = None
    port: int | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """The child could not start, in its own words (a busy port, no display); it exits next."""

    reason: str


@dataclass(frozen=True, slots=True)
class LogLine:
    """A record the child formatted, for the parent (which owns the terminal and the log file) to write."""

    level: int
    logger: str
    text: str


@dataclass(frozen=True, slots=True)
class Stop:
    """Finish what is in flight within `grace` seconds, then exit (the parent escalates after that)."""

    grace: float


@dataclass(frozen=True, slots=True)
class Reconfigure:
    """A new config.yaml for the running proxy: the text and its file, the reported error, the log level."""

    config_text: str
    config_source: str | None
    config_error: str | None
    log_level: str


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """Why the file on disk is not the config in force (None: it is again); shown by `/api/status`."""

    error: str | None


@dataclass(frozen=True, slots=True)
class MoveProblem:
    """The proxy could not move to the file's new address (another program holds the port): this child keeps
    serving the config from before, and `/api/status` says why. Cleared by the next `Reconfigure`."""

    error: str
