"""Task queue metrics: polls, dispatch latency, and the backlog read at scrape time.

Matching reports each task it queues and each poll's end through
``hooks.TaskObserver``; this is the recording one. ``task_dispatch_latency`` runs
from a task entering its queue in memory (after its commit) to a poll taking
it. The backlog is not tracked as it changes: ``approximate_backlog_count``
and ``approximate_backlog_age_seconds`` are read from matching's queues when
``/metrics`` is scraped, so they cost nothing in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cadenza.metrics.families import BACKLOG_COUNT, TASK_QUEUE, Families
from cadenza.metrics.guard import OTHER, LabelGuard
from cadenza.persistence.records import TaskKind, TaskRecord

UNKNOWN_NAMESPACE = "_unknown_"
MATCHING = "matching"
"""The ``service_name`` of queue metrics: the role Temporal's matching plays."""
ACTIVE = "active"
UNVERSIONED = "__unversioned__"
NORMAL_PARTITION = "0"
"""Cadenza's queues have one partition each, Temporal's first."""
STICKY_PARTITION = "__sticky__"
DEFAULT_PRIORITY = "3"
"""Temporal's default task priority: Cadenza's tasks all have it."""
TASK_TYPES = {TaskKind.WORKFLOW: "Workflow", TaskKind.ACTIVITY: "Activity"}
"""``task_type`` as Temporal's Go enums print a task queue type."""
MAX_TRACKED = 200_000
"""Queued tasks whose enqueue time is kept; past this the times are forgotten (a few
dispatch latencies go unrecorded) rather than let tasks that never dispatch here,
such as a sticky worker's moved elsewhere, grow memory without end."""

Backlog = tuple[tuple[str, str, TaskKind], int, TaskRecord | None]
"""A queue's key (namespace ID, name, kind), its number of pending tasks, and the oldest."""
BacklogShape = tuple[tuple[str, str, TaskKind], dict[int, int], dict[str, int]]
"""A queue's key and its waiting tasks by priority key and by fairness key."""
TOP_FAIRNESS_KEYS = 10
"""Fairness keys reported per queue: those with the most tasks waiting."""


MAX_STICKY = 10_000
"""Sticky queue names remembered; each worker process has one, so past this they are forgotten."""


class StickyQueues:
    """Sticky queues by name, with the normal queue each stands in for.

    Temporal counts a sticky queue's polls and tasks under its worker's normal queue, so
    dashboards see one series per real queue, not one per worker process; the workers name
    it when they poll (``TaskQueue.normal_name``), and the RPC metrics note it here.
    """

    def __init__(self) -> None:
        self._normal: dict[str, str] = {}

    def learn(self, sticky: str, normal: str) -> None:
        if sticky in self._normal:
            return
        if len(self._normal) >= MAX_STICKY:
            self._normal.clear()
        self._normal[sticky] = normal

    def partition(self, name: str) -> tuple[str, str]:
        """The queue ``name`` counts as, and Temporal's ``partition`` label: a sticky queue is
        its normal queue's ``__sticky__`` partition, any other queue its own partition ``0``."""
        normal = self._normal.get(name)
        return (name, NORMAL_PARTITION) if normal is None else (normal, STICKY_PARTITION)


QueueLabels = tuple[str, str, str, str]


def poll_labels(operation: str, queue: QueueLabels) -> tuple[str, ...]:
    """The labels of Temporal's per-queue matching metrics (``TASK_QUEUE``), for one queue."""
    namespace, task_queue, task_type, partition = queue
    return (MATCHING, operation, namespace, ACTIVE, task_queue, task_type, partition, "", "", UNVERSIONED)


def dispatch_labels(queue: QueueLabels) -> tuple[str, ...]:
    """The labels of ``task_dispatch_latency`` (``DISPATCH``): not forwarded, from history."""
    namespace, task_queue, task_type, partition = queue
    return (
        MATCHING,
        "MatchingEngine",
        namespace,
        task_queue,
        task_type,
        partition,
        "false",
        "History",
        "",
        UNVERSIONED,
    )


class NamespaceNames:
    """Namespace IDs as names for labels: matching knows IDs, dashboards know names."""

    def __init__(self, lookup: Callable[[str], str | None], guard: LabelGuard) -> None:
        self._lookup = lookup
        self._guard = guard
        self._known: dict[str, str] = {}

    def __call__(self, namespace_id: str) -> str:
        name = self._known.get(namespace_id)
        if name is None:
            found = self._lookup(namespace_id)
            if found is None:
                return UNKNOWN_NAMESPACE  # not cached yet: asked again next time
            name = self._known[namespace_id] = self._guard(found)
        return name


