"""The service record: what the running agent's proxy is doing, in `<data>/service.json`, for the CLI to read.

The agent (tray or `serve`) rewrites it atomically on every change of its state: where the proxy really serves
(after a failed port move, still the old address), its state and why, the config error, and the text of the
config in force. So `trayagent status` asks the right port even when config.yaml names another, and `key show`
or `accounts list` use the config the proxy runs while the file on disk is invalid. A record whose agent is
gone (a crash leaves one behind) is ignored. Mode 0600: the config text may hold `proxy.api_key`.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from trayagent.files.atomicfile import write_atomic

RECORD_FILE_NAME = "service.json"


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    agent_pid: int  # the tray agent or `trayagent serve` that supervises the proxy
    state: str  # stopped / starting / running / error (supervision/proxystatus.py)
    reason: str | None  # why: the error, or what a start is doing
    address: str | None  # where a trayagent proxy answers now, or None
    proxy_pid: int | None
    config_path: str
    config_error: str | None  # why config.yaml is not the config in force
    move_error: str | None  # the file's new address could not be taken; `address` is the old one
    config_text: str | None  # the config in force; None: no valid file was ever read (nothing runs)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1).encode()


def record_path(data_dir: Path) -> Path:
    return data_dir / RECORD_FILE_NAME


def write_record(data_dir: Path, record: ServiceRecord) -> None:
    write_atomic(record_path(data_dir), record.to_json(), mode=0o600)


def remove_record(data_dir: Path, agent_pid: int) -> None:
    """Remove the record if it is `agent_pid`'s (a newer agent's record stays)."""
    found = _read(record_path(data_dir))
    if found is not None and found.agent_pid == agent_pid:
        with contextlib.suppress(OSError):
            record_path(data_dir).unlink()


def read_record(data_dir: Path) -> ServiceRecord | None:
    """The record of an agent that is alive now, or None (no agent, a crashed one's leftover, an unreadable file)."""
    found = _read(record_path(data_dir))
    if found is None or not pid_alive(found.agent_pid):
        return None
    return found


def _read(path: Path) -> ServiceRecord | None:
    try:
        data: Any = json.loads(path.read_bytes())
        return ServiceRecord(**data) if isinstance(data, dict) else None
    except (OSError, ValueError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive (and not ours, but a pid is all we have)
    return True
