"""accounts.json under stress: a writer killed mid-write, several processes writing at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.serverproc import REPO
from trayagent.accounts.record import ModelQuota, new_account
from trayagent.accounts.store import AccountStore

pytestmark = pytest.mark.timeout(60)
ROUNDS = 15

_WRITER = """
import sys, time
from dataclasses import replace
from pathlib import Path
from trayagent.accounts.record import ModelQuota, new_account
from trayagent.accounts.store import AccountStore

store = AccountStore(Path(sys.argv[1]))
tag = sys.argv[2]
count = int(sys.argv[3])
# A big quota map makes each write large enough to be caught half-way.
quota = {f"gemini-model-{i}": ModelQuota(0.5, time.time()) for i in range(400)}
for i in range(count):
    store.upsert(replace(new_account(f"{tag}-{i % 5}@example.com", time.time()), quota=quota))
    store.modify(store.find(f"{tag}-{i % 5}@example.com").id, lambda a: replace(a, name=f"{tag} round {i}"))
print("done", flush=True)
"""


def _writer(data_dir: Path, tag: str, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(data_dir), tag, str(count)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_writer_killed_mid_write_leaves_a_valid_file(tmp_path: Path):
    store = AccountStore(tmp_path)
    store.upsert(new_account("first@example.com", time.time()))
    for delay in (0.15, 0.3, 0.45, 0.6):
        writer = _writer(tmp_path, "k", 10_000)
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=10)
        accounts = store.load()  # raises if the file were half written
        assert accounts[0].email == "first@example.com"
        assert json.loads(store.path.read_text())["schema"] == 1
    # Leftover temp files of killed writers never shadow the real file.
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("accounts.json")] == ["accounts.json"]


def test_processes_writing_at_once_lose_nothing(tmp_path: Path):
    writers = [_writer(tmp_path, tag, ROUNDS) for tag in ("a", "b", "c")]
    outputs = [w.communicate(timeout=50) for w in writers]

    assert [w.returncode for w in writers] == [0, 0, 0], outputs
    accounts = AccountStore(tmp_path).load()
    assert sorted(a.email for a in accounts) == sorted(f"{t}-{i}@example.com" for t in "abc" for i in range(5))
    # Every process's last change to each of its records survived the others' writes.
    last = {f"{t}-{i}@example.com": f"{t} round {ROUNDS - 5 + i}" for t in "abc" for i in range(5)}
    assert {a.email: a.name for a in accounts} == last
    assert all(
        len(a.quota) == 400 and a.quota["gemini-model-1"] == ModelQuota(0.5, a.quota["gemini-model-1"].reset_at)
        for a in accounts
    )


def test_file_is_private(tmp_path: Path):
    store = AccountStore(tmp_path)
    store.upsert(new_account("x@example.com", time.time()))
    assert oct(os.stat(store.path).st_mode & 0o777) == "0o600"
