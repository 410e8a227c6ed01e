"""The page ``/metrics`` serves: the registry written as Temporal's server writes it.

Temporal's Prometheus reporter names a counter's series after the counter itself
(``service_requests``), where the Python client adds ``_total``; its dashboards
and alerts query the bare names. So the families that carry Temporal's names
are written with their samples named as Temporal names them (a counter's
family is then untyped, the only type the text format allows under a bare
name) and without the client's ``_created`` series, which Temporal has none
of. Cadenza's own metrics keep the client's conventions.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from cadenza.metrics.families import TEMPORAL_NAMES

_CREATED = "_created"


class TemporalStyle(Collector):
    """``registry``'s metrics, those named after Temporal's written as Temporal writes them."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for metric in self._registry.collect():
            yield as_temporal(metric) if metric.name in TEMPORAL_NAMES else metric


def as_temporal(metric: Metric) -> Metric:
    """``metric`` with a counter's samples under its own name, and no ``_created`` series."""
    counter = metric.type == "counter"
    styled = Metric(metric.name, metric.documentation, "unknown" if counter else metric.type, metric.unit)
    for sample in metric.samples:
        if sample.name.endswith(_CREATED):
            continue
        name = metric.name if counter else sample.name
        styled.add_sample(name, sample.labels, sample.value, sample.timestamp, sample.exemplar)
    return styled
