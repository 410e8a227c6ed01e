"""What matching asks of the concurrency limits, and the tasks a full limit holds back.

A queue without a limit costs a poll one dict lookup. On a limited queue a task whose
fairness key is full is parked: set aside, in arrival order per key, until a slot of its key
frees, while the tasks of other keys go on being dispatched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Protocol

from cadenza.persistence.concurrency_records import ConcurrencyLimitRecord
from cadenza.persistence.records import TaskRecord


class DispatchGate(Protocol):
    """The concurrency limits, as matching sees them (``cadenza.concurrency``)."""

    def activity_limit(self, namespace_id: str, task_queue: str) -> ConcurrencyLimitRecord | None: ...

    def has_room(self, limit: ConcurrencyLimitRecord) -> bool: ...

    def admits(self, limit: ConcurrencyLimitRecord, fairness_key: str) -> bool: ...

    def reserve(self, task: TaskRecord) -> None: ...

    def give_back(self, task: TaskRecord) -> None: ...

    async def confirm(self, task: TaskRecord) -> str: ...

    def handed_over(self, task: TaskRecord) -> None: ...

    async def wait_freed(self, timeout: float) -> None: ...


class Parked:
    """Tasks held back by a full fairness key, oldest first per key."""

    def __init__(self) -> None:
        self._by_key: dict[str, dict[str, TaskRecord]] = {}
        self._key_of: dict[str, str] = {}

    def park(self, task: TaskRecord) -> None:
        key = task.priority.fairness_key
        self._by_key.setdefault(key, {})[task.task_id] = task
        self._key_of[task.task_id] = key

    def discard(self, task_id: str) -> bool:
        """Forget a parked task; False if it is not parked here."""
        key = self._key_of.pop(task_id, None)
        if key is None:
            return False
        waiting = self._by_key[key]
        del waiting[task_id]
        if not waiting:
            del self._by_key[key]
        return True

    def first_admitted(self, gate: DispatchGate, limit: ConcurrencyLimitRecord) -> TaskRecord | None:
        """The oldest parked task of a key the limit admits now, taken out; None if none is."""
        for key, waiting in self._by_key.items():
            if gate.admits(limit, key):
                task = next(iter(waiting.values()))
                self.discard(task.task_id)
                return task
        return None

    def clear(self) -> None:
        self._by_key.clear()
        self._key_of.clear()

    def __len__(self) -> int:
        return len(self._key_of)

    def __iter__(self) -> Iterator[TaskRecord]:
        for waiting in self._by_key.values():
            yield from waiting.values()


def end_waits(
    arriving: asyncio.Task[TaskRecord | None],
    freed: asyncio.Task[None],
    requeue: Callable[[TaskRecord], None],
) -> TaskRecord | None:
    """Stop a gated poll's two waits (for a task, for a freed slot); the task that came, if one
    did. A wait for a task still running is cancelled, and a task that reaches it before it ends
    goes back through ``requeue`` (Python 3.11's ``wait_for`` may even return one after the
    cancellation)."""
    freed.cancel()
    if not arriving.done():
        arriving.cancel()
        arriving.add_done_callback(lambda late: _requeue_late(late, requeue))
        return None
    if arriving.cancelled() or arriving.exception() is not None:
        return None
    return arriving.result()


def _requeue_late(arrival: asyncio.Task[TaskRecord | None], requeue: Callable[[TaskRecord], None]) -> None:
    if not arrival.cancelled() and arrival.exception() is None and (task := arrival.result()) is not None:
        requeue(task)