class TaskMetrics:
    """The recording ``TaskObserver``."""

    def __init__(
        self, families: Families, namespaces: NamespaceNames, task_queues: LabelGuard, sticky: StickyQueues
    ) -> None:
        self._f = families
        self._namespaces = namespaces
        self._task_queues = task_queues
        self._sticky = sticky
        self._queued_at: dict[str, float] = {}
        self._series: dict[tuple[str, str, TaskKind], tuple[Any, Any, Any, Any]] = {}

    def added(self, task: TaskRecord) -> None:
        if len(self._queued_at) >= MAX_TRACKED:
            self._queued_at.clear()
        self._queued_at.setdefault(task.task_id, time.monotonic())

    def polled(
        self, namespace_id: str, name: str, kind: TaskKind, task: TaskRecord | None, waited: bool
    ) -> None:
        success, sync, timeouts, latency = self._children(namespace_id, name, kind)
        if task is None:
            timeouts.inc()
            return
        success.inc()
        if waited:
            sync.inc()
        queued_at = self._queued_at.pop(task.task_id, None)
        if queued_at is not None:
            latency.observe(time.monotonic() - queued_at)

    def left(self, task_ids: Iterable[str]) -> None:
        for task_id in task_ids:
            self._queued_at.pop(task_id, None)

    def queued_since(self, task: TaskRecord) -> float | None:
        """Monotonic time ``task`` entered its queue, if known."""
        return self._queued_at.get(task.task_id)

    def queue_labels(self, namespace_id: str, name: str, kind: TaskKind) -> QueueLabels:
        """(namespace, taskqueue, task_type, partition) of a queue, as Temporal labels them."""
        queue, partition = self._sticky.partition(name)
        return (self._namespaces(namespace_id), self._task_queues(queue), TASK_TYPES[kind], partition)

    def _children(self, namespace_id: str, name: str, kind: TaskKind) -> tuple[Any, Any, Any, Any]:
        key = (namespace_id, name, kind)
        series = self._series.get(key)
        if series is None:
            labels = self.queue_labels(*key)
            polls = poll_labels("TaskQueueMgr", labels)
            f = self._f
            series = (
                f.poll_success.labels(*polls),
                f.poll_success_sync.labels(*polls),
                f.poll_timeouts.labels(*polls),
                f.task_dispatch_latency.labels(*dispatch_labels(labels)),
            )
            # An unknown namespace is looked up again next time; names past the limit are
            # not remembered one by one.
            if labels[0] != UNKNOWN_NAMESPACE and OTHER not in labels:
                self._series[key] = series
        return series


class BacklogCollector(Collector):
    """``approximate_backlog_count`` (by priority key) and ``_age_seconds`` per queue, and the
    fairness keys with the most tasks waiting in each, read at scrape time."""

    def __init__(
        self,
        backlogs: Callable[[], Iterable[Backlog]],
        tasks: TaskMetrics,
        shapes: Callable[[], Iterable[BacklogShape]] | None = None,
    ) -> None:
        self._backlogs = backlogs
        self._tasks = tasks
        self._shapes = shapes

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts: dict[tuple[QueueLabels, str], int] = {}
        ages: dict[QueueLabels, float] = {}
        shapes = {key: (priorities, keys) for key, priorities, keys in self._shapes()} if self._shapes else {}
        top_keys = GaugeMetricFamily(
            "cadenza_backlog_fairness_key_count",
            f"Tasks waiting in a queue under each of its {TOP_FAIRNESS_KEYS} fairness keys with the most.",
            labels=("namespace", "taskqueue", "task_type", "fairness_key"),
        )
        now = time.monotonic()
        for key, size, oldest in self._backlogs():
            # Queues folded into one label set add up; their age is the oldest task's.
            labels = self._tasks.queue_labels(*key)
            priorities, fairness = shapes.get(key, ({}, {}))
            for priority, waiting in _by_priority(priorities, size).items():
                counts[(labels, priority)] = counts.get((labels, priority), 0) + waiting
            queued_at = self._tasks.queued_since(oldest) if oldest is not None else None
            oldest_age = now - queued_at if queued_at is not None else 0.0
            ages[labels] = max(ages.get(labels, 0.0), oldest_age)
            if set(fairness) - {""}:
                for fairness_key, waiting in sorted(fairness.items(), key=lambda kv: -kv[1])[
                    :TOP_FAIRNESS_KEYS
                ]:
                    top_keys.add_metric((labels[0], labels[1], labels[2], fairness_key), waiting)
        count = GaugeMetricFamily(
            "approximate_backlog_count", "Tasks waiting in a queue for a poll.", labels=BACKLOG_COUNT
        )
        age = GaugeMetricFamily(
            "approximate_backlog_age_seconds", "Age of a queue's oldest waiting task.", labels=TASK_QUEUE
        )
        for (labels, priority), value in counts.items():
            count.add_metric((*poll_labels("TaskQueuePartitionManager", labels), priority), value)
        for labels, oldest_age in ages.items():
            age.add_metric(poll_labels("TaskQueuePartitionManager", labels), oldest_age)
        yield count
        yield age
        yield top_keys


def _by_priority(priorities: dict[int, int], size: int) -> dict[str, int]:
    """A queue's ``size`` waiting tasks by priority key, as matching counts them."""
    if not priorities:  # an empty queue too has its series, at 0, as on Temporal
        return {DEFAULT_PRIORITY: size}
    return {str(key): waiting for key, waiting in sorted(priorities.items())}
