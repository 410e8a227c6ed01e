"""Task queues in memory: pending tasks on one side, waiting pollers on the other.

Tasks reach a queue only after their change is committed, so memory never
holds a task the database lacks; at start the store's pending tasks are
loaded back in.
"""

from __future__ import annotations

import logging
import time

from cadenza.matching.control import ControlQueues
from cadenza.matching.queue import PollerSeen, Queue, Waiters
from cadenza.matching.workers import WorkerRegistry
from cadenza.metrics.hooks import UNOBSERVED, TaskObserver
from cadenza.persistence.records import TaskKind, TaskRecord

logger = logging.getLogger(__name__)

DEFAULT_DISPATCH_RATE = 100000.0
"""Tasks per second a poller is said to accept when it names no limit: Temporal's default."""
STICKY_POLLER_GRACE = 10.0
"""A sticky queue counts as alive this long after its worker's last poll."""


QueueKey = tuple[str, str, TaskKind]
_Queue = Queue[TaskRecord]


class MatchingService:
    """Matches tasks with pollers; one queue per namespace, name and task kind.

    ``control`` holds the workers' control queues, whose polls end at a
    worker's shutdown like the others; ``workers`` their latest heartbeats.
    ``observer`` is told each task queued and each poll's end (metrics).
    """

    def __init__(self, observer: TaskObserver = UNOBSERVED) -> None:
        self._observer = observer
        self._queues: dict[QueueKey, _Queue] = {}
        self._waiters = Waiters()
        self.control = ControlQueues(self._waiters)
        self.workers = WorkerRegistry()

    def add_task(self, task: TaskRecord) -> None:
        self._observer.added(task)
        self._queue((task.namespace_id, task.task_queue, task.kind)).offer(task)

    async def poll(
        self,
        namespace_id: str,
        name: str,
        kind: TaskKind,
        identity: str,
        timeout: float,
        worker_key: str = "",
        rate_per_second: float = DEFAULT_DISPATCH_RATE,
    ) -> TaskRecord | None:
        """Wait up to ``timeout`` seconds for a task; None if none came or the worker left."""
        if self._waiters.has_left(worker_key):
            return None
        queue = self._queue((namespace_id, name, kind))
        queue.last_poll = time.monotonic()
        queue.shut_down = False
        if identity not in queue.poller_identities:  # once per worker and queue, not per poll
            logger.info(
                "worker %s polls %s task queue %s",
                identity,
                kind.name.lower(),
                name,
                extra={"namespace_id": namespace_id, "task_queue": name, "identity": identity},
            )
        queue.poller_identities[identity] = PollerSeen(time.time(), rate_per_second)
        if queue.items:
            task = queue.items.popleft()
            self._observer.polled(namespace_id, name, kind, task, False)
            return task
        try:
            waited = await self._waiters.wait(queue, timeout, worker_key, self.add_task)
            self._observer.polled(namespace_id, name, kind, waited, True)
            return waited
        finally:
            queue.last_poll = time.monotonic()

    def end_polls(self, worker_key: str) -> None:
        """A worker is shutting down: answer its waiting polls empty, so no task goes to it."""
        self._waiters.end(worker_key)

    def return_task(self, task: TaskRecord) -> None:
        """Put back a task a poller took but could not deliver."""
        self.add_task(task)

    def sticky_alive(self, namespace_id: str, name: str) -> bool:
        """Whether a sticky queue's worker has polled recently and not shut down."""
        queue = self._queues.get((namespace_id, name, TaskKind.WORKFLOW))
        if queue is None or queue.shut_down:
            return False
        return bool(queue.pollers) or time.monotonic() - queue.last_poll < STICKY_POLLER_GRACE

    def shut_down_sticky(self, namespace_id: str, name: str) -> list[TaskRecord]:
        """The sticky worker left: return its pending tasks so they can move elsewhere."""
        queue = self._queues.pop((namespace_id, name, TaskKind.WORKFLOW), None)
        if queue is None:
            return []
        for poller in queue.pollers:
            poller.cancel()
        self._queues[(namespace_id, name, TaskKind.WORKFLOW)] = _Queue(shut_down=True)
        return list(queue.items)

    def pollers(self, namespace_id: str, name: str, kind: TaskKind) -> dict[str, PollerSeen]:
        """Identities that polled the queue recently, with their last poll."""
        queue = self._queues.get((namespace_id, name, kind))
        return dict(queue.poller_identities) if queue else {}

    def has_waiting_poll(self, namespace_id: str, name: str, kind: TaskKind) -> bool:
        """Whether a poll waits on the queue with nothing to hand it."""
        queue = self._queues.get((namespace_id, name, kind))
        return queue is not None and not queue.items and any(not poller.done() for poller in queue.pollers)

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
            if queue.items and not queue.pollers and queue.last_poll < cutoff:
                dropped += len(queue.items)
                queue.items.clear()
        return dropped

    def backlogs(self) -> list[tuple[QueueKey, int, TaskRecord | None]]:
        """Every queue with its number of pending tasks and the oldest of them (for metrics)."""
        return [(key, len(q.items), q.items[0] if q.items else None) for key, q in list(self._queues.items())]

    def backlog(self, namespace_id: str, name: str, kind: TaskKind) -> int:
        queue = self._queues.get((namespace_id, name, kind))
        return len(queue.items) if queue else 0

    def _queue(self, key: QueueKey) -> _Queue:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue()
        return queue
