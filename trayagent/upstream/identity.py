"""The client identity sent to Cloud Code: a User-Agent in the form the Antigravity client uses.

Google rejects identities it considers stale ("This version of Antigravity is no longer supported"),
so the version is a constant here and the whole string can be replaced with `upstream.user_agent`.
"""

from __future__ import annotations

import platform
import sys

CLIENT_VERSION = "1.23.2"

_OS = {"darwin": "darwin", "win32": "windows", "linux": "linux"}
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def default_user_agent(system: str = sys.platform, machine: str | None = None) -> str:
    machine = (machine if machine is not None else platform.machine()).lower()
    os_name = _OS.get(system, "linux")
    arch = _ARCH.get(machine, machine or "amd64")
    return f"antigravity/{CLIENT_VERSION} {os_name}/{arch}"


def user_agent(configured: str | None) -> str:
    return configured or default_user_agent()
