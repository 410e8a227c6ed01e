"""Long polls of task queues, shared by the workflow-task and activity-task RPCs.

A poll waits for a task in matching, then has it recorded as started; a task
whose recording fails, or that matched a poll its worker already dropped, goes
back on its queue so another worker gets it.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cadenza.api.requests import R, poll_deadline, poller_rate, requested_rate
from cadenza.matching import MatchingService
from cadenza.matching.gate import DispatchGate
from cadenza.observability.hooks import dispatching
from cadenza.persistence.concurrency_records import SLOT_FULL, SLOT_HELD, SLOT_TAKEN
from cadenza.persistence.records import TaskKind, TaskRecord


class LongPolls:
    """Long polls on matching's queues, each at most ``long_poll_seconds`` long."""

    def __init__(self, matching: MatchingService, long_poll_seconds: float) -> None:
        self._matching = matching
        self._long_poll_seconds = long_poll_seconds

    async def poll(
        self,
        namespace_id: str,
        name: str,
        kind: TaskKind,
        request: Any,
        context: Any,
        deliver: Callable[[TaskRecord], Awaitable[R | None]],
    ) -> R | None:
        """Long-poll a queue until a task is delivered; None when the poll ends empty.

        A task that turns out to be obsolete (``deliver`` answers None) is skipped,
        and the poll goes on waiting for the rest of its time.
        """
        deadline = poll_deadline(context, self._long_poll_seconds)
        while (remaining := deadline - time.monotonic()) > 0:
            task = await self._matching.poll(
                namespace_id,
                name,
                kind,
                request.identity,
                remaining,
                request.worker_instance_key,
                poller_rate(request),
                requested_rate(request),
            )
            if task is None:
                return None
            if context.done():  # the worker dropped this poll: keep the task for another
                self._matching.return_task(task)
                return None
            gate = self._matching.gate
            try:
                slot = SLOT_TAKEN if gate is None else await gate.confirm(task)
            except BaseException:
                self._matching.return_task(task)
                raise
            if slot == SLOT_FULL:
                self._matching.add_task(task)  # another server took the last slot: wait again
                continue
            if slot == SLOT_HELD:  # another server is handing this very task over
                continue
            # Once matched, the task is recorded to the end even if the poll is cancelled
            # meanwhile, so memory never lags behind what was committed.
            delivery = asyncio.ensure_future(dispatching(task, deliver))
            if gate is not None:  # settled even if this poll is cancelled meanwhile
                delivery.add_done_callback(functools.partial(_settle, gate, task))
            response = await asyncio.shield(delivery)
            if response is not None:
                return response
        return None

    async def delivered(self, task: TaskRecord, recording: Awaitable[R]) -> R:
        """Record a polled task as started; if that fails, the task goes back on its queue."""
        try:
            return await recording
        except BaseException:
            self._matching.return_task(task)
            raise


def _settle(gate: DispatchGate, task: TaskRecord, delivery: asyncio.Future[Any]) -> None:
    """A delivery ended: its task's slot is now held by the started attempt, or freed."""
    if not delivery.cancelled() and delivery.exception() is None and delivery.result() is not None:
        gate.handed_over(task)
    else:
        gate.give_back(task)
