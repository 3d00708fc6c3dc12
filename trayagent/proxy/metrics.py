"""`/metrics`: Prometheus counters and histograms fed by finished exchanges, gauges read at scrape time.

One `CollectorRegistry` per app (never the library's global one), so two apps in one test process count
apart. `observe` is an Exchange observer like the monitor: a few in-memory increments, no I/O.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from trayagent.proxy.exchange import Exchange

if TYPE_CHECKING:
    from trayagent.proxy.context import ProxyContext

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_MODEL_LABELS = 100  # model names come from clients: past this many, the rest count as "other"
_DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
_TTFB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0)
ACCOUNT_STATES = ("ok", "disabled", "needs_verification")
TOKEN_KINDS = ("input", "output", "cached", "thinking")


class Metrics:
    def __init__(self, ctx: ProxyContext, now: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "trayagent_requests",
            "AI requests answered, by client protocol, model and HTTP status",
            ["protocol", "model", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "trayagent_request_duration_seconds",
            "Time from a request's arrival to its last byte",
            ["protocol"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.first_byte = Histogram(
            "trayagent_time_to_first_byte_seconds",
            "Time from a request's arrival to the first byte of its reply",
            ["protocol"],
            buckets=_TTFB_BUCKETS,
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "trayagent_upstream_errors",
            "Failed calls to Google, by failure class (quota, rate, capacity, auth, ...)",
            ["kind"],
            registry=self.registry,
        )
        self.tokens = Counter(
            "trayagent_tokens", "Tokens reported by Google, by kind", ["kind"], registry=self.registry
        )
        for kind in TOKEN_KINDS:
            self.tokens.labels(kind)  # present at 0 from the start, so rate() works from the first scrape
        self.registry.register(_LiveGauges(ctx, now))
        self._models: set[str] = set()
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def observe(self, exchange: Exchange) -> None:
        protocol = exchange.protocol
        self._child(self.requests, (protocol, self._model_label(exchange), str(exchange.status))).inc()
        if exchange.duration_s is not None:
            self._child(self.duration, (protocol,)).observe(exchange.duration_s)
        if exchange.first_byte_s is not None:
            self._child(self.first_byte, (protocol,)).observe(exchange.first_byte_s)
        if exchange.upstream_failures:
            for kind, count in Tally(exchange.upstream_failures).items():
                self._child(self.upstream_errors, (kind,)).inc(count)
        for kind, count in zip(TOKEN_KINDS, exchange.tokens(), strict=True):
            if count > 0:
                self._child(self.tokens, (kind,)).inc(count)

    def _child(self, metric: MetricWrapperBase, labels: tuple[str, ...]) -> Any:
        """`metric.labels(*labels)` without its per-call validation and lock: this runs for every request.
        Label sets stay few (models are capped at MAX_MODEL_LABELS), so the cache stays small."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def _model_label(self, exchange: Exchange) -> str:
        model = exchange.upstream_model or exchange.client_model or "unknown"
        if model in self._models:
            return model
        if len(self._models) >= MAX_MODEL_LABELS:
            return "other"
        self._models.add(model)
        return model


class _LiveGauges(Collector):
    """Read at every scrape, on the event loop (the pool is not thread-safe, and this never blocks)."""

    def __init__(self, ctx: ProxyContext, now: Callable[[], float]) -> None:
        self._ctx = ctx
        self._now = now

    def collect(self) -> Iterable[Metric]:
        ctx = self._ctx
        accounts = GaugeMetricFamily("trayagent_accounts", "Google accounts in the pool, by state", labels=["state"])
        registry = ctx.registry
        states: Tally[str] = Tally(account.status for account in registry.accounts) if registry else Tally()
        for state in ACCOUNT_STATES:
            accounts.add_metric([state], states[state])
        yield accounts

        cooldowns = GaugeMetricFamily(
            "trayagent_cooldowns", "Active cooldowns (an account, a model or both kept out), by cause", labels=["kind"]
        )
        kinds = Tally(cooldown.kind for _, cooldown in ctx.pool.state.active_cooldowns(self._now()))
        for kind, count in sorted(kinds.items()):
            cooldowns.add_metric([kind], count)
        yield cooldowns

        monitor = ctx.monitor
        yield CounterMetricFamily(
            "trayagent_monitor_dropped",
            "Request-log entries lost because writing fell behind or failed",
            value=monitor.dropped if monitor is not None else 0,
        )

    def describe(self) -> Iterable[Metric]:
        return []
