"""The tray process: composition root, tray icon and menu, icons, autostart, clipboard, opener."""
