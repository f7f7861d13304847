"""The service's Prometheus metrics, on the official client, every name ``neodyme_*``.

One ``PrometheusMetrics`` per container: it is the login monitor of the use cases, the
observer of the hasher and of the connection pool, and what the HTTP layer tells about each
request. Its metrics live in a registry of its own, so that several containers in one
process (the unit tests, in-process callers) never collide or share counts.

Under ``neodyme serve`` (several worker processes) the client runs in its multiprocess
mode: with ``PROMETHEUS_MULTIPROC_DIR`` set before it is imported, every process writes its
values to files of that directory, and a scrape, served by any one process, adds up the
files of all of them. Counters and histograms are summed; gauges say how (``livesum``: the
sum over the processes still alive). Figures read from the database at scrape time (the
outbox) are the same in every process and are not summed: ``OutboxCollector``.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, get_args

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from neodyme_domain.messages import OutboxBacklog
from neodyme_domain.ports import LockoutScope, LoginOutcome

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
EXPOSITION_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The text format every Prometheus reads, and what the client's own exporters answer."""

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Any other method is counted as ``other``: a label value a client can choose freely
would let it create series without bound."""

REQUEST_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds. Token checks take about a millisecond; logins and registrations are one argon2
hash (~20 ms at production cost) plus queueing; 10 s is the request timeout's default."""
HASH_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
POOL_WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0)
"""Up to the default NEODYME_DB_TIMEOUT (3 s), past which a checkout gives up."""


