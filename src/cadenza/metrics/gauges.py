"""What Cadenza's own parts report about themselves, read at scrape time.

None of these is counted on a hot path: the execution cache keeps two plain
integers, and the SQLite WAL size, the PostgreSQL pool and the replica lease
are asked for only when ``/metrics`` is scraped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cadenza.metrics.guard import LabelGuard
from cadenza.metrics.hooks import CountsHits, ReportsLease, ReportsPool, ReportsWal

logger = logging.getLogger(__name__)


class StateCollector(Collector):
    """The execution cache, the store's own figures, and the cardinality guard's."""

    def __init__(self, store: Any, cache: CountsHits | None, guards: Mapping[str, LabelGuard]) -> None:
        self._store = store
        self._cache = cache
        self._guards = guards

    def collect(self) -> Iterator[Metric]:
        if self._cache is not None:
            yield from _cache(self._cache)
        yield from self._store_figures()
        yield from _guards(self._guards)

    def _store_figures(self) -> Iterator[Metric]:
        store = self._store
        try:
            if isinstance(store, ReportsWal):
                yield _gauge(
                    "cadenza_sqlite_wal_bytes", "Size of the SQLite write-ahead log.", store.wal_bytes()
                )
            if isinstance(store, ReportsPool):
                yield from _pool(*store.pool_use())
            link = store.replicas()
            if isinstance(link, ReportsLease):
                yield from _lease(link)
        except OSError as error:  # a file gone mid-scrape: report the rest
            logger.info("a store figure could not be read for metrics: %s", error)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _cache(cache: CountsHits) -> Iterator[Metric]:
    lookups = CounterMetricFamily(
        "cadenza_execution_cache_requests",
        "Execution cache lookups, by whether the run was in memory.",
        labels=["result"],
    )
    lookups.add_metric(["hit"], cache.hits)
    lookups.add_metric(["miss"], cache.misses)
    yield lookups
    yield _gauge("cadenza_execution_cache_size", "Runs held in the execution cache.", cache.size())


def _pool(size: int, idle: int, most: int) -> Iterator[Metric]:
    use = GaugeMetricFamily(
        "cadenza_postgres_pool_connections", "PostgreSQL pool connections open, by use.", labels=["state"]
    )
    use.add_metric(["in_use"], size - idle)
    use.add_metric(["idle"], idle)
    yield use
    yield _gauge("cadenza_postgres_pool_max_connections", "Most connections the pool opens.", most)


def _lease(link: ReportsLease) -> Iterator[Metric]:
    age = time.time() - link.lease_renewed_at if link.lease_renewed_at else float("inf")
    held = GaugeMetricFamily(
        "cadenza_replica_lease_held",
        "1 while this replica's lease on the shared database is current.",
        labels=["replica"],
    )
    held.add_metric([link.replica_id], 1.0 if age < link.lease_seconds else 0.0)
    yield held
    renewed = GaugeMetricFamily(
        "cadenza_replica_lease_age_seconds", "Seconds since the lease was last renewed.", labels=["replica"]
    )
    renewed.add_metric([link.replica_id], age)
    yield renewed


def _guards(guards: Mapping[str, LabelGuard]) -> Iterator[Metric]:
    admitted = GaugeMetricFamily(
        "cadenza_metric_label_values",
        "Distinct values a guarded label has (at most the configured limit).",
        labels=["label"],
    )
    folded = CounterMetricFamily(
        "cadenza_metric_label_values_folded",
        "Times a guarded label's value past the limit was counted as _other_.",
        labels=["label"],
    )
    for label, guard in guards.items():
        admitted.add_metric([label], len(guard))
        folded.add_metric([label], guard.folded)
    yield admitted
    yield folded
