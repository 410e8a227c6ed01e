"""The graph of a run: its items as nodes in rows, one row per workflow task, and the edges from
what the workflow had heard to what it did next. Pure: a ``Run`` in, a ``Graph`` out.

A workflow task is delivered every event up to its start; the commands it completes with schedule
the next items. So an item's triggers (its close, a child's start, a signal) point at the items
scheduled by the workflow task that heard them; a task that scheduled nothing passes what it heard
on to the next one that does (a join: three activities awaited together all lead to the next step).
Items scheduled by one workflow task share a row: they run in parallel (fan-out).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from cadenza.web.ui_graph.items import ARRIVALS, Item, Kind, Run, WorkflowTask

START_ROW = (0, 0)


@dataclass(frozen=True)
class Row:
    """Items drawn side by side. ``workflow_task`` is the completed task's event ID, if any."""

    key: tuple[int, int]
    workflow_task: int | None
    node_ids: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    """What one workflow task heard (``sources``) and what it scheduled (``targets``)."""

    workflow_task: int | None
    sources: tuple[str, ...]
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Graph:
    nodes: dict[str, Item]
    rows: tuple[Row, ...]
    steps: tuple[Step, ...]

    @property
    def edges(self) -> list[tuple[str, str]]:
        """Every (source, target) pair, in the order the steps happened."""
        return [(source, target) for step in self.steps for source in step.sources for target in step.targets]


def build_graph(run: Run) -> Graph:
    """The graph of ``run``."""
    nodes = {item.id: item for item in run.items}
    delivery = _Delivery(run.workflow_tasks)
    return Graph(nodes, _rows(run, delivery), _steps(run, delivery))


class _Delivery:
    """Which completed workflow task heard an event: the first to start after it."""

    def __init__(self, tasks: tuple[WorkflowTask, ...]) -> None:
        self._starts = [task.started_id for task in tasks]
        self._completed = [task.completed_id for task in tasks]

    def task_for(self, event_id: int) -> int | None:
        index = bisect.bisect_left(self._starts, event_id)
        return self._completed[index] if index < len(self._completed) else None


def _row_key(item: Item, delivery: _Delivery) -> tuple[int, int]:
    if item.kind is Kind.START:
        return START_ROW
    if item.kind is Kind.CLOSE:
        return (item.first_event_id, 2)
    if item.kind in ARRIVALS:
        heard_by = delivery.task_for(item.triggers[0]) if item.triggers else None
        return (item.first_event_id if heard_by is None else heard_by, 0)
    return (item.scheduled_by or item.first_event_id, 1)


def _rows(run: Run, delivery: _Delivery) -> tuple[Row, ...]:
    grouped: dict[tuple[int, int], list[str]] = {}
    for item in run.items:
        grouped.setdefault(_row_key(item, delivery), []).append(item.id)
    return tuple(
        Row(key, key[0] if key[1] == 1 else None, tuple(ids)) for key, ids in sorted(grouped.items())
    )


def _steps(run: Run, delivery: _Delivery) -> tuple[Step, ...]:
    heard: dict[int | None, list[str]] = {}
    for item in run.items:
        for position in item.triggers:
            heard.setdefault(delivery.task_for(position), []).append(item.id)
    scheduled: dict[int, list[str]] = {}
    for item in run.items:
        if item.scheduled_by is not None and item.kind not in ARRIVALS:
            scheduled.setdefault(item.scheduled_by, []).append(item.id)

    steps: list[Step] = []
    pending: list[str] = []
    last_sources: tuple[str, ...] = ()
    for task in run.workflow_tasks:
        pending.extend(heard.get(task.completed_id, ()))
        targets = scheduled.get(task.completed_id)
        if not targets:
            continue
        sources = _unique(pending) or last_sources
        steps.append(Step(task.completed_id, sources, tuple(targets)))
        last_sources, pending = sources, []
    close = next((item for item in run.items if item.kind is Kind.CLOSE), None)
    if close is not None and close.scheduled_by is None:
        # Closed from outside (terminated, timed out): what it heard last and what was still open.
        pending.extend(heard.get(None, ()))
        pending.extend(item.id for item in run.items if _open(item))
        steps.append(Step(None, _unique(pending) or last_sources, (close.id,)))
    return tuple(steps)


def _open(item: Item) -> bool:
    return (
        item.kind not in ARRIVALS
        and item.kind not in {Kind.START, Kind.CLOSE, Kind.MARKER, Kind.LOCAL_ACTIVITY}
        and (item.close_event_id is None)
    )


def _unique(ids: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))
