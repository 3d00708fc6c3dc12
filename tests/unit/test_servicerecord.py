"""The service record the agent writes for the CLI, and the window's local page: pure enough to test alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from trayagent.supervision.servicerecord import ServiceRecord, read_record, record_path, remove_record, write_record
from trayagent.window.statuswindow import NotServing, local_page

NO_SUCH_PID = 2**22 + 1  # above Linux's largest pid_max: never a live process


def record(pid: int) -> ServiceRecord:
    return ServiceRecord(
        agent_pid=pid,
        state="error",
        reason="could not move to http://127.0.0.1:9000: port 9000 is already in use on 127.0.0.1",
        address="http://127.0.0.1:8045",
        proxy_pid=None,
        config_path="/home/me/config.yaml",
        config_error=None,
        move_error="could not move to http://127.0.0.1:9000: port 9000 is already in use on 127.0.0.1",
        config_text="proxy:\n  api_key: sk-pinned\n",
    )


def test_a_record_is_private_and_read_back_while_its_agent_lives(tmp_path: Path) -> None:
    write_record(tmp_path, record(os.getpid()))
    assert stat.S_IMODE(record_path(tmp_path).stat().st_mode) == 0o600  # it may hold proxy.api_key
    assert read_record(tmp_path) == record(os.getpid())
    remove_record(tmp_path, os.getpid() + 1)  # not that agent's: kept
    assert read_record(tmp_path) is not None
    remove_record(tmp_path, os.getpid())
    assert read_record(tmp_path) is None and not record_path(tmp_path).exists()


def test_a_crashed_agents_record_and_a_damaged_one_are_ignored(tmp_path: Path) -> None:
    write_record(tmp_path, record(NO_SUCH_PID))
    assert read_record(tmp_path) is None
    record_path(tmp_path).write_text("{not json")
    assert read_record(tmp_path) is None
    record_path(tmp_path).write_text('{"agent_pid": 1}')  # another version's fields
    assert read_record(tmp_path) is None


def test_the_windows_local_page_says_it_all_escaped() -> None:
    page = local_page(NotServing("The proxy is not running", ('config.yaml has an error: got "<b>"', "x & y"), True))
    assert "The proxy is not running" in page
    assert "<p>config.yaml has an error: got &quot;&lt;b&gt;&quot;</p>" in page and "<p>x &amp; y</p>" in page
    assert "#cf222e" in page  # red: something is wrong
    assert "#cf222e" not in local_page(NotServing("The proxy is stopped", ("Start it from the tray icon.",)))
