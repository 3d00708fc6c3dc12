"""The status window: the parent side, the spawned pywebview child, and its signed-in link."""
