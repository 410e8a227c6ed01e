"""One in-memory queue: pending items on one side, waiting long polls on the other.

Both the workflow/activity task queues and the workers' control queues are
made of these; ``Waiters`` remembers which worker instance sent each waiting
poll, so a worker's ShutdownWorker ends all of them, whatever queue they wait on.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class Pending(Protocol[T]):
    """Items waiting in a queue, taken from the left: a deque, or a task queue's ``Backlog``."""

    def append(self, item: T, /) -> None: ...
    def popleft(self) -> T: ...
    def clear(self) -> None: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[T]: ...


LEFT_WORKER_MEMORY = 300.0
"""How long a worker that shut down is remembered, to answer its late polls empty at once."""


@dataclass(frozen=True)
class PollerSeen:
    """A poller's last poll of a queue, as DescribeTaskQueue reports it."""

    last_access_time: float
    rate_per_second: float
    """The dispatch rate the poller asked for (the server's default when it asked none)."""


@dataclass
class Queue(Generic[T]):
    """Pending items and the polls waiting for them."""

    items: Pending[T] = field(default_factory=deque)
    pollers: deque[asyncio.Future[T | None]] = field(default_factory=deque)
    last_poll: float = 0.0
    made_at: float = field(default_factory=time.monotonic)
    """When the queue came to be: a queue never polled counts as idle from then, not forever."""
    shut_down: bool = False
    poller_identities: dict[str, PollerSeen] = field(default_factory=dict)

    def offer(self, item: T) -> bool:
        """Hand the item to the oldest waiting poll and return True, or keep it for the next
        poll and return False."""
        while self.pollers:
            poller = self.pollers.popleft()
            if not poller.done():
                poller.set_result(item)
                return True
        self.items.append(item)
        return False

    @property
    def idle(self) -> bool:
        return not self.items and not self.pollers


class Waiters:
    """Waiting polls by the worker instance that sent them, to end them at its shutdown."""

    def __init__(self) -> None:
        self._by_worker: dict[str, set[asyncio.Future[Any]]] = {}
        self._left: dict[str, float] = {}

    def has_left(self, worker_key: str) -> bool:
        """Whether this worker instance already shut down.

        A poll the worker sent just before its ShutdownWorker can arrive after it;
        it must end at once, not hold the worker's shutdown for a whole long poll.
        """
        return bool(worker_key) and worker_key in self._left

    async def wait(
        self, queue: Queue[T], timeout: float, worker_key: str, requeue: Callable[[T], None]
    ) -> T | None:
        """Wait up to ``timeout`` seconds for an item; None if none came or the worker left.

        An item that arrives as the wait is cancelled goes back through ``requeue``.
        """
        poller: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()
        queue.pollers.append(poller)
        if worker_key:
            self._by_worker.setdefault(worker_key, set()).add(poller)
        try:
            return await asyncio.wait_for(asyncio.shield(poller), timeout)
        except TimeoutError:
            return _withdraw(queue, poller)
        except asyncio.CancelledError:
            item = _withdraw(queue, poller)
            if item is not None:
                requeue(item)
            raise
        finally:
            if worker_key:
                self._forget(worker_key, poller)

    def end(self, worker_key: str) -> None:
        """A worker is shutting down: answer its waiting polls empty, so nothing goes to it."""
        now = time.monotonic()
        self._left = {k: t for k, t in self._left.items() if now - t < LEFT_WORKER_MEMORY}
        if worker_key:
            self._left[worker_key] = now
        for poller in self._by_worker.pop(worker_key, set()):
            if not poller.done():
                poller.set_result(None)

    def _forget(self, worker_key: str, poller: asyncio.Future[Any]) -> None:
        waiting = self._by_worker.get(worker_key)
        if waiting is not None:
            waiting.discard(poller)
            if not waiting:
                del self._by_worker[worker_key]


def _withdraw(queue: Queue[T], poller: asyncio.Future[T | None]) -> T | None:
    """Stop waiting; if an item arrived at the last moment, hand it back to the caller."""
    if poller.done():
        return poller.result()
    poller.cancel()
    try:
        queue.pollers.remove(poller)
    except ValueError:
        pass
    return None
