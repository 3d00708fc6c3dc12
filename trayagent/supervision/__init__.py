"""`serve`: the proxy service and supervisor, restart policy, config watcher, the child-process link."""
