"""Standalone Nexus operations' rows: read, changed by one ``nexus_state`` transition, stored with
the timers the change makes (in the standalone runs' table, under the operations' own key
space), then handed to the timer queue.

Changes to one operation ID are serialized in this process; the store's conditional write keeps
replicas from both applying one. Waiters (a poll for the outcome, a describe's long poll) are
woken by a change made here and, when replicas share the database, re-read every second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from cadenza.clock import Clock
from cadenza.exceptions import NotFoundError
from cadenza.history.service.engine import KeyedLocks
from cadenza.persistence.records import StandaloneActivityWrite, StoredStandaloneActivity, TimerRecord
from cadenza.standalone import nexus_operation_rows
from cadenza.standalone.nexus_state import WORKFLOW_STATUS, Record, Step, begin, is_running
from cadenza.standalone.service import Store

T = TypeVar("T")
RECHECK_SECONDS = 1.0


class OperationNotFoundError(NotFoundError):
    pass


class OperationRows:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        add_timer: Callable[[TimerRecord], None],
        discard_timer: Callable[[str], None],
        shared: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock
        self._add_timer = add_timer
        self._discard_timer = discard_timer
        self._recheck = RECHECK_SECONDS if shared else None
        self._locks = KeyedLocks()
        self._changed: dict[tuple[str, str], asyncio.Event] = {}
        self._waiting: dict[tuple[str, str], int] = {}
        """How many waiters each key's event has: it is dropped with its last one."""

    def locked(self, namespace_id: str, operation_id: str) -> AbstractAsyncContextManager[None]:
        return self._locks.hold((namespace_id, operation_id))

    async def latest(
        self, namespace_id: str, operation_id: str
    ) -> tuple[StoredStandaloneActivity, Record] | None:
        stored = await self.store.get_standalone_activity(
            nexus_operation_rows(namespace_id), operation_id, ""
        )
        return None if stored is None else (stored, Record.decode(stored.state))

    async def load(
        self, namespace_id: str, operation_id: str, run_id: str
    ) -> tuple[StoredStandaloneActivity, Record]:
        stored = await self.store.get_standalone_activity(
            nexus_operation_rows(namespace_id), operation_id, run_id
        )
        if stored is None:
            raise OperationNotFoundError(f"operation not found for ID: {operation_id}")
        return stored, Record.decode(stored.state)

    async def insert(self, namespace_id: str, record: Record, request_id: str, search_json: str) -> None:
        step = Step(namespace_id, self.clock.now())
        begin(step, record.operation)
        record.track_timers(step, "")
        write = self._write(namespace_id, record, 0, request_id, step)
        write.search_attributes = search_json
        await self._commit(write, step, [])

    async def change(
        self,
        namespace_id: str,
        operation_id: str,
        run_id: str,
        transition: Callable[[Step, Record], T],
        fired: TimerRecord | None = None,
        missing_ok: bool = False,
    ) -> T | None:
        """Apply ``transition`` and store the operation, with the timer it used up."""
        async with self.locked(namespace_id, operation_id):
            try:
                stored, record = await self.load(namespace_id, operation_id, run_id)
            except OperationNotFoundError:
                if not missing_ok:
                    raise
                if fired is not None:
                    await self.store.remove_stale([], [fired.timer_id])
                return None
            step = Step(namespace_id, self.clock.now())
            answer = transition(step, record)
            fired_id = fired.timer_id if fired is not None else ""
            dropped = record.track_timers(step, fired_id)
            write = self._write(namespace_id, record, stored.version, stored.request_id, step)
            write.timers_removed = ([fired_id] if fired_id else []) + dropped
            await self._commit(write, step, dropped)
            return answer

    async def delete(self, namespace_id: str, operation_id: str, run_id: str) -> None:
        async with self.locked(namespace_id, operation_id):
            stored, record = await self.load(namespace_id, operation_id, run_id)
            step = Step(namespace_id, self.clock.now())
            write = self._write(namespace_id, record, stored.version, stored.request_id, step)
            write.delete, write.timers_removed = True, list(record.timer_ids)
            await self._commit(write, step, record.timer_ids)

    async def forget_timer(self, timer: TimerRecord) -> None:
        """A timer that no longer applies: drop it without changing the operation."""
        await self.change(
            timer.namespace_id,
            timer.workflow_id,
            timer.run_id,
            lambda step, record: None,
            fired=timer,
            missing_ok=True,
        )

    def _write(
        self, namespace_id: str, record: Record, version: int, request_id: str, step: Step
    ) -> StandaloneActivityWrite:
        info = record.operation.info
        closed = not is_running(record.operation)
        return StandaloneActivityWrite(
            nexus_operation_rows(namespace_id),
            info.operation_id,
            record.operation.run_id,
            version,
            f"{info.service}/{info.operation}",
            info.endpoint,
            WORKFLOW_STATUS.get(info.status, 1),
            info.schedule_time.ToSeconds() + info.schedule_time.nanos / 1e9,
            (info.close_time.ToSeconds() + info.close_time.nanos / 1e9) if closed else None,
            request_id,
            record.encode(),
            timers_added=list(step.timers),
        )

    async def _commit(self, write: StandaloneActivityWrite, step: Step, dropped: list[str]) -> None:
        await self.store.write_standalone_activity(write)
        for timer_id in dropped:
            self._discard_timer(timer_id)
        for timer in step.timers:
            self._add_timer(timer)
        event = self._changed.pop((write.namespace_id, write.activity_id), None)
        if event is not None:
            event.set()

    async def wait_change(self, namespace_id: str, operation_id: str, seconds: float) -> None:
        """Until a change to the operation here, or ``seconds`` (with replicas, at most a
        recheck's interval)."""
        key = (nexus_operation_rows(namespace_id), operation_id)
        event = self._changed.setdefault(key, asyncio.Event())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        wait = seconds if self._recheck is None else min(seconds, self._recheck)
        try:
            await asyncio.wait_for(event.wait(), max(0.0, wait))
        except TimeoutError:
            pass
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                if self._changed.get(key) is event:
                    del self._changed[key]
