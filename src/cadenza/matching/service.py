"""Task queues in memory: pending tasks on one side, waiting pollers on the other.

Tasks reach a queue only after their change is committed, so memory never
holds a task the database lacks; at start the store's pending tasks are
loaded back in.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

from cadenza.persistence.records import TaskKind, TaskRecord

STICKY_POLLER_GRACE = 10.0
"""A sticky queue counts as alive this long after its worker's last poll."""


@dataclass
class _Queue:
    tasks: deque[TaskRecord] = field(default_factory=deque)
    pollers: deque[asyncio.Future[TaskRecord | None]] = field(default_factory=deque)
    last_poll: float = 0.0
    shut_down: bool = False
    poller_identities: dict[str, float] = field(default_factory=dict)


QueueKey = tuple[str, str, TaskKind]


class MatchingService:
    """Matches tasks with pollers; one queue per namespace, name and task kind."""

    def __init__(self) -> None:
        self._queues: dict[QueueKey, _Queue] = {}
        self._by_worker: dict[str, set[asyncio.Future[TaskRecord | None]]] = {}
        """Waiting polls by the worker instance that sent them, to end them at its shutdown."""

    def add_task(self, task: TaskRecord) -> None:
        queue = self._queue((task.namespace_id, task.task_queue, task.kind))
        while queue.pollers:
            poller = queue.pollers.popleft()
            if not poller.done():
                poller.set_result(task)
                return
        queue.tasks.append(task)

    async def poll(
        self, namespace_id: str, name: str, kind: TaskKind, identity: str, timeout: float,
        worker_key: str = "",
    ) -> TaskRecord | None:
        """Wait up to ``timeout`` seconds for a task; None if none came or the worker left."""
        queue = self._queue((namespace_id, name, kind))
        queue.last_poll = time.monotonic()
        queue.shut_down = False
        queue.poller_identities[identity] = time.time()
        if queue.tasks:
            return queue.tasks.popleft()
        loop = asyncio.get_running_loop()
        poller: asyncio.Future[TaskRecord | None] = loop.create_future()
        queue.pollers.append(poller)
        if worker_key:
            self._by_worker.setdefault(worker_key, set()).add(poller)
        try:
            return await asyncio.wait_for(asyncio.shield(poller), timeout)
        except TimeoutError:
            return self._withdraw(queue, poller)
        except asyncio.CancelledError:
            task = self._withdraw(queue, poller)
            if task is not None:
                self.add_task(task)
            raise
        finally:
            queue.last_poll = time.monotonic()
            if worker_key:
                waiting = self._by_worker.get(worker_key)
                if waiting is not None:
                    waiting.discard(poller)
                    if not waiting:
                        del self._by_worker[worker_key]

    def end_polls(self, worker_key: str) -> None:
        """A worker is shutting down: answer its waiting polls empty, so no task goes to it."""
        for poller in self._by_worker.pop(worker_key, set()):
            if not poller.done():
                poller.set_result(None)

    def return_task(self, task: TaskRecord) -> None:
        """Put back a task a poller took but could not deliver."""
        self.add_task(task)

    @staticmethod
    def _withdraw(queue: _Queue, poller: asyncio.Future[TaskRecord | None]) -> TaskRecord | None:
        """Stop waiting; if a task arrived at the last moment, hand it back to the caller."""
        if poller.done():
            return poller.result()
        poller.cancel()
        try:
            queue.pollers.remove(poller)
        except ValueError:
            pass
        return None

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
        return list(queue.tasks)

    def pollers(self, namespace_id: str, name: str, kind: TaskKind) -> dict[str, float]:
        """Identities that polled the queue recently, with the time of their last poll."""
        queue = self._queues.get((namespace_id, name, kind))
        return dict(queue.poller_identities) if queue else {}

    def backlog(self, namespace_id: str, name: str, kind: TaskKind) -> int:
        queue = self._queues.get((namespace_id, name, kind))
        return len(queue.tasks) if queue else 0

    def _queue(self, key: QueueKey) -> _Queue:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue()
        return queue
