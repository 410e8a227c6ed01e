"""Standalone activities' runs: loaded, changed by one ``machine`` transition, stored with the
tasks and timers the change makes, then handed to matching and the timer queue.

Changes to one activity ID are serialized in this process; the store's conditional
write keeps replicas from both applying one. Waiters (PollActivityExecution, a
describe's long poll) are woken by a change made here and, when replicas share the
database, re-read the run every second for one made on another replica.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from temporalio.api.enums.v1 import TimeoutType

from cadenza.clock import Clock
from cadenza.exceptions import NotFoundError
from cadenza.history.service.engine import KeyedLocks
from cadenza.persistence.records import (
    StandaloneActivityWrite,
    StoredStandaloneActivity,
    TaskRecord,
    TimerRecord,
)
from cadenza.persistence.roles import StandaloneActivityStore
from cadenza.standalone import machine
from cadenza.standalone.machine import Record, Run, Step
from cadenza.timers.kinds import TimerKind

T = TypeVar("T")

RECHECK_SECONDS = 1.0
"""How often a waiter re-reads a run another replica may have changed."""


class Store(StandaloneActivityStore, Protocol):
    async def remove_stale(self, task_ids: list[str], timer_ids: list[str]) -> None: ...


@dataclass(frozen=True)
class Loaded:
    """A run as read, with what its next write must name."""

    stored: StoredStandaloneActivity
    record: Record

    @property
    def run(self) -> Run:
        return self.record.run

    @property
    def closed(self) -> bool:
        return not machine.is_running(self.run)


class RunNotFoundError(NotFoundError):
    pass


class StandaloneRuns:
    """Reads and changes standalone activity runs, one change per transaction."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        add_task: Callable[[TaskRecord], None],
        add_timer: Callable[[TimerRecord], None],
        discard_timer: Callable[[str], None],
        shared: bool = False,
    ) -> None:
        """``shared``: other replicas change runs too, so waiters re-read what they wait on."""
        self.store = store
        self.clock = clock
        self._recheck = RECHECK_SECONDS if shared else None
        self._add_task = add_task
        self._add_timer = add_timer
        self._discard_timer = discard_timer
        self._locks = KeyedLocks()
        self._changed: dict[tuple[str, str], asyncio.Event] = {}
        self._waiting: dict[tuple[str, str], int] = {}
        """How many waiters each key's event has: it is dropped with its last one."""

    async def load(self, namespace_id: str, activity_id: str, run_id: str) -> Loaded:
        stored = await self.store.get_standalone_activity(namespace_id, activity_id, run_id)
        if stored is None:
            raise RunNotFoundError(f"activity not found for ID: {activity_id}")
        return Loaded(stored, Record.decode(stored.state))

    def locked(self, namespace_id: str, activity_id: str) -> AbstractAsyncContextManager[None]:
        """Changes to one activity ID go one at a time in this process."""
        return self._locks.hold((namespace_id, activity_id))

    async def insert(
        self, namespace_id: str, run: Run, request_id: str, search_json: str, start_delay: float
    ) -> None:
        """Store a new run, its first attempt dispatched now or after ``start_delay``."""
        step = Step(namespace_id, self.clock.now())
        machine.begin(step, run, start_delay)
        record = Record(run)
        record.track_timers(step, "")
        info = run.info
        write = StandaloneActivityWrite(
            namespace_id,
            info.activity_id,
            info.run_id,
            0,
            info.activity_type.name,
            info.task_queue,
            machine.WORKFLOW_STATUS[info.status],
            step.now,
            None,
            request_id,
            record.encode(),
            search_json,
            tasks_added=step.tasks,
            timers_added=step.timers,
        )
        await self._commit(write, step)

    async def change(
        self,
        namespace_id: str,
        activity_id: str,
        run_id: str,
        transition: Callable[[Step, Record], T],
        removed_task: str = "",
        removed_timer: str = "",
    ) -> T:
        """Apply ``transition`` to the run and store it, with the task or timer it used up."""
        async with self.locked(namespace_id, activity_id):
            loaded = await self.load(namespace_id, activity_id, run_id)
            step = Step(namespace_id, self.clock.now())
            was_running = machine.is_running(loaded.run)
            answer = transition(step, loaded.record)
            dropped = loaded.record.track_timers(step, removed_timer)
            if was_running and not machine.is_running(loaded.run) and loaded.run.callbacks:
                # Written with the close, so the callers learn the outcome even after a restart.
                step.timer(loaded.run, TimerKind.STANDALONE_NEXUS_CALLBACK, step.now)
            fired = [removed_timer] if removed_timer else []
            await self._commit(self._update(loaded, step, removed_task, fired + dropped), step, dropped)
            return answer

    async def delete(self, loaded: Loaded) -> None:
        s = loaded.stored
        dropped = loaded.record.timer_ids
        write = self._update(loaded, Step(s.namespace_id, self.clock.now()), "", dropped)
        write.delete = True
        await self._commit(write, Step(s.namespace_id, 0.0), dropped)

    def _update(
        self, loaded: Loaded, step: Step, removed_task: str, removed_timers: list[str]
    ) -> StandaloneActivityWrite:
        s, info = loaded.stored, loaded.run.info
        closed = not machine.is_running(loaded.run)
        return StandaloneActivityWrite(
            s.namespace_id,
            s.activity_id,
            s.run_id,
            s.version,
            info.activity_type.name,
            info.task_queue,
            machine.WORKFLOW_STATUS.get(info.status, 1),
            machine.epoch(info.schedule_time),
            machine.epoch(info.close_time) if closed else None,
            s.request_id,
            loaded.record.encode(),
            tasks_added=step.tasks,
            tasks_removed=[removed_task] if removed_task else [],
            timers_added=step.timers,
            timers_removed=removed_timers,
        )

    async def _commit(self, write: StandaloneActivityWrite, step: Step, dropped: Sequence[str] = ()) -> None:
        await self.store.write_standalone_activity(write)
        for timer_id in dropped:
            self._discard_timer(timer_id)
        for task in step.tasks:
            self._add_task(task)
        for timer in step.timers:
            self._add_timer(timer)
        self._wake(write.namespace_id, write.activity_id)

    def _wake(self, namespace_id: str, activity_id: str) -> None:
        event = self._changed.pop((namespace_id, activity_id), None)
        if event is not None:
            event.set()

    async def wait_change(self, namespace_id: str, activity_id: str, seconds: float) -> None:
        """Until a change to the activity here, or ``seconds`` (with replicas, at most a recheck's
        interval: a change another replica made wakes no one here)."""
        key = (namespace_id, activity_id)
        event = self._changed.setdefault(key, asyncio.Event())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            await asyncio.wait_for(
                event.wait(), seconds if self._recheck is None else min(seconds, self._recheck)
            )
        except TimeoutError:
            pass
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                if self._changed.get(key) is event:
                    del self._changed[key]

    async def fire(self, timer: TimerRecord) -> None:
        """A deadline of a run came due: apply it if the attempt it names is still current."""
        try:
            await self.change(
                timer.namespace_id,
                timer.workflow_id,
                timer.run_id,
                lambda step, record: _fired(step, record.run, timer),
                removed_timer=timer.timer_id,
            )
        except RunNotFoundError:
            await self.store.remove_stale([], [timer.timer_id])