class PrometheusMetrics:
    def __init__(self, multiprocess_dir: str | None = None) -> None:
        """``multiprocess_dir``: where the processes of one server write their values; by
        default the client's own rule, ``PROMETHEUS_MULTIPROC_DIR`` (None: one process)."""
        self.multiprocess_dir = multiprocess_dir or os.environ.get(MULTIPROCESS_DIR_VARIABLE)
        self.registry = registry = CollectorRegistry()
        self._requests = Counter(
            "neodyme_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self._latency = Histogram(
            "neodyme_http_request_duration_seconds",
            "Time from a request's arrival to its response's last byte, by method and route",
            ["method", "route"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self._hash_threads = self._live_gauge("neodyme_hash_threads", "Threads hashing passwords")
        self._hash_queue_limit = self._live_gauge(
            "neodyme_hash_queue_limit", "Hashes that may wait for a thread before 503s"
        )
        self._hash_queue = self._live_gauge(
            "neodyme_hash_queue_depth", "Hashes admitted and waiting for a thread"
        )
        self._hash_seconds = Histogram(
            "neodyme_hash_duration_seconds",
            "Thread time of one argon2 hash or verify (queue wait excluded)",
            buckets=HASH_BUCKETS,
            registry=registry,
        )
        self._hash_refused = Counter(
            "neodyme_hash_refused",
            "Hashes refused at once (503) because the hash queue was full",
            registry=registry,
        )
        self._logins = Counter(
            "neodyme_logins",
            "Logins by outcome: success, invalid (wrong password or unknown address),"
            " locked (refused by throttling), inactive (deactivated account), mfa_required"
            " (right password, second factor asked)",
            ["outcome"],
            registry=registry,
        )
        self._lockouts = Counter(
            "neodyme_lockouts",
            "Lockouts that took effect, by scope: one account, or one client address",
            ["scope"],
            registry=registry,
        )
        self._pool_size = self._live_gauge(
            "neodyme_db_pool_size", "Database connections the pools may hold"
        )
        self._in_use = self._live_gauge(
            "neodyme_db_connections_in_use", "Database connections checked out of the pools"
        )
        self._pool_wait = Histogram(
            "neodyme_db_pool_wait_seconds",
            "Checkouts that found every pooled connection in use: how long they waited"
            " (_count: how many waited)",
            buckets=POOL_WAIT_BUCKETS,
            registry=registry,
        )
        # Every outcome and scope from the start, at zero: a rate() over a series that
        # appears only at its first increment misses that increment.
        for outcome in get_args(LoginOutcome):
            self._logins.labels(outcome)
        for scope in get_args(LockoutScope):
            self._lockouts.labels(scope)
        self._http: dict[tuple[str, str, int | None], tuple[Counter, Histogram]] = {}

    def _live_gauge(self, name: str, documentation: str) -> Gauge:
        return Gauge(name, documentation, multiprocess_mode="livesum", registry=self.registry)

    # --- HTTP ---------------------------------------------------------------------------

    def observe_request(self, method: str, route: str, status: int | None, seconds: float) -> None:
        """``route`` must be a template or a fixed word, never a raw path (see HTTP_METHODS).
        ``status`` None: no response was sent (the client went away first)."""
        key = (method if method in HTTP_METHODS else "other", route, status)
        children = self._http.get(key)
        if children is None:  # label lookups take a lock: once per series, not per request
            children = (
                self._requests.labels(key[0], route, "none" if status is None else str(status)),
                self._latency.labels(key[0], route),
            )
            self._http[key] = children
        children[0].inc()
        children[1].observe(seconds)

    # --- LoginMonitor ---------------------------------------------------------------------

    def login(self, outcome: LoginOutcome) -> None:
        self._logins.labels(outcome).inc()

    def lockout(self, scope: LockoutScope) -> None:
        self._lockouts.labels(scope).inc()

    # --- HashObserver ---------------------------------------------------------------------

    def hash_limits(self, threads: int, queue_limit: int) -> None:
        self._hash_threads.set(threads)
        self._hash_queue_limit.set(queue_limit)

    def hash_queue(self, waiting: int) -> None:
        self._hash_queue.set(waiting)

    def hashed(self, seconds: float) -> None:
        self._hash_seconds.observe(seconds)

    def hash_refused(self) -> None:
        self._hash_refused.inc()

    # --- PoolObserver ---------------------------------------------------------------------

    def pool_limits(self, size: int) -> None:
        self._pool_size.set(size)

    def connections_in_use(self, count: int) -> None:
        self._in_use.set(count)

    def pool_waited(self, seconds: float) -> None:
        self._pool_wait.observe(seconds)

    # --- exposition -----------------------------------------------------------------------

    def scrape(self, *extra: Collector) -> bytes:
        """The text exposition: this process's metrics (or, in multiprocess mode, those of
        every process of the server) and ``extra`` collectors."""
        own: Collector = _WithoutCreated(self.registry)
        if self.multiprocess_dir:
            own = ProcessesCollector(self.multiprocess_dir)
        return generate_latest(_Together([own, *extra]))


class ProcessesCollector(Collector):
    """The metrics of every process writing to ``multiprocess_dir``, summed."""

    def __init__(self, multiprocess_dir: str) -> None:
        self._directory = multiprocess_dir
        self._summed = multiprocess.MultiProcessCollector(None, path=multiprocess_dir)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterator[Metric]:
        _forget_dead_processes(self._directory)
        yield from self._summed.collect()  # type: ignore[no-untyped-call]


def _forget_dead_processes(multiprocess_dir: str) -> None:
    """Drop the live gauges of worker processes that are gone (a worker the server
    replaced): the client's ``mark_process_dead``, which no server calls for us."""
    for path in glob.glob(os.path.join(multiprocess_dir, "gauge_live*_*.db")):
        pid = int(path.rsplit("_", 1)[1].removesuffix(".db"))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, multiprocess_dir)  # type: ignore[no-untyped-call]
        except PermissionError:
            pass  # alive, someone else's


class OutboxCollector(Collector):
    """The outbox as read at this scrape (``backlog``), or None if it could not be read:
    then only ``neodyme_outbox_up 0``, rather than a failed scrape or stale figures."""

    def __init__(self, backlog: OutboxBacklog | None, now: datetime) -> None:
        self._backlog = backlog
        self._now = now

    def collect(self) -> Iterator[Metric]:
        backlog = self._backlog
        yield GaugeMetricFamily(
            "neodyme_outbox_up",
            "1 if the outbox figures were read from the database at this scrape, else 0",
            value=0 if backlog is None else 1,
        )
        if backlog is None:
            return
        yield GaugeMetricFamily(
            "neodyme_outbox_pending", "E-mails not sent yet and still tried", value=backlog.pending
        )
        yield GaugeMetricFamily(
            "neodyme_outbox_failing",
            "Pending e-mails whose delivery failed at least once",
            value=backlog.failing,
        )
        yield GaugeMetricFamily(
            "neodyme_outbox_dead", "E-mails given up after their last attempt", value=backlog.dead
        )
        oldest = backlog.oldest_pending_at
        age = 0.0 if oldest is None else max(0.0, (self._now - oldest).total_seconds())
        yield GaugeMetricFamily(
            "neodyme_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending e-mail (0 when none is pending)",
            value=age,
        )


class _WithoutCreated(Collector):
    """The ``*_created`` samples (when each series began) left out: the multiprocess mode
    has none, and one process should expose the same series as several."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for metric in self._registry.collect():  # new Metric objects at every collect
            metric.samples = [s for s in metric.samples if not s.name.endswith("_created")]
            yield metric


class _Together(Collector):
    def __init__(self, collectors: Iterable[Collector]) -> None:
        self._collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


if TYPE_CHECKING:
    from neodyme_adapters.argon2_hasher import HashObserver
    from neodyme_adapters.sqlalchemy.pool_metrics import PoolObserver
    from neodyme_domain.ports import LoginMonitor

    # mypy proves here that one object serves the three observers it is wired as.
    _monitor: type[LoginMonitor] = PrometheusMetrics
    _hasher: type[HashObserver] = PrometheusMetrics
    _pool: type[PoolObserver] = PrometheusMetrics
