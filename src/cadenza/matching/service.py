"""Task queues in memory: pending tasks on one side, waiting pollers on the other.

Tasks reach a queue only after their change is committed, so memory never
holds a task the database lacks; at start the store's pending tasks are
loaded back in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from cadenza.clock import Clock
from cadenza.deployments.names import user_queue
from cadenza.matching.control import ControlQueues
from cadenza.matching.gate import DispatchGate, Parked, end_waits
from cadenza.matching.nexus_tasks import NexusTaskQueues
from cadenza.matching.ordering import Backlog, priority_level
from cadenza.matching.queue import PollerSeen, Queue, Waiters
from cadenza.matching.rate_limits import QueueLimiter, RateLimits, fairness_of
from cadenza.matching.reports import QueueReports
from cadenza.matching.workers import WorkerRegistry
from cadenza.metrics.hooks import UNOBSERVED, TaskObserver
from cadenza.persistence.concurrency_records import ConcurrencyLimitRecord
from cadenza.persistence.records import TaskKind, TaskRecord

logger = logging.getLogger(__name__)

DEFAULT_DISPATCH_RATE = 100000.0
"""Tasks per second a poller is said to accept when it names no limit: Temporal's default."""
SWEEP_AT = 64
"""Withdrawn tasks a queue holds before it may be swept: fewer are cheaper to skip."""
PACE_SLICE = 0.25
"""Longest sleep of a poll waiting for its queue's rate limit before it looks again."""
STICKY_POLLER_GRACE = 10.0
"""A sticky queue counts as alive this long after its worker's last poll."""


QueueKey = tuple[str, str, TaskKind]
Waiting = tuple[QueueKey, int]
"""Where a task waits: its queue, and its priority level (which a withdrawal leaves it out of)."""


def _own_queue(task: TaskRecord) -> str:
    return task.task_queue


@dataclass
class _Queue(Queue[TaskRecord]):
    """A task queue: its waiting tasks in dispatch order (priority, fairness, arrival)."""

    items: Backlog = field(default_factory=Backlog)
    parked: Parked = field(default_factory=Parked)
    """Tasks a full concurrency limit holds back (still in ``_pending``)."""


