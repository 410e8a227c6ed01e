"""Nexus task queues: requests to Nexus handler workers, each awaiting its worker's answer.

As in Temporal, a Nexus request is not stored in the queue: the caller's history keeps the
durable record (an outbox entry), and the request waits here, in memory, for a handler to
poll it and answer, or for its deadline. A request that times out is tried again by its
outbox entry, so nothing is lost when the process dies.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from cadenza.exceptions import InvalidArgumentError
from cadenza.matching.queue import PollerSeen, Queue, Waiters

_TOKEN_KIND = "nexus-operation"
POLLER_MEMORY = 300.0
"""How long a poller is shown after its last poll."""
DEFAULT_DISPATCH_RATE = 100_000.0
"""The dispatch rate a Nexus poller is shown with: it cannot ask for one."""


@dataclass
class NexusTask:
    """One request on its way to a handler, and the future its answer resolves."""

    task_id: str
    namespace_id: str
    request: Any
    """The ``temporal.api.nexus.v1.Request`` to hand out."""
    expires_at: float
    """Monotonic time after which the request is no longer delivered or answered."""
    answer: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass(frozen=True)
class NexusTaskToken:
    """The task token of a Nexus operation request: which request of which queue is answered."""

    namespace_id: str
    task_queue: str
    task_id: str

    def encode(self) -> bytes:
        return json.dumps({"k": _TOKEN_KIND, **asdict(self)}, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> NexusTaskToken | None:
        """The token, or None if ``data`` is not a Nexus operation token (a control task's)."""
        try:
            raw = json.loads(data)
        except ValueError as error:
            raise InvalidArgumentError("Error deserializing task token.") from error
        if not isinstance(raw, dict) or raw.pop("k", None) != _TOKEN_KIND:
            return None
        try:
            return cls(**raw)
        except TypeError as error:
            raise InvalidArgumentError("Error deserializing task token.") from error


class NexusTaskQueues:
    """Nexus requests by namespace and queue name, handed to long-polling handler workers."""

    def __init__(self, waiters: Waiters) -> None:
        self._waiters = waiters
        self._queues: dict[tuple[str, str], Queue[NexusTask]] = {}
        self._in_flight: dict[str, NexusTask] = {}
        self._pollers: dict[tuple[str, str], dict[str, PollerSeen]] = {}
        """Who polled each queue lately, for DescribeTaskQueue (kept when the queue goes idle)."""

    async def dispatch(self, namespace_id: str, task_queue: str, request: Any, timeout: float) -> Any:
        """Hand ``request`` to the queue's next poll and wait for the worker's answer: the
        RespondNexusTaskCompleted/Failed request. ``TimeoutError`` if none came in time."""
        task = NexusTask(uuid.uuid4().hex, namespace_id, request, time.monotonic() + timeout)
        self._queue((namespace_id, task_queue)).offer(task)
        try:
            return await asyncio.wait_for(asyncio.shield(task.answer), timeout)
        finally:
            task.expires_at = 0.0  # a poll that finds it later skips it
            self._in_flight.pop(task.task_id, None)

    async def poll(
        self, namespace_id: str, name: str, timeout: float, worker_key: str, identity: str = ""
    ) -> NexusTask | None:
        """Wait up to ``timeout`` seconds for a live request."""
        if self._waiters.has_left(worker_key):
            return None
        key = (namespace_id, name)
        if identity:
            seen = self._pollers.setdefault(key, {})
            seen[identity] = PollerSeen(time.time(), DEFAULT_DISPATCH_RATE)
            for stale in [i for i, p in seen.items() if time.time() - p.last_access_time > POLLER_MEMORY]:
                del seen[stale]
        deadline = time.monotonic() + timeout
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                task = await self._take(key, remaining, worker_key)
                if task is None:
                    return None
                if task.expires_at > time.monotonic() and not task.answer.done():
                    self._in_flight[task.task_id] = task
                    return task
            return None
        finally:
            left = self._queues.get(key)
            if left is not None and left.idle:
                del self._queues[key]

    async def _take(self, key: tuple[str, str], timeout: float, worker_key: str) -> NexusTask | None:
        queue = self._queue(key)
        if queue.items:
            return queue.items.popleft()

        def requeue(task: NexusTask) -> None:
            self._queue(key).offer(task)

        return await self._waiters.wait(queue, timeout, worker_key, requeue)

    def pollers(self, namespace_id: str, name: str) -> dict[str, PollerSeen]:
        """Identities that polled the queue recently, with their last poll."""
        return dict(self._pollers.get((namespace_id, name), {}))

    def answer(self, namespace_id: str, task_id: str, response: Any) -> bool:
        """A worker answered a request; False if it is unknown, expired or answered already."""
        task = self._in_flight.pop(task_id, None)
        if task is None or task.namespace_id != namespace_id or task.answer.done():
            return False
        task.answer.set_result(response)
        return True

    def _queue(self, key: tuple[str, str]) -> Queue[NexusTask]:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = Queue()
        return queue
