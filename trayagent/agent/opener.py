"""Opening a file or folder with the desktop's own programs: the config file in an editor, a folder in the file manager.

Launches detach at once (the tray's GUI thread must never wait on them); the child is reaped in the
background so no zombie is left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path


class OpenFailed(Exception):
    """No program could be started to open the path; the message says what to do instead."""


def open_command(path: Path, *, edit: bool, platform: str = sys.platform) -> list[str]:
    """The command that opens `path` (pure: which program, not whether it exists)."""
    if platform == "darwin":
        return ["open", "-t", str(path)] if edit else ["open", str(path)]
    # xdg-open hands a file to the user's preferred application for its type (an editor for YAML)
    # and a folder to the file manager.
    return ["xdg-open", str(path)]


def open_path(path: Path, *, edit: bool = False, platform: str = sys.platform) -> None:
    if platform == "win32":
        _open_on_windows(path, edit)
        return
    command = open_command(path, edit=edit, platform=platform)
    if shutil.which(command[0]) is None:
        raise OpenFailed(f"{command[0]} is not installed; the path is {path}")
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise OpenFailed(f"{command[0]} failed ({exc}); the path is {path}") from None
    threading.Thread(target=process.wait, name="opener-reaper", daemon=True).start()


def _open_on_windows(path: Path, edit: bool) -> None:
    starter = getattr(os, "startfile", None)
    if starter is None:
        raise OpenFailed(f"cannot open files here; the path is {path}")
    try:
        # .yaml usually has no "edit" verb registered; Notepad is always there.
        if edit:
            subprocess.Popen(["notepad.exe", str(path)])
        else:
            starter(str(path))
    except OSError as exc:
        raise OpenFailed(f"could not open {path}: {exc}") from None
