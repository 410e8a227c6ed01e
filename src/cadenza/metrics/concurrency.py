"""The concurrency limits' figures, read at scrape time: each limit and the slots held under it.

A limit is set by an operator, so there are few of them; each is one series per figure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LimitFigures = tuple[str, str, str, int, int]
"""A limit's namespace ID, scope, name, cap on the whole scope (0: none) and slots held now."""
LABELS = ("namespace", "scope", "target")
"""``target``: the limited queue, workflow type or workflow-ID prefix."""


class ConcurrencyCollector(Collector):
    """``cadenza_concurrency_limit`` and ``cadenza_concurrency_running`` per limit."""

    def __init__(
        self, figures: Callable[[], Iterable[LimitFigures]], namespace_name: Callable[[str], str | None]
    ) -> None:
        self._figures = figures
        self._namespace_name = namespace_name

    def collect(self) -> Iterator[GaugeMetricFamily]:
        limit = GaugeMetricFamily(
            "cadenza_concurrency_limit",
            "Most holders a concurrency limit lets run at once (0: per key only).",
            labels=LABELS,
        )
        running = GaugeMetricFamily(
            "cadenza_concurrency_running", "Slots of a concurrency limit held now.", labels=LABELS
        )
        for namespace_id, scope, name, cap, held in self._figures():
            labels = (self._namespace_name(namespace_id) or namespace_id, scope, name)
            limit.add_metric(labels, cap)
            running.add_metric(labels, held)
        yield limit
        yield running
