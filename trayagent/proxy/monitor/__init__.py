"""The request monitor: the writer thread, monitor.sqlite3, the query parameters, the log row."""
