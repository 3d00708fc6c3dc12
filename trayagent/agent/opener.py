"""Opening with the desktop's own programs: the config file in an editor, a folder in the file manager, a link
in the user's browser.

Launches detach at once (the tray's GUI thread and the proxy's event loop must never wait on them); the child
is reaped in the background so no zombie is left. A browser that exits with an error straight away (it could
not start: no display, a sandbox refusing root, a broken BROWSER) is noticed and its reason reported.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading
import webbrowser
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

BROWSER_WATCH_S = 10.0  # a browser failing within this long is reported; after it, its exit is its own business
_TAIL = 4096  # how much of a failing browser's stderr is kept, for its last line


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


def can_open_browser(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> bool:
    """Whether a graphical browser can open here. Without a display Python's webbrowser falls back to a
    console browser, which would take over the terminal of `trayagent serve`."""
    if platform in ("darwin", "win32") or environ.get("BROWSER"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def browser_command(
    url: str, environ: Mapping[str, str] = os.environ, platform: str = sys.platform
) -> list[str] | None:
    """The command that opens `url`, as Python's webbrowser reads BROWSER (a list split like PATH; `%s` is the
    link, else it is appended; a trailing `&` is ignored), else the desktop's opener. None: only webbrowser
    can tell (Windows, or a Unix without xdg-open). OpenFailed: BROWSER is set and names nothing runnable
    (falling back to xdg-open then could start a console browser, or the wrong one)."""
    setting = environ.get("BROWSER", "")
    for entry in setting.split(os.pathsep):
        try:
            parts = shlex.split(entry)
        except ValueError:
            continue
        if parts and parts[-1] == "&":
            parts.pop()
        if not parts or shutil.which(parts[0]) is None:
            continue
        if any("%s" in part for part in parts):
            return [part.replace("%s", url) for part in parts]
        return [*parts, url]
    if setting.strip():
        raise OpenFailed(f"BROWSER is set to {setting!r}, which names no program that can run here")
    if platform == "darwin":
        return ["open", url]
    if platform != "win32" and shutil.which("xdg-open"):
        return ["xdg-open", url]
    return None


def open_url(
    url: str,
    *,
    on_early_exit: Callable[[str], None] | None = None,
    environ: Mapping[str, str] = os.environ,
    platform: str = sys.platform,
    watch_s: float = BROWSER_WATCH_S,
) -> None:
    """Start the user's browser on `url` and return. OpenFailed when nothing could be started.

    A browser process that exits with an error within `watch_s` calls `on_early_exit(reason)` from a
    background thread (`reason` names the program, its status and its last words on stderr)."""
    command = browser_command(url, environ, platform)  # OpenFailed: a BROWSER that cannot run
    if command is None:
        if not webbrowser.open(url):  # Windows: the registered handler; elsewhere Python's own search
            raise OpenFailed("no browser could be started here")
        return
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise OpenFailed(f"the browser ({command[0]}) could not be started: {exc.strerror or exc}") from None
    tail = bytearray()
    assert process.stderr is not None
    drainer = threading.Thread(target=_drain, args=(process.stderr, tail), name="browser-stderr", daemon=True)
    drainer.start()
    threading.Thread(
        target=_watch,
        args=(process, command[0], (drainer, tail), watch_s, on_early_exit),
        name="browser-reaper",
        daemon=True,
    ).start()


def _drain(stream: Any, tail: bytearray) -> None:
    """Read the browser's stderr for as long as it lives (a full pipe would block it), keeping the end."""
    with stream:
        for chunk in iter(lambda: stream.read1(1024), b""):
            tail += chunk
            del tail[:-_TAIL]


def _watch(
    process: subprocess.Popen[bytes],
    program: str,
    stderr: tuple[threading.Thread, bytearray],
    watch_s: float,
    on_early_exit: Callable[[str], None] | None,
) -> None:
    try:
        status = process.wait(watch_s)
    except subprocess.TimeoutExpired:
        process.wait()  # still running: it is the browser itself; reap it whenever it ends
        return
    if status == 0 or on_early_exit is None:
        return  # handed the link to a browser already running (xdg-open, open) and left
    drainer, tail = stderr
    drainer.join(1.0)  # its last words (a child it left behind may keep the pipe open: do not wait for that)
    words = [line for line in bytes(tail).decode(errors="replace").splitlines() if line.strip()]
    how = f"was killed by signal {-status}" if status < 0 else f"exited at once with status {status}"
    reason = f"the browser ({os.path.basename(program)}) {how}"
    last = words[-1].strip().rstrip(".")[:200] if words else ""
    on_early_exit(f"{reason}: {last}" if last else reason)
