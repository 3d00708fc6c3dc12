"""The config watcher with real saves in a temp dir: in place, atomic rename, vim backup dance, bad files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.polling import eventually
from trayagent.errors import ConfigError
from trayagent.supervision.watcher import ConfigEvent, ConfigSnapshot, ConfigWatcher, read_snapshot

pytestmark = pytest.mark.timeout(30)


class Watched:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.events: list[ConfigEvent] = []
        path.write_text("proxy:\n  port: 9001\n")
        self.watcher = ConfigWatcher(path, self.events.append, initial_digest=read_snapshot(path).digest)

    def next_event(self, count: int, timeout: float = 10) -> ConfigEvent:
        assert eventually(lambda: len(self.events) >= count, timeout), f"no event {count}: {self.events}"
        return self.events[count - 1]

    def port(self, event: ConfigEvent) -> int:
        assert isinstance(event, ConfigSnapshot), event
        return event.config.proxy.port


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Watched]:
    w = Watched(tmp_path / "config.yaml")
    w.watcher.start()
    assert w.watcher.ready.wait(10)
    yield w
    w.watcher.stop()


def test_in_place_write(watched: Watched) -> None:
    with open(watched.path, "w") as f:
        f.write("proxy:\n  port: 9002\n")
    assert watched.port(watched.next_event(1)) == 9002


def test_atomic_rename_save(watched: Watched) -> None:
    tmp = watched.path.with_name(".config.yaml.swp-tmp")
    tmp.write_text("proxy:\n  port: 9003\n")
    os.replace(tmp, watched.path)
    assert watched.port(watched.next_event(1)) == 9003
    tmp.write_text("proxy:\n  port: 9004\n")  # the watch survives the replaced inode
    os.replace(tmp, watched.path)
    assert watched.port(watched.next_event(2)) == 9004


def test_vim_backup_dance(watched: Watched) -> None:
    probe = watched.path.with_name("4913")
    probe.write_text("")
    probe.unlink()
    backup = watched.path.with_name("config.yaml~")
    os.rename(watched.path, backup)
    watched.path.write_text("proxy:\n  port: 9005\n")
    backup.unlink()
    assert watched.port(watched.next_event(1)) == 9005
    watched.path.write_text("proxy:\n  port: 9011\n")  # a later save: the next event, if nothing came between
    assert watched.port(watched.next_event(2)) == 9011
    assert len(watched.events) == 2  # one save, one reload; no "missing" blip


def test_invalid_yaml_is_reported_with_its_line_and_a_fix_is_picked_up(watched: Watched) -> None:
    watched.path.write_text("proxy:\n  port: 9006\n  auth_mode: [\n")
    error = watched.next_event(1)
    assert isinstance(error, ConfigError)
    assert "not valid YAML (line" in str(error)
    watched.path.write_text('proxy:\n  port: "80a"\n')
    error = watched.next_event(2)
    assert isinstance(error, ConfigError)
    assert 'proxy.port (line 2): expected an integer 1-65535, got "80a"' in str(error)
    watched.path.write_text("proxy:\n  port: 9007\n")
    assert watched.port(watched.next_event(3)) == 9007


def test_unchanged_content_is_no_event(watched: Watched) -> None:
    watched.path.write_text("proxy:\n  port: 9001\n")  # same bytes as before
    watched.path.write_text("proxy:\n  port: 9008\n")
    assert watched.port(watched.next_event(1)) == 9008
    watched.path.write_text("proxy:\n  port: 9012\n")  # a later save: the next event, if nothing came between
    assert watched.port(watched.next_event(2)) == 9012
    assert len(watched.events) == 2


def test_a_deleted_file_is_an_error_until_it_comes_back(watched: Watched) -> None:
    watched.path.unlink()
    error = watched.next_event(1)
    assert isinstance(error, ConfigError) and "missing" in str(error)
    watched.path.write_text("proxy:\n  port: 9009\n")
    assert watched.port(watched.next_event(2)) == 9009


def test_a_save_before_the_watch_is_armed_is_not_lost(tmp_path: Path) -> None:
    w = Watched(tmp_path / "config.yaml")
    w.path.write_text("proxy:\n  port: 9010\n")  # changed after the digest was taken, before start()
    w.watcher.start()
    try:
        assert w.port(w.next_event(1)) == 9010
    finally:
        w.watcher.stop()