def _fired(step: Step, run: Run, timer: TimerRecord) -> None:
    kind = timer.kind
    if not machine.is_running(run):
        return
    if kind == TimerKind.STANDALONE_SCHEDULE_TO_CLOSE:  # the whole run's: any attempt
        # An attempt no worker took is timed out schedule-to-start when both deadlines passed
        # (they are one when schedule-to-start defaults to schedule-to-close), as Temporal does.
        waited_out = machine.schedule_to_start_passed(run, step.now)
        timeout = (
            TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START
            if waited_out
            else TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
        )
        machine.time_out(step, run, timeout)
    elif run.info.attempt != timer.attempt:
        return
    elif kind == TimerKind.STANDALONE_DISPATCH:
        machine.dispatch_due(step, run, timer.attempt)
    elif kind == TimerKind.STANDALONE_SCHEDULE_TO_START and run.info.run_state == machine.SCHEDULED:
        machine.time_out(step, run, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START)
    elif kind == TimerKind.STANDALONE_START_TO_CLOSE and machine.is_started(run):
        machine.time_out(step, run, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)
    elif kind == TimerKind.STANDALONE_HEARTBEAT and machine.is_started(run):
        deadline = machine.heartbeat_deadline(run)
        if step.now < deadline:
            step.timer(run, TimerKind.STANDALONE_HEARTBEAT, deadline)
        else:
            machine.time_out(step, run, TimeoutType.TIMEOUT_TYPE_HEARTBEAT)
