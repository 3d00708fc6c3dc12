"""Python's garbage collector as the proxy child sets it once it is ready to serve.

Everything loaded by then (Sanic, aiohttp, the app) lives as long as the process: frozen, it is kept out of the
collector's sight, and a full collection no longer walks it, which took a few ms every few thousand requests
(bench: p99 30 → 13 ms at 32 clients, ~8% more req/s).

A young collection comes after 10,000 net new objects, not 700: a request's objects die by reference count, so
the count climbs only with the requests in flight and with garbage cycles. At 32 clients the collector ran every
dozen requests or so (~0.1 ms each: ~10 µs per request, more with the translated streams' objects); now only once
cycles pile up (bench A/B: translated streams 4-5% more req/s, Gemini-native ~3%).
"""

from __future__ import annotations

import gc

THRESHOLDS = (10_000, 10, 10)  # young objects, then young and middle collections, before the next generation's


def settle_heap() -> None:
    """Collect what start-up left over, freeze the rest, and set the serving thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
