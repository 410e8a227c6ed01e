"""``Metrics``: one server's registry, the recorders its roles are handed, and ``render``.

Each ``Server`` builds its own ``Metrics``, so servers started side by side in
one process (as the tests do) never share a series. With recording off the
same object hands the roles do-nothing hooks and renders an empty page, so the
roles run the same code either way and the cost of recording can be measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder

from cadenza.history.machine.change import Change
from cadenza.metrics.concurrency import ConcurrencyCollector, LimitFigures
from cadenza.metrics.exposition import TemporalStyle
from cadenza.metrics.families import Families
from cadenza.metrics.gauges import StateCollector
from cadenza.metrics.guard import LabelGuard
from cadenza.metrics.hooks import UNOBSERVED, CountsHits, GroupCommitting, TaskObserver
from cadenza.metrics.rpc import Handler, RpcMetrics
from cadenza.metrics.runs import RunMetrics
from cadenza.metrics.store import instrumented
from cadenza.metrics.tasks import (
    Backlog,
    BacklogCollector,
    BacklogShape,
    NamespaceNames,
    StickyQueues,
    TaskMetrics,
)
from cadenza.persistence.records import TimerRecord
from cadenza.persistence.store import Store

DEFAULT_LABEL_LIMIT = 100
"""Distinct namespaces, task queues and workflow types that keep their own label value."""


class Metrics:
    """The metrics of one server; ``render`` is what ``/metrics`` answers."""

    def __init__(self, *, enabled: bool = True, label_limit: int = DEFAULT_LABEL_LIMIT) -> None:
        self.enabled = enabled
        self.registry = CollectorRegistry()
        self._page = TemporalStyle(self.registry)
        self.guards = {
            "namespace": LabelGuard(label_limit),
            "taskqueue": LabelGuard(label_limit),
            "workflowType": LabelGuard(label_limit),
        }
        self._store: Store | None = None
        self._lookup_namespace: Callable[[str], str | None] = lambda _id: None
        self._is_namespace: Callable[[str], bool] = lambda _name: False
        if not enabled:
            return
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        self.families = Families.on(self.registry)
        namespaces = self.guards["namespace"]
        sticky = StickyQueues()
        self._rpc = RpcMetrics(self.families, namespaces, sticky, self._namespace_known)
        self._runs = RunMetrics(
            self.families, namespaces, self.guards["taskqueue"], self.guards["workflowType"]
        )
        names = NamespaceNames(self._namespace_name, namespaces)
        self._tasks = TaskMetrics(self.families, names, self.guards["taskqueue"], sticky)

    # -- the hooks the server hands its roles -------------------------------------------

    def wrap_rpc(self, service: str, method: str, handler: Handler) -> Handler:
        """An RPC handler recorded in the ``service_*`` metrics."""
        return self._rpc.wrap(service, method, handler) if self.enabled else handler

    @property
    def task_observer(self) -> TaskObserver:
        """What matching reports its queues' work to."""
        return self._tasks if self.enabled else UNOBSERVED

    @property
    def on_committed(self) -> Callable[[Change], None] | None:
        """What the engine hands each committed change to, after its commit."""
        return self._runs.committed if self.enabled else None

    @property
    def on_timer_fired(self) -> Callable[[TimerRecord, float], None] | None:
        """What the timer queue tells each fired timer and how late it fired."""
        return self._timer_fired if self.enabled else None

    def instrument_store(self, store: Store) -> Store:
        """``store`` with its calls recorded; its group commits too, if it makes them."""
        self._store = store
        if not self.enabled:
            return store
        if isinstance(store, GroupCommitting):
            store.on_group_commit = self._group_commit
        return instrumented(store, self.families)

    def watch(
        self,
        backlogs: Callable[[], Iterable[Backlog]],
        cache: CountsHits | None,
        namespace_name: Callable[[str], str | None],
        is_namespace: Callable[[str], bool],
        shapes: Callable[[], Iterable[BacklogShape]] | None = None,
    ) -> None:
        """Read matching's backlog (by priority and fairness key: ``shapes``), the execution cache and the store when scraped; name
        namespaces (``namespace_name`` of an ID, ``is_namespace`` of a name) from memory."""
        self._lookup_namespace = namespace_name
        self._is_namespace = is_namespace
        if not self.enabled:
            return
        self.registry.register(BacklogCollector(backlogs, self._tasks, shapes))
        self.registry.register(StateCollector(self._store, cache, self.guards))

    def watch_concurrency(self, figures: Callable[[], Iterable[LimitFigures]]) -> None:
        """Read the concurrency limits and their slots when scraped."""
        if self.enabled:
            self.registry.register(ConcurrencyCollector(figures, self._namespace_name))

    # -- rendering -------------------------------------------------------------------

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition page and its content type; OpenMetrics when ``accept`` (the scrape's
        Accept header) asks for it. Call it on the server's event loop, as an ``async`` route
        does: the backlog and the cache are read from the roles' memory as they stand."""
        encode, content_type = choose_encoder(accept)
        return encode(self._page), content_type

    # -- recorders ---------------------------------------------------------------------

    # Namespaces are looked up through these: the registry that knows them is built later.

    def _namespace_name(self, namespace_id: str) -> str | None:
        return self._lookup_namespace(namespace_id)

    def _namespace_known(self, name: str) -> bool:
        return self._is_namespace(name)

    def _timer_fired(self, timer: TimerRecord, lateness: float) -> None:
        self.families.timer_lateness.labels(timer.kind).observe(max(lateness, 0.0))

    def _group_commit(self, changes: int, seconds: float) -> None:
        self.families.group_commit_size.observe(changes)
        self.families.group_commit_latency.observe(seconds)
