"""What each row's front end costs by itself: the relay's pure steps timed in process, no sockets, no upstream.

For one row: the body parsed as the relay does (orjson), `Frontend.parse`, then the reply the fake upstream
gives rendered (`merge_chunks` + `render` + orjson) or encoded chunk by chunk (`feed` + `finish`), with the
relay's own ids. Best of several batches, in µs per request: a figure that moves far less than req/s when
other work shares the machine. `make bench` runs it once per proxy source, on the server's CPU, before the load;
alone: `PYTHONPATH=CHECKOUT python scripts/bench_translate.py [ROW…]` prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BATCHES = 5
BATCH_S = 0.1  # each batch runs about this long


def prepared(name: str) -> tuple[Any, Callable[[], Any], list[dict[str, Any]]]:
    """Row `name`'s front end, a closure parsing its body as the relay does (orjson, then `Frontend.parse`) into
    a ClientCall, and the hub chunks the fake upstream answers with. Imports the trayagent on sys.path."""
    import orjson
    from bench_fake import chunk_payloads
    from bench_rows import rows

    from trayagent.proxy.routetable import AI_ROUTES
    from trayagent.translate.hub import ClientTarget
    from trayagent.translate.models import ModelRouter

    row = rows()[name]
    path, _, query_text = row.path.partition("?")
    query = dict(pair.split("=", 1) for pair in query_text.split("&")) if query_text else {}
    params = {"target": path.split("/models/", 1)[1]} if "/models/" in path else {}
    route = next(r for r in AI_ROUTES if r.path == path or ("/models/" in path and r.path.endswith("<target:path>")))
    frontend = route.frontend
    assert frontend is not None, f"{path} has no front end"
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in row.headers)}
    router = ModelRouter()
    target = ClientTarget(path, params, query, headers, lambda model: router.route(model).model)
    raw = row.data()
    return frontend, lambda: frontend.parse(orjson.loads(raw), target), [p["response"] for p in chunk_payloads()]


def one_request(name: str) -> Callable[[], bytes]:
    """A closure doing the pure work of one request of row `name`, giving the reply's body."""
    import orjson

    from trayagent.proxy.relay import IDS
    from trayagent.translate.gemini import merge_chunks

    frontend, parse, chunks = prepared(name)

    def request() -> bytes:
        call = parse()
        if call.stream:
            encoder = frontend.encoder(call, IDS)
            out = [encoder.feed(chunk) for chunk in chunks]
            out.append(encoder.finish())
            return b"".join(out)
        return orjson.dumps(frontend.render(call, merge_chunks(chunks), IDS))

    return request


def time_row(name: str) -> float:
    """Best-of-batches µs per request, once the reply is checked to be the one the load generator wants."""
    from bench_fake import TEXTS
    from bench_replies import check
    from bench_rows import rows

    request = one_request(name)
    why = check(rows()[name].reply, request(), "".join(TEXTS))
    if why is not None:
        raise RuntimeError(f"the {name} front end's reply would not count: {why}")
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < BATCH_S:  # warm-up, and the size of a batch
        request()
        n += 1
    best = float("inf")
    for _ in range(BATCHES):
        t0 = time.perf_counter()
        for _ in range(n):
            request()
        best = min(best, (time.perf_counter() - t0) / n)
    return round(best * 1e6, 1)


def measure(python: str, source: Path, names: list[str], cpu: int | None) -> dict[str, float]:
    """Run this script with `source`'s trayagent (on `cpu` when given); {row: µs} for the rows it could time."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(HERE)])}
    preexec = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    done = subprocess.run(
        [python, str(HERE / "bench_translate.py"), *names],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=preexec,
        timeout=300,
    )
    if done.returncode != 0:
        print(f"bench: timing the front ends of {source} failed: {done.stderr.strip()[-500:]}", flush=True)
        return {}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(names: list[str]) -> None:
    from bench_rows import rows

    results: dict[str, Any] = {}
    for name in names or list(rows()):
        try:
            results[name] = time_row(name)
        except Exception as exc:  # an older checkout may not serve a protocol: leave its row out
            print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
