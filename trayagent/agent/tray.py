"""The tray icon: pystray showing a `TrayState` — picture, tooltip and menu. A view; the agent decides.

pystray picks its backend when first imported (PYSTRAY_BACKEND forces one), so it is imported here,
lazily, and only by the tray process. Updates may come from any thread: the GTK-based backends
marshal them onto their main loop themselves.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from trayagent.agent.iconart import IconState, icon_image
from trayagent.agent.menu import ActionName, MenuEntry, TrayState, menu_entries, tooltip
from trayagent.agent.traybackend import accept_clicks, send_pending, title_for

log = logging.getLogger("trayagent.tray")
gtk_log = logging.getLogger("trayagent.gtk")
GTK_LOG_DOMAINS = ("Gdk", "Gtk", "GLib", "GLib-GObject", "GdkPixbuf", "libappindicator", "dbusmenu-glib")

ICON_SIZE = 64  # backends scale it to the panel; 64 px stays sharp down to 16
Actions = Mapping[ActionName, Callable[[], None]]


def icon_state(state: TrayState) -> IconState:
    if state.proxy.state == "error" or state.config_error:
        return "error"
    return "running" if state.proxy.state == "running" else "stopped"


def route_gtk_logs() -> None:
    """GTK's own warnings (a `Gdk-CRITICAL` at start with the AppIndicator backend) go to our log, not to the
    user's terminal: they are GTK internals nobody can act on. A no-op unless pystray loaded GTK."""
    if "gi.repository.GLib" not in sys.modules:
        return
    from gi.repository import GLib

    def handler(domain: str | None, level: int, message: str, *_data: Any) -> None:
        gtk_log.info("%s: %s", domain or "GLib", message)

    flags = GLib.LogLevelFlags
    levels = flags.LEVEL_CRITICAL | flags.LEVEL_WARNING | flags.LEVEL_MESSAGE | flags.LEVEL_INFO | flags.LEVEL_DEBUG
    for domain in GTK_LOG_DOMAINS:
        GLib.log_set_handler(domain, levels, handler, None)


def to_pystray_menu(entries: tuple[MenuEntry, ...], actions: Actions) -> Any:
    """pystray items for `entries`; an item's click calls `actions[entry.action]` with no arguments."""
    import pystray

    items: list[Any] = []
    for entry in entries:
        if entry.separator:
            items.append(pystray.Menu.SEPARATOR)
            continue
        callback = actions.get(entry.action) if entry.action else None
        checked = entry.checked
        items.append(
            pystray.MenuItem(
                entry.text,
                _click(callback) if callback else None,
                enabled=entry.enabled,
                default=entry.default,
                checked=None if checked is None else (lambda _item, value=checked: value),
            )
        )
    return pystray.Menu(*items)


def _click(callback: Callable[[], None]) -> Callable[[Any, Any], None]:
    def on_click(_icon: Any, _item: Any) -> None:
        callback()

    return on_click


class TrayIcon:
    def __init__(self, state: TrayState, actions: Actions) -> None:
        import pystray

        route_gtk_logs()
        self._actions = actions
        self._state = state
        self._picture: IconState = icon_state(state)
        self._lock = threading.Lock()
        self.backend: str = pystray.Icon.__module__.rsplit("_", 1)[-1]  # pystray._gtk → gtk
        self.icon = pystray.Icon(
            "trayagent",
            icon_image(self._picture, ICON_SIZE),
            title_for(self.backend, tooltip(state)),
            to_pystray_menu(menu_entries(state), actions),
        )
        accept_clicks(self.icon)
        self._tooltip: str | None = None
        self._set_tooltip(tooltip(state))

    @property
    def has_menu(self) -> bool:
        return bool(getattr(self.icon, "HAS_MENU", True))

    def show(self, state: TrayState) -> None:
        """Bring picture, tooltip and menu up to date with `state` (from any thread)."""
        with self._lock:
            old, self._state = self._state, state
            picture = icon_state(state)
            try:
                if picture != self._picture:
                    self._picture = picture
                    self.icon.icon = icon_image(picture, ICON_SIZE)
                self.icon.title = title_for(self.backend, tooltip(state))
                self._set_tooltip(tooltip(state))
                if menu_entries(state) != menu_entries(old):
                    self.icon.menu = to_pystray_menu(menu_entries(state), self._actions)
                send_pending(self.icon)
            except NotImplementedError:
                pass  # the dummy backend (tests) draws nothing

    def _set_tooltip(self, text: str) -> None:
        """pystray's GTK backend sets only the status icon's title, which no tray shows: the tooltip is ours.
        (AppIndicator has no tooltip call; X11 trays show none.)"""
        status_icon = getattr(self.icon, "_status_icon", None)
        if status_icon is not None and text != self._tooltip:
            from gi.repository import GLib

            self._tooltip = text

            def apply() -> bool:
                status_icon.set_property("tooltip-text", text)
                return False  # once

            GLib.idle_add(apply)  # GTK calls belong on its main loop

    def notify(self, message: str, title: str = "trayagent") -> None:
        """Best effort: backends without notifications, or with no notification daemon, show nothing."""
        if not getattr(self.icon, "HAS_NOTIFICATION", False):
            return
        try:
            self.icon.notify(message, title)
        except Exception as exc:
            log.debug("notification not shown: %s", exc)

    def run(self, setup: Callable[[], None]) -> None:
        """Own the calling (main) thread until `stop()`; `setup` runs in a thread once the loop is up."""

        def on_ready(icon: Any) -> None:
            icon.visible = True
            setup()

        try:
            self.icon.run(setup=on_ready)
        except Exception as exc:
            # gtk/appindicator raise from their D-Bus notifier cleanup after stop(); nothing is lost.
            log.debug("tray loop ended with %r", exc)

    def stop(self) -> None:
        self.icon.stop()
        send_pending(self.icon)
