"""One in-memory heap of durable timers, fired in order by a single loop.

Timers are written to the database with the change that creates them and
added here after commit; at start every stored timer is loaded, so a timer
that came due while the server was down fires at once.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from cadenza.clock import Clock
from cadenza.persistence.records import TimerRecord

logger = logging.getLogger(__name__)

RETRY_DELAY = 1.0
FireHandler = Callable[[TimerRecord], Awaitable[None]]


class TimerQueue:
    """Fires each timer's handler at (or just after) its time."""

    def __init__(self, clock: Clock, fire: FireHandler) -> None:
        self._clock = clock
        self._fire = fire
        self._heap: list[tuple[float, str, TimerRecord]] = []
        self._queued: set[str] = set()
        """IDs in the heap: recovery may offer a timer again, and it must fire once."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self.on_fired: Callable[[TimerRecord, float], None] | None = None
        """Told each timer that fired and how many seconds after its time it began to."""

    def add(self, timer: TimerRecord) -> None:
        if timer.timer_id in self._queued:
            return
        self._queued.add(timer.timer_id)
        heapq.heappush(self._heap, (timer.fire_at, timer.timer_id, timer))
        if self._heap[0][2] is timer:
            self._wake.set()

    def discard(self, timer_id: str) -> None:
        """Forget a timer whose change removed it: it would only fire to find itself obsolete.

        Its heap entry stays until it comes due, then is skipped.
        """
        self._queued.discard(timer_id)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cadenza-timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            delay = self._due_in()
            if delay is None or delay > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except TimeoutError:
                    pass
                continue
            _, _, timer = heapq.heappop(self._heap)
            if timer.timer_id not in self._queued:
                continue  # discarded after it was queued
            self._queued.discard(timer.timer_id)
            task = asyncio.create_task(self._fire_one(timer))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    def _due_in(self) -> float | None:
        if not self._heap:
            return None
        return self._heap[0][0] - self._clock.now()

    async def _fire_one(self, timer: TimerRecord) -> None:
        started = time.monotonic()
        lateness = self._clock.now() - timer.fire_at
        try:
            await self._fire(timer)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The timer is still in the database; try again shortly rather than lose it.
            logger.exception("timer %s (%s) failed to fire; retrying", timer.timer_id, timer.kind)
            self.add(replace(timer, fire_at=self._clock.now() + RETRY_DELAY))
        else:
            if self.on_fired is not None:
                self.on_fired(timer, lateness)
            logger.debug(
                "timer %s fired %.3fs late in %.3fs", timer.kind, lateness, time.monotonic() - started
            )
