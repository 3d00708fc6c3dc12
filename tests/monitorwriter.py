"""A process that does nothing but feed a request monitor as fast as it can, for the crash test.

    python -m tests.monitorwriter DIR

Prints "ready" once the monitor file is open, then records exchanges (with bodies, so each batch is a
long transaction) until it is killed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from trayagent.config import MonitorSettings
from trayagent.proxy.exchange import Exchange
from trayagent.proxy.monitor.writer import FILE_NAME, Monitor


def main(directory: str) -> None:
    settings = MonitorSettings(enabled=True, log_bodies=True)
    monitor = Monitor(Path(directory) / FILE_NAME, lambda: settings, flush_s=0.01, batch_rows=400)
    monitor.start()
    print("ready", flush=True)
    body = b'{"text": "' + b"lorem ipsum " * 400 + b'"}'
    n = 0
    while True:
        n += 1
        exchange = Exchange("openai", "/v1/chat/completions", f"model-{n % 3}", stream=n % 2 == 0)
        exchange.account = f"account-{n % 4}"
        exchange.usage = {"promptTokenCount": 10, "candidatesTokenCount": n % 7}
        exchange.request_body = exchange.response_body = body
        exchange.close(200 if n % 5 else 503, None if n % 5 else "upstream failed")
        monitor.record(exchange)
        if n % 200 == 0:
            monitor.drain(5)  # keep the queue from dropping: every row should reach a transaction


if __name__ == "__main__":
    main(sys.argv[1])
