"""What matching tells of its task queues (backlogs by priority and fairness key, recent pollers,
starving queues), and the forgetting of queues nobody polls, apart from the dispatch."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from cadenza.matching.ordering import priority_level
from cadenza.matching.queue import PollerSeen
from cadenza.metrics.hooks import TaskObserver
from cadenza.persistence.records import TaskKind, TaskRecord

if TYPE_CHECKING:
    from cadenza.matching.service import QueueKey, Waiting, _Queue


class QueueReports:
    """The reading side of ``MatchingService``'s queues (for DescribeTaskQueue, metrics and
    replicas)."""

    _queues: dict[QueueKey, _Queue]
    _pending: dict[str, Waiting]
    _observer: TaskObserver

    def backlog_by_priority(self, namespace_id: str, name: str, kind: TaskKind) -> dict[int, int]:
        """Tasks waiting on the queue by priority key (withdrawn ones left out)."""
        queue = self._queues.get((namespace_id, name, kind))
        return queue.items.by_priority() if queue else {}

    def pollers(self, namespace_id: str, name: str, kind: TaskKind) -> dict[str, PollerSeen]:
        """Identities that polled the queue recently, with their last poll."""
        queue = self._queues.get((namespace_id, name, kind))
        return dict(queue.poller_identities) if queue else {}

    def has_waiting_poll(self, namespace_id: str, name: str, kind: TaskKind) -> bool:
        """Whether a poll waits on the queue with nothing to hand it."""
        queue = self._queues.get((namespace_id, name, kind))
        return (
            queue is not None
            and not queue.items
            and not queue.parked  # polls waiting for a slot are not starving
            and any(not poller.done() for poller in queue.pollers)
        )

    def starving_queues(self) -> list[QueueKey]:
        """Queues whose polls wait with nothing to hand them."""
        return [key for key in self._queues if self.has_waiting_poll(*key)]

    def forget_unpolled(self, idle_seconds: float) -> int:
        """Drop the tasks of queues nobody polled for ``idle_seconds``; return how many.

        For replicas only: their tasks stay stored, and another replica may have
        handed them out already; they are read again once a poll waits here.
        """
        cutoff = time.monotonic() - idle_seconds
        dropped = 0
        for queue in self._queues.values():
            idle_since = max(queue.last_poll, queue.made_at)
            if queue.items and not queue.pollers and idle_since < cutoff:
                dropped += len(queue.items) - queue.items.withdrawn
                forgotten = [task.task_id for task in [*queue.items, *queue.parked]]
                for task_id in forgotten:
                    self._pending.pop(task_id, None)
                self._observer.left(forgotten)
                dropped += len(queue.parked)
                queue.items.clear()
                queue.parked.clear()
        return dropped

    def backlogs(self) -> list[tuple[QueueKey, int, TaskRecord | None]]:
        """Every queue with its number of pending tasks and the oldest of them (for metrics)."""
        return [(key, _waiting(q), q.items.peek()) for key, q in list(self._queues.items())]

    def backlog_shapes(self) -> list[tuple[QueueKey, dict[int, int], dict[str, int]]]:
        """Each queue with tasks waiting, by priority key and by fairness key (for metrics; tasks
        withdrawn left out of the priority keys' counts but not yet of the fairness keys', parked
        ones included)."""
        shapes = []
        for key, queue in list(self._queues.items()):
            if not queue.items and not queue.parked:
                continue
            priorities, fairness = queue.items.by_priority(), queue.items.by_fairness_key()
            for task in queue.parked:
                level = priority_level(task)
                priorities[level] = priorities.get(level, 0) + 1
                fairness[task.priority.fairness_key] = fairness.get(task.priority.fairness_key, 0) + 1
            shapes.append((key, priorities, fairness))
        return shapes

    def backlog(self, namespace_id: str, name: str, kind: TaskKind) -> int:
        queue = self._queues.get((namespace_id, name, kind))
        return _waiting(queue) if queue else 0


def _waiting(queue: _Queue) -> int:
    return len(queue.items) - queue.items.withdrawn + len(queue.parked)
