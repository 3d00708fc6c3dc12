"""The pystray backend: which one shows the icon, and the gaps in each that trayagent fills.

pystray tries AppIndicator, then a GTK status icon, then plain X11. Where the desktop has an XEmbed tray
and no StatusNotifierItem host, AppIndicator falls back to an XEmbed icon of its own, which shows no
tooltip (the library has no tooltip call); pystray's GTK backend gives the same icon in the same tray,
with a tooltip. So there the GTK backend is chosen. A PYSTRAY_BACKEND set by the user always wins.
The plain X11 backend (what is left without PyGObject) stores the title as a Latin-1 window name, where
other characters raise, and never asks X for button presses, so its "click runs the default item" never
happens (pystray issue #151): `accept_clicks` asks for them. And a change made from another thread can
stay unsent (a new picture never drawn, a stop whose DestroyWindow never leaves, the loop then waiting
forever): `send_pending` sends it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

log = logging.getLogger("trayagent.tray")

SNI_WATCHER = "org.kde.StatusNotifierWatcher"
_PROBE_TIMEOUT_MS = 1000
# Typographic characters our titles use, in Latin-1 terms; anything else Latin-1 lacks becomes "?".
_LATIN1 = str.maketrans({"—": "-", "–": "-", "…": "...", "‘": "'", "’": "'", "“": '"', "”": '"', "→": "->"})


def title_for(backend: str, text: str) -> str:
    """`text` as the backend can store it: the X11 backend's window name is Latin-1 only."""
    if backend != "xorg":
        return text
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def accept_clicks(icon: Any) -> None:
    """Make a plain X11 icon's window receive button presses (pystray selects only exposure and structure
    events). Called before the icon's loop runs; other backends are left alone."""
    window, display = getattr(icon, "_window", None), getattr(icon, "_display", None)
    if window is None or display is None or not type(icon).__module__.endswith("_xorg"):
        return
    from Xlib import X

    window.change_attributes(event_mask=X.ExposureMask | X.StructureNotifyMask | X.ButtonPressMask)
    display.flush()


def send_pending(icon: Any) -> None:
    """Send what the plain X11 icon still has queued, after a change (`icon.icon = …`, `stop()`) returned.

    pystray runs each change on the loop's thread, which flushes there; python-xlib returns from a flush
    at once while another thread is sending (the calling thread, which just flushed its request to the
    loop), so the change's own requests can stay queued while the loop waits on the socket."""
    display = getattr(icon, "_display", None)
    if display is not None and type(icon).__module__.endswith("_xorg"):
        try:
            display.flush()
        except Exception as exc:  # the connection is closed: the loop has ended anyway
            log.debug("X flush: %s", exc)


def choose_backend(environ: MutableMapping[str, str], platform: str = sys.platform) -> str | None:
    """Set PYSTRAY_BACKEND=gtk in `environ` (before pystray is imported) where GTK does better; the choice."""
    if not platform.startswith("linux") or environ.get("PYSTRAY_BACKEND"):
        return None
    if prefers_gtk(environ):
        environ["PYSTRAY_BACKEND"] = "gtk"
        return "gtk"
    return None


def prefers_gtk(environ: Mapping[str, str]) -> bool:
    """An XEmbed tray on the display, no StatusNotifierItem watcher on the session bus, and GTK here."""
    display, bus = environ.get("DISPLAY"), environ.get("DBUS_SESSION_BUS_ADDRESS")
    if not display or not bus:
        return False  # no session bus: asking for one would make GLib start dbus-launch
    if not _has_xembed_tray(display):
        return False  # no tray yet (the panel may come later): AppIndicator follows whichever appears
    watcher = _name_has_owner(SNI_WATCHER)
    return watcher is False


def _has_xembed_tray(display_name: str) -> bool:
    try:
        import Xlib.display
        from Xlib import X

        display = Xlib.display.Display(display_name)
    except Exception as exc:  # no python-xlib, or the display refuses us: keep pystray's own order
        log.debug("cannot look for an XEmbed tray: %s", exc)
        return False
    try:
        atom = display.intern_atom(f"_NET_SYSTEM_TRAY_S{display.get_default_screen()}")
        return bool(display.get_selection_owner(atom) != X.NONE)
    finally:
        display.close()


def _name_has_owner(name: str) -> bool | None:
    """Whether a D-Bus name has an owner on the session bus; None when that cannot be asked (no PyGObject)."""
    try:
        import gi

        gi.require_version("Gio", "2.0")
        from gi.repository import Gio, GLib

        bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
        reply = bus.call_sync(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "NameHasOwner",
            GLib.Variant("(s)", (name,)),
            GLib.VariantType("(b)"),
            Gio.DBusCallFlags.NONE,
            _PROBE_TIMEOUT_MS,
            None,
        )
    except Exception as exc:
        log.debug("cannot ask the session bus about %s: %s", name, exc)
        return None
    return bool(reply.unpack()[0])
