"""The config watcher: notices every save of config.yaml and hands over a parsed snapshot, or the error.

It watches the file's *directory*, filtered to the file's name, because editors that save by atomic
rename (VS Code) or by a backup dance (vim) replace the file's inode and a watch on the file itself
dies. Every event means "re-read": the content hash decides whether anything changed. watchfiles'
timeout doubles as a cheap stat check, which also covers filesystems that deliver no events.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import watchfiles

from trayagent.config import Config, parse_config_text
from trayagent.errors import ConfigError

log = logging.getLogger("trayagent.watcher")

MISSING = "missing"


@dataclass(frozen=True, slots=True)
class ConfigSnapshot:
    """A valid config with the exact text it came from (the proxy child re-parses the text)."""

    config: Config
    text: str
    digest: str


ConfigEvent = ConfigSnapshot | ConfigError


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_snapshot(path: Path) -> ConfigSnapshot:
    """Read and validate `path`. Raises ConfigError (missing, unreadable, invalid)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(["file not found"], str(path)) from None
    except OSError as exc:
        raise ConfigError([f"cannot read the file: {exc}"], str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([f"not UTF-8 text: {exc}"], str(path)) from None
    return ConfigSnapshot(parse_config_text(text, path), text, digest_of(data))


class ConfigWatcher:
    def __init__(
        self,
        path: Path,
        on_change: Callable[[ConfigEvent], None],
        *,
        initial_digest: str | None = None,
        check_interval_ms: int = 500,
        missing_grace: float = 0.3,
    ) -> None:
        self.path = path
        self._on_change = on_change
        self._digest = initial_digest
        self._stat: tuple[int, int, int] | None = self._stat_of()
        self._check_interval_ms = check_interval_ms
        self._missing_grace = missing_grace
        self._stop = threading.Event()
        self.ready = threading.Event()  # set once the OS watch is in place
        self._thread = threading.Thread(target=self._run, name="config-watcher", daemon=True)

    def start(self) -> ConfigWatcher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        names = {self.path.name}
        dirs = {self.path.parent}
        if self.path.is_symlink():  # dotfile managers: follow edits to the link's target as well
            target = self.path.resolve()
            names.add(target.name)
            dirs.add(target.parent)
        try:
            for changes in watchfiles.watch(
                *sorted(dirs),
                watch_filter=lambda _change, p: Path(p).name in names,
                stop_event=self._stop,
                recursive=False,
                step=50,
                rust_timeout=self._check_interval_ms,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                if not self.ready.is_set():
                    self.ready.set()
                    self.check(force=True)  # anything saved before the watch was in place
                else:
                    self.check(force=bool(changes))
        except (OSError, RuntimeError) as exc:
            # The directory vanished or cannot be watched: fall back to plain polling.
            log.warning("cannot watch %s (%s); checking it every second instead", self.path.parent, exc)
            self.ready.set()
            while not self._stop.wait(1.0):
                self.check(force=False)

    def _stat_of(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _settled(self, stat: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        """Wait until the file stops changing (two looks 50 ms apart agree), at most about a second."""
        for _ in range(20):
            if self._stop.wait(0.05):
                break
            again = self._stat_of()
            if again == stat:
                break
            stat = again
        return stat

    def check(self, *, force: bool) -> None:
        """Re-read the file if it may have changed; report a new snapshot or a new error."""
        stat = self._stat_of()
        if not force and stat == self._stat:
            return
        stat = self._settled(stat)
        if stat is not None and stat[1] == 0:
            # An in-place save truncates first: an empty file is usually half a save. Look again.
            if self._stop.wait(self._missing_grace):
                return
            stat = self._settled(self._stat_of())
        self._stat = stat
        if stat is None:
            # Mid-save (vim renames the file away first) or deleted: look again before complaining.
            if self._stop.wait(self._missing_grace):
                return
            stat = self._stat = self._stat_of()
            if stat is None:
                if self._digest != MISSING:
                    self._digest = MISSING
                    self._report(ConfigError(["the file is missing (deleted?)"], str(self.path)))
                return
        try:
            data = self.path.read_bytes()
        except OSError:
            self._stat = None  # try again on the next tick
            return
        digest = digest_of(data)
        if digest == self._digest:
            return
        self._digest = digest
        try:
            text = data.decode("utf-8")
            event: ConfigEvent = ConfigSnapshot(parse_config_text(text, self.path), text, digest)
        except UnicodeDecodeError as exc:
            event = ConfigError([f"not UTF-8 text: {exc}"], str(self.path))
        except ConfigError as exc:
            event = exc
        self._report(event)

    def _report(self, event: ConfigEvent) -> None:
        try:
            self._on_change(event)
        except Exception:
            log.exception("applying a config change failed")