class MatchingService(QueueReports):
    """Matches tasks with pollers; one queue per namespace, name and task kind.

    ``control`` holds the workers' control queues, whose polls end at a
    worker's shutdown like the others; ``workers`` their latest heartbeats.
    ``observer`` is told each task queued and each poll's end (metrics). ``rate_limits``
    paces each queue's dispatch (``clock`` measures it; monotonic by default).
    """

    def __init__(
        self,
        observer: TaskObserver = UNOBSERVED,
        clock: Clock | None = None,
        router: Callable[[TaskRecord], str] | None = None,
    ) -> None:
        self._observer = observer
        self._route = router or _own_queue
        """The queue a task waits on: a version's own queue when its task queue routes it there."""
        self.rate_limits = RateLimits(clock)
        self._queues: dict[QueueKey, _Queue] = {}
        self._pending: dict[str, Waiting] = {}
        """Where each task waiting in a queue waits; a withdrawn task is no longer here."""
        self._waiters = Waiters()
        self.control = ControlQueues(self._waiters)
        self.nexus_tasks = NexusTaskQueues(self._waiters)
        self.workers = WorkerRegistry()
        self.gate: DispatchGate | None = None
        """The concurrency limits on activity dispatch; None: no limit is checked."""
        self.shared = False
        """Whether other replicas serve the same database (their workers poll there)."""

    def add_task(self, task: TaskRecord) -> None:
        self._observer.added(task)
        self._enqueue(task)

    def _enqueue(self, task: TaskRecord) -> None:
        key = (task.namespace_id, self._route(task), task.kind)
        if not self._queue(key).offer(task):  # no poll was waiting: it waits in the queue
            self._wait_in(key, task)

    def _wait_in(self, key: QueueKey, task: TaskRecord) -> None:
        self._pending[task.task_id] = (key, priority_level(task))

    def routed_queue(self, task: TaskRecord) -> str:
        """The queue ``task`` waits on here: its task queue's, or its version's."""
        return self._route(task)

    def reroute(self, namespace_id: str, task_queue: str) -> None:
        """The routing of ``task_queue`` changed: move its waiting tasks to the queues they now
        route to (a backlog left for the unversioned workers goes to the new current version)."""
        for key, queue in list(self._queues.items()):
            if key[0] == namespace_id and user_queue(key[1]) == task_queue:
                self._move_misrouted(queue, key[1])

    def _move_misrouted(self, queue: _Queue, name: str) -> None:
        moved: list[TaskRecord] = []

        def stays(task: TaskRecord) -> bool:
            if self._pending.get(task.task_id) is None or self._route(task) == name:
                return True
            moved.append(task)
            return False

        queue.items.retain(stays)
        for task in moved:
            self._pending.pop(task.task_id, None)
            self._enqueue(task)

    def set_fairness_weight_overrides(
        self, namespace_id: str, name: str, kind: TaskKind, overrides: Mapping[str, float]
    ) -> None:
        """The queue's weight for each fairness key named, over the tasks' own weights."""
        self._queue((namespace_id, name, kind)).items.set_weight_overrides(overrides)

    def withdraw(self, task_ids: Iterable[str]) -> None:
        """Forget waiting tasks that a committed change removed (their run closed, say).

        Without this, a queue nobody polls would keep every task it was ever given in
        memory. A withdrawn task is skipped when a poll reaches it; once withdrawn tasks
        are half a queue, the queue is swept, so each costs O(1) on average.
        """
        left = []
        for task_id in task_ids:
            waiting = self._pending.pop(task_id, None)
            if waiting is None:
                continue
            left.append(task_id)
            key, level = waiting
            queue = self._queues.get(key)
            if queue is None or queue.parked.discard(task_id):
                continue
            queue.items.note_withdrawn(level)
            withdrawn = queue.items.withdrawn
            if withdrawn >= SWEEP_AT and withdrawn * 2 >= len(queue.items):
                self._sweep(queue, key)
        self._observer.left(left)

    def _sweep(self, queue: _Queue, key: QueueKey) -> None:
        """Drop the queue's withdrawn tasks in one pass."""
        queue.items.retain(
            lambda task: (waiting := self._pending.get(task.task_id)) is not None and waiting[0] == key
        )
        queue.items.forget_withdrawn()

    def _next_waiting(self, queue: _Queue) -> TaskRecord | None:
        """The oldest task in ``queue`` not withdrawn, taken out of it; None if there is none."""
        while queue.items:
            task = queue.items.popleft()
            if self._pending.pop(task.task_id, None) is not None:
                return task
            queue.items.drop_withdrawn(task)
        return None

    async def poll(
        self,
        namespace_id: str,
        name: str,
        kind: TaskKind,
        identity: str,
        timeout: float,
        worker_key: str = "",
        rate_per_second: float = DEFAULT_DISPATCH_RATE,
        worker_rate: float | None = None,
    ) -> TaskRecord | None:
        """Wait up to ``timeout`` seconds for a task; None if none came or the worker left.

        ``worker_rate`` is the dispatch rate the poll asks for the whole queue (the latest
        poll's wins, as on Temporal); ``rate_per_second`` is what DescribeTaskQueue shows.
        """
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
        limiter = self.rate_limits.limiter(namespace_id, name, kind)
        limiter.set_worker_rate(worker_rate)
        deadline = time.monotonic() + timeout
        try:
            if self.gate is not None and kind is TaskKind.ACTIVITY:
                task, waited = await self._take_gated(
                    queue, (namespace_id, name, kind), limiter, deadline, worker_key
                )
            else:
                task, waited = await self._take_paced(queue, limiter, deadline, worker_key)
        finally:
            queue.last_poll = time.monotonic()
        self._observer.polled(namespace_id, name, kind, task, waited)
        return task

    async def _take_paced(
        self, queue: _Queue, limiter: QueueLimiter, deadline: float, worker_key: str
    ) -> tuple[TaskRecord | None, bool]:
        """The next task once the queue's rate limits let it go, and whether the poll waited
        for it; (None, True) when the time ran out or the worker left."""
        while (remaining := deadline - time.monotonic()) > 0:
            if self._waiters.has_left(worker_key):
                return None, True
            head = self._head(queue)
            pause = limiter.delay(*fairness_of(head)) if head is not None else limiter.delay()
            if pause > 0:
                # In slices, so a poll of a worker that shuts down meanwhile ends soon.
                await asyncio.sleep(min(pause, remaining, PACE_SLICE))
                continue
            task = self._next_waiting(queue)
            if task is not None:
                limiter.take(*fairness_of(task))
                return task, False
            task = await self._waiters.wait(queue, remaining, worker_key, self.add_task)
            if task is None:
                return None, True
            if limiter.delay(*fairness_of(task)) > 0:  # another poll took the turn meanwhile
                self._enqueue(task)
                continue
            limiter.take(*fairness_of(task))
            return task, True
        return None, True

    def _head(self, queue: _Queue) -> TaskRecord | None:
        """The task a poll of ``queue`` would take next, left in place; None if there is none."""
        while (head := queue.items.peek()) is not None and head.task_id not in self._pending:
            queue.items.drop_withdrawn(queue.items.popleft())
        return head

    async def _take_gated(
        self, queue: _Queue, key: QueueKey, limiter: QueueLimiter, deadline: float, worker_key: str
    ) -> tuple[TaskRecord | None, bool]:
        """As ``_take_paced``, on an activity queue that may have a concurrency limit: a task
        is handed over only with a slot of its limit (and of its fairness key) reserved."""
        gate = self.gate
        assert gate is not None
        waited = False
        while (remaining := deadline - time.monotonic()) > 0:
            limit = gate.activity_limit(key[0], key[1])
            if limit is None:
                self._unpark(queue)
                task, waited_paced = await self._take_paced(queue, limiter, deadline, worker_key)
                return task, waited or waited_paced
            if self._waiters.has_left(worker_key):
                return None, True
            task = self._next_admitted(queue, key, gate, limit)
            if task is None:
                task = await self._wait_task_or_slot(queue, gate, remaining, worker_key)
                waited = True
                if task is None or not self._admit_arrived(queue, key, gate, limit, task):
                    continue
            pause = limiter.delay(*fairness_of(task))
            if pause > 0:  # the rate limit comes first: the task waits parked meanwhile
                self._wait_in(key, task)
                queue.parked.park(task)
                await asyncio.sleep(min(pause, remaining, PACE_SLICE))
                continue
            limiter.take(*fairness_of(task))
            gate.reserve(task)
            return task, waited
        return None, True

    def _next_admitted(
        self, queue: _Queue, key: QueueKey, gate: DispatchGate, limit: ConcurrencyLimitRecord
    ) -> TaskRecord | None:
        """The next task whose limit and fairness key have a free slot, taken out; tasks of
        full keys met on the way are parked."""
        if not gate.has_room(limit):
            return None
        while (task := queue.parked.first_admitted(gate, limit)) is not None:
            if self._pending.pop(task.task_id, None) is not None:  # else handed out already
                return task
        while (task := self._next_waiting(queue)) is not None:
            if gate.admits(limit, task.priority.fairness_key):
                return task
            self._wait_in(key, task)
            queue.parked.park(task)
        return None

    def _admit_arrived(
        self,
        queue: _Queue,
        key: QueueKey,
        gate: DispatchGate,
        limit: ConcurrencyLimitRecord,
        task: TaskRecord,
    ) -> bool:
        """Whether a task handed straight to the waiting poll may go; if not, it is parked."""
        if gate.admits(limit, task.priority.fairness_key):
            return True
        self._wait_in(key, task)
        queue.parked.park(task)
        return False

    async def _wait_task_or_slot(
        self, queue: _Queue, gate: DispatchGate, timeout: float, worker_key: str
    ) -> TaskRecord | None:
        """Wait for a new task or a freed slot, whichever comes first; the task if one came."""
        arriving = asyncio.ensure_future(self._arrival(queue, timeout, worker_key))
        freed = asyncio.ensure_future(gate.wait_freed(timeout))
        try:
            await asyncio.wait({arriving, freed}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            # The poll itself was cancelled: a task that reached it meanwhile goes back.
            task = end_waits(arriving, freed, self._enqueue)
            if task is not None:
                self._enqueue(task)
            raise
        # No await from here on: a cancellation now would lose the task that came.
        return end_waits(arriving, freed, self._enqueue)

    async def _arrival(self, queue: _Queue, timeout: float, worker_key: str) -> TaskRecord | None:
        return await self._waiters.wait(queue, timeout, worker_key, self._enqueue)

    def _unpark(self, queue: _Queue) -> None:
        """The queue's limit is gone: its parked tasks go back in dispatch order."""
        if queue.parked:
            for task in queue.parked:
                queue.items.append(task)
            queue.parked.clear()

    def end_polls(self, worker_key: str) -> None:
        """A worker is shutting down: answer its waiting polls empty, so no task goes to it."""
        self._waiters.end(worker_key)

    def return_task(self, task: TaskRecord) -> None:
        """Put back a task a poller took but could not deliver (and free its slot)."""
        if self.gate is not None:
            self.gate.give_back(task)
        self.add_task(task)

    def sticky_alive(self, namespace_id: str, name: str) -> bool:
        """Whether a sticky queue's worker has polled here recently and not shut down."""
        queue = self._queues.get((namespace_id, name, TaskKind.WORKFLOW))
        if queue is None or queue.shut_down:
            return False
        return bool(queue.pollers) or time.monotonic() - queue.last_poll < STICKY_POLLER_GRACE

    def sticky_reachable(self, namespace_id: str, name: str) -> bool:
        """Whether a workflow task may go to a sticky queue rather than the normal one.

        Alone, only a worker polling here can take it. With other replicas, a sticky
        worker that has not polled here may poll one of them, where the stored task is
        announced; a worker that is gone everywhere leaves the task to the sticky
        schedule-to-start timeout, which moves it to the normal queue with the full
        history, as on Temporal. Only a worker that shut down here is known to be gone.
        """
        if self.sticky_alive(namespace_id, name):
            return True
        queue = self._queues.get((namespace_id, name, TaskKind.WORKFLOW))
        return self.shared and not (queue is not None and queue.shut_down)

    def shut_down_sticky(self, namespace_id: str, name: str) -> list[TaskRecord]:
        """The sticky worker left: return its pending tasks so they can move elsewhere."""
        queue = self._queues.pop((namespace_id, name, TaskKind.WORKFLOW), None)
        if queue is None:
            return []
        for poller in queue.pollers:
            poller.cancel()
        self._queues[(namespace_id, name, TaskKind.WORKFLOW)] = _Queue(shut_down=True)
        return [task for task in queue.items if self._pending.pop(task.task_id, None) is not None]

    def _queue(self, key: QueueKey) -> _Queue:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue()
        return queue
