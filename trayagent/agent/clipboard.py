"""Copying text to the system clipboard, for `trayagent key copy` and the tray's "Copy API key".

On Linux the X11/Wayland helpers (xclip, xsel, wl-copy) must stay alive to own the selection; they
are started detached from our stdout/stderr so a caller reading our output is never held open.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


class ClipboardUnavailable(Exception):
    """No clipboard can be reached from here (no display, no helper installed)."""


def _linux_command() -> list[str]:
    if os.environ.get("WAYLAND_DISPLAY") and shutil.which("wl-copy"):
        return ["wl-copy"]
    if os.environ.get("DISPLAY"):
        if shutil.which("xclip"):
            return ["xclip", "-selection", "clipboard"]
        if shutil.which("xsel"):
            return ["xsel", "--clipboard", "--input"]
        raise ClipboardUnavailable("install xclip, xsel or wl-clipboard to use the clipboard")
    raise ClipboardUnavailable("no graphical display")


def copy_text(text: str, platform: str = sys.platform) -> None:
    if platform.startswith("linux"):
        command = _linux_command()
        try:
            subprocess.run(
                command,
                input=text.encode(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                check=True,
                timeout=10,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ClipboardUnavailable(f"{command[0]} failed: {exc}") from None
        return
    import pyperclip

    try:
        pyperclip.copy(text)
    except pyperclip.PyperclipException as exc:
        raise ClipboardUnavailable(str(exc).splitlines()[0] if str(exc) else "no clipboard") from None
