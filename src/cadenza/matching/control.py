"""The workers' control queues: commands pushed to worker processes, in memory only.

A worker process long-polls its control queue (PollNexusTaskQueue with the
queue kind WORKER_COMMANDS) and answers each task it gets with
RespondNexusTaskCompleted or RespondNexusTaskFailed. As in Temporal, a
command that no worker takes within ``REQUEST_TIMEOUT`` is dropped: the
commands are best effort (see ``cadenza.worker_commands``), so nothing is
stored and nothing is retried.

Polls of any other Nexus queue wait on a queue that never gets a task:
Cadenza runs no ordinary Nexus operations.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass

from temporalio.api.enums.v1 import TaskQueueKind

from cadenza.exceptions import InvalidArgumentError
from cadenza.matching.queue import Queue, Waiters
from cadenza.worker_commands import WorkerCommands

REQUEST_TIMEOUT = 10.0
"""How long a command waits for its worker to poll, and then for the worker's answer."""

CONTROL_KIND = TaskQueueKind.TASK_QUEUE_KIND_WORKER_COMMANDS

_TOKEN_VERSION = 1


@dataclass(frozen=True)
class ControlTask:
    """Commands on their way to a worker process, as one Nexus task."""

    task_id: str
    commands: WorkerCommands
    expires_at: float
    """Monotonic time after which the task is no longer delivered or answered."""


@dataclass(frozen=True)
class ControlTaskToken:
    """The task token of a control task: which task of which queue a worker answers."""

    namespace_id: str
    task_queue: str
    task_id: str

    def encode(self) -> bytes:
        return json.dumps({"v": _TOKEN_VERSION, **asdict(self)}, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> ControlTaskToken:
        try:
            raw = json.loads(data)
            if not isinstance(raw, dict) or raw.pop("v", None) != _TOKEN_VERSION:
                raise ValueError("unknown token version")
            token = cls(**raw)
        except (ValueError, TypeError) as exc:
            raise InvalidArgumentError("Error deserializing task token.") from exc
        if not token.task_queue or not token.task_id:
            raise InvalidArgumentError("Invalid TaskToken.")
        return token


_Key = tuple[str, str, int]


class ControlQueues:
    """Control queues by namespace, name and queue kind; each task waits for one poll."""

    def __init__(self, waiters: Waiters) -> None:
        self._waiters = waiters
        self._queues: dict[_Key, Queue[ControlTask]] = {}
        self._in_flight: dict[str, ControlTask] = {}
        """Tasks handed to a worker and not yet answered, by task ID."""

    def push(self, commands: WorkerCommands) -> None:
        """Send commands to the worker process that polls their control queue."""
        now = time.monotonic()
        self._forget_expired(now)
        key = (commands.namespace_id, commands.control_queue, CONTROL_KIND)
        queue = self._queue(key)
        while queue.items and next(iter(queue.items)).expires_at <= now:
            queue.items.popleft()
        queue.offer(ControlTask(uuid.uuid4().hex, commands, now + REQUEST_TIMEOUT))

    async def poll(
        self, namespace_id: str, name: str, kind: int, timeout: float, worker_key: str
    ) -> ControlTask | None:
        """Wait up to ``timeout`` seconds for a live task; it then awaits the worker's answer."""
        if self._waiters.has_left(worker_key):
            return None
        key = (namespace_id, name, kind)
        deadline = time.monotonic() + timeout
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                task = await self._take(key, remaining, worker_key)
                if task is None:
                    return None
                now = time.monotonic()
                if task.expires_at > now:
                    answered_by = ControlTask(task.task_id, task.commands, now + REQUEST_TIMEOUT)
                    self._in_flight[task.task_id] = answered_by
                    return answered_by
            return None
        finally:
            left = self._queues.get(key)
            if left is not None and left.idle:
                del self._queues[key]

    async def _take(self, key: _Key, timeout: float, worker_key: str) -> ControlTask | None:
        queue = self._queue(key)
        if queue.items:
            return queue.items.popleft()

        def requeue(task: ControlTask) -> None:
            self._queue(key).offer(task)

        return await self._waiters.wait(queue, timeout, worker_key, requeue)

    def finish(self, namespace_id: str, task_id: str) -> ControlTask | None:
        """The worker answered a task: the task it was, or None if unknown or expired."""
        self._forget_expired(time.monotonic())
        task = self._in_flight.get(task_id)
        if task is None or task.commands.namespace_id != namespace_id:
            return None
        del self._in_flight[task_id]
        return task

    def _forget_expired(self, now: float) -> None:
        for task_id in [t.task_id for t in self._in_flight.values() if t.expires_at <= now]:
            del self._in_flight[task_id]

    def _queue(self, key: _Key) -> Queue[ControlTask]:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = Queue()
        return queue
