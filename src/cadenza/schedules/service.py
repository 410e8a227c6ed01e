"""The schedules role: each schedule's state in the store, its next action a durable timer.

Every change to a schedule (an API call, its timer firing, one of its
workflows closing) runs one *iteration* under the schedule's lock, as one
pass of Temporal's scheduler workflow: turn the time elapsed since the last
pass into buffered actions, apply the change, start what the overlap policy
allows, then commit the new state together with the next wake-up timer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from temporalio.api.common.v1 import Memo, Payload, SearchAttributes
from temporalio.api.schedule.v1 import Schedule, ScheduleInfo, SchedulePatch

from cadenza.clock import Clock
from cadenza.committing import finish_even_if_cancelled
from cadenza.concurrency.starts import StartSlots
from cadenza.exceptions import (
    CadenzaError,
    ConcurrentUpdateError,
    InvalidArgumentError,
    NotFoundError,
    ScheduleAlreadyExistsError,
)
from cadenza.history.machine.encoded import decode_blob
from cadenza.history.machine.state import MutableState
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import NamespaceRecord, ScheduleWrite, StoredSchedule, TimerRecord
from cadenza.persistence.roles import ScheduleStore, TaskStore
from cadenza.protoutil import seconds
from cadenza.schedules import scheduler
from cadenza.schedules.actions import Actions
from cadenza.schedules.confirmed import write_confirmed
from cadenza.schedules.cron import SpecError
from cadenza.schedules.record import ScheduleRecord
from cadenza.schedules.spec import MAX_CANDIDATES, TOO_MANY_EXCLUSIONS, CompiledSpec, canonical
from cadenza.schedules.taking import LIMIT_RETRY_SECONDS, take_actions
from cadenza.timers.kinds import TimerKind
from cadenza.visibility import attributes as attrs
from cadenza.visibility.query import Query

logger = logging.getLogger(__name__)

MAX_MATCHING_TIMES = 1000
"""Times one ListScheduleMatchingTimes answers with, as on Temporal."""
MATCHING_TIMES_CANDIDATES = 10 * MAX_MATCHING_TIMES
"""Candidate times it may look at: two per time with jitter, the rest for exclusions."""
Mutation = Callable[[ScheduleRecord], None]


class SchedulerStore(ScheduleStore, TaskStore, Protocol):
    """The schedules' state, and the timers a schedule drops when they are no longer its own."""


@dataclass(frozen=True)
class Loaded:
    record: ScheduleRecord
    version: int


class ScheduleService:
    """Creates, changes and runs schedules."""

    def __init__(
        self, store: SchedulerStore, actions: Actions, clock: Clock, add_timer: Callable[[TimerRecord], None]
    ) -> None:
        self._store = store
        self._actions = actions
        self._clock = clock
        self._add_timer = add_timer
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._background: set[asyncio.Task[None]] = set()

    def limit_starts(self, slots: StartSlots) -> None:
        """Have the schedules' starts take the concurrency limits' slots, as any start does."""
        self._actions.start_slots = slots

    # -- the API ---------------------------------------------------------------------

    async def create(
        self,
        namespace: NamespaceRecord,
        schedule_id: str,
        schedule: Schedule,
        patch: SchedulePatch | None,
        memo: Memo,
        search: SearchAttributes,
        request_id: str,
    ) -> int:
        """Create a schedule and run its first pass; the conflict token it starts with."""
        now = self._clock.now()
        stored = Schedule()
        stored.CopyFrom(schedule)
        # Linear in the spec's size (up to the blob limit): off the event loop.
        stored.spec.CopyFrom(await asyncio.to_thread(canonical, schedule.spec))
        record = ScheduleRecord(
            namespace_id=namespace.id,
            namespace=namespace.name,
            schedule_id=schedule_id,
            schedule=stored,
            info=ScheduleInfo(create_time=scheduler.timestamp(now)),
            memo=memo,
            search_attributes=search,
            create_request_id=request_id,
            last_processed=now,
        )
        scheduler.fill_defaults(record)
        async with self._lock(namespace.id, schedule_id):
            existing = await self._store.get_schedule(namespace.id, schedule_id)
            if existing is not None:
                return self._duplicate(ScheduleRecord.decode(existing.state), request_id)
            mutate = (lambda r: scheduler.apply_patch(r, _compile(r), patch, now)) if patch else None
            try:
                await self._iterate(Loaded(record, 0), now, mutate)
            except ConcurrentUpdateError:
                raise scheduler_exists(schedule_id, request_id) from None
        logger.info("schedule %s created in namespace %s", schedule_id, namespace.name)
        return record.conflict_token

    async def describe(self, namespace: NamespaceRecord, schedule_id: str) -> Loaded:
        return await self._load(namespace.id, schedule_id)

    async def update(
        self,
        namespace: NamespaceRecord,
        schedule_id: str,
        schedule: Schedule,
        conflict_token: int,
        search: SearchAttributes | None,
    ) -> None:
        spec = await asyncio.to_thread(canonical, schedule.spec)
        now = self._clock.now()

        def mutate(record: ScheduleRecord) -> None:
            if conflict_token and conflict_token != record.conflict_token:
                # Temporal drops an update made from a stale description, without error.
                logger.info("schedule %s: update with a stale conflict token ignored", schedule_id)
                return
            record.schedule.CopyFrom(schedule)
            record.schedule.spec.CopyFrom(spec)
            scheduler.fill_defaults(record)
            if search is not None:
                record.search_attributes.CopyFrom(search)
            record.info.update_time.CopyFrom(scheduler.timestamp(now))
            record.conflict_token += 1

        await self._change(namespace.id, schedule_id, now, mutate)

    async def patch(self, namespace: NamespaceRecord, schedule_id: str, patch: SchedulePatch) -> None:
        now = self._clock.now()
        await self._change(
            namespace.id, schedule_id, now, lambda r: scheduler.apply_patch(r, _compile(r), patch, now)
        )

    async def delete(self, namespace: NamespaceRecord, schedule_id: str) -> None:
        async with self._lock(namespace.id, schedule_id):
            loaded = await self._load(namespace.id, schedule_id)
            record = loaded.record
            await self._store.write_schedule(
                ScheduleWrite(
                    namespace.id,
                    schedule_id,
                    loaded.version,
                    b"",
                    0.0,
                    delete=True,
                    timers_removed=[record.timer_id] if record.timer_id else [],
                )
            )
        logger.info("schedule %s deleted from namespace %s", schedule_id, namespace.name)

    async def search(
        self, namespace: NamespaceRecord, query: Query, limit: int, offset: int
    ) -> list[ScheduleRecord]:
        """The schedules a parsed filter matches, newest first: one page of a listing."""
        types = NamespaceRegistry.search_attribute_types(namespace)
        stored = await self._store.list_schedules(namespace.id, query, types, limit, offset)
        return [ScheduleRecord.decode(row.state) for row in stored]

    async def count(self, namespace: NamespaceRecord, query: Query) -> int:
        types = NamespaceRegistry.search_attribute_types(namespace)
        return await self._store.count_schedules(namespace.id, query, types)

    def matching_times(self, record: ScheduleRecord, start: float, end: float) -> list[float]:
        """Action times in (start, end], at most MAX_MATCHING_TIMES of them (CPU-bound: callers
        run it off the event loop). Refuses a spec whose exclusions need more work than that."""
        spec = _compile(record, MATCHING_TIMES_CANDIDATES)
        if spec is None:
            return []
        found = spec.matching_times(scheduler.seed(record), start, end, MAX_MATCHING_TIMES)
        if spec.limit_hit:
            raise InvalidArgumentError(TOO_MANY_EXCLUSIONS)
        return found

    def future_times(self, record: ScheduleRecord, n: int) -> list[float]:
        return scheduler.future_action_times(record, _compile(record), n, record.last_processed)

    # -- the engine ----------------------------------------------------------------------

    async def fire(self, timer: TimerRecord) -> None:
        """A wake-up timer is due: run a pass, unless the timer has been replaced."""
        key = (timer.namespace_id, timer.workflow_id)
        async with self._lock(*key):
            stored = await self._store.get_schedule(*key)
            record = ScheduleRecord.decode(stored.state) if stored is not None else None
            if stored is None or record is None or record.timer_id != timer.timer_id:
                await self._store.remove_stale([], [timer.timer_id])
                return
            await self._iterate(Loaded(record, stored.version), self._clock.now(), None)

    def run_closed(self, state: MutableState) -> None:
        """A run closed; if a schedule started it, that schedule takes a pass."""
        blob = state.search_attributes.get("TemporalScheduledById")
        if blob is None:
            return
        try:
            schedule_id = attrs.decode(Payload.FromString(decode_blob(blob)))
        except CadenzaError:
            return
        if isinstance(schedule_id, str):
            self._spawn(state.namespace_id, schedule_id)

    async def recover(self) -> None:
        """After a restart, look again at every schedule that was waiting on its workflows."""
        for stored in await self._store.list_all_schedules():
            record = ScheduleRecord.decode(stored.state)
            if record.info.running_workflows or record.buffer:
                self._spawn(stored.namespace_id, stored.schedule_id)

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    def _spawn(self, namespace_id: str, schedule_id: str) -> None:
        task = asyncio.create_task(self._wake(namespace_id, schedule_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _wake(self, namespace_id: str, schedule_id: str) -> None:
        try:
            await self._change(namespace_id, schedule_id, self._clock.now(), None)
        except NotFoundError:
            pass
        except Exception:
            logger.exception("schedule %s failed to take a pass", schedule_id)

    # -- one pass ----------------------------------------------------------------------------

    async def _change(self, namespace_id: str, schedule_id: str, now: float, mutate: Mutation | None) -> None:
        async with self._lock(namespace_id, schedule_id):
            loaded = await self._load(namespace_id, schedule_id)
            await self._iterate(loaded, now, mutate)

    async def _iterate(self, loaded: Loaded, now: float, mutate: Mutation | None) -> None:
        record = loaded.record
        end = max(now, record.last_processed)
        elapsed = scheduler.process_time_range(record, _compile(record), record.last_processed, end, 0, False)
        catching_up = elapsed.resume_after is not None
        record.last_processed = end if elapsed.resume_after is None else elapsed.resume_after
        if mutate is not None:
            mutate(record)
        scheduler.process_backfills(record, _compile(record))
        await self._refresh(record)
        waiting = False
        while record.buffer:
            taken = await take_actions(record, self._actions, self._clock.now)
            waiting = taken.waiting
            if not taken.again:
                break
        # A fresh compile: the passes above may have spent the spec's candidate budget.
        wake_at = now if catching_up else self._next_wake(record, _compile(record), now)
        if waiting:  # a start waits for a concurrency slot: try it again soon
            retry = now + LIMIT_RETRY_SECONDS
            wake_at = retry if wake_at is None else min(wake_at, retry)
        await self._commit(loaded, wake_at)

    async def _refresh(self, record: ScheduleRecord) -> None:
        """Find out which of the schedule's running workflows have closed."""
        for execution in list(record.info.running_workflows):
            closed = await self._actions.closed(record.namespace_id, execution.workflow_id)
            if closed is not None:
                scheduler.workflow_closed(
                    record, execution.workflow_id, closed.status, closed.result, closed.failure
                )

    def _next_wake(self, record: ScheduleRecord, spec: CompiledSpec | None, now: float) -> float | None:
        if record.backfills:
            return now + 1.0
        if spec is None or not scheduler.can_take(record, False):
            return None  # paused or out of actions: an update or patch wakes it
        found = spec.next_time(scheduler.seed(record), record.last_processed)
        return found.actual if found is not None else None

    async def _commit(self, loaded: Loaded, wake_at: float | None) -> None:
        record = loaded.record
        removed = [record.timer_id] if record.timer_id else []
        timer = None
        record.timer_id = ""
        if wake_at is not None:
            timer = TimerRecord(
                f"schedule-{uuid.uuid4()}",
                wake_at,
                record.namespace_id,
                record.schedule_id,
                "",
                TimerKind.SCHEDULE,
                0,
                0,
            )
            record.timer_id = timer.timer_id
        write = ScheduleWrite(
            record.namespace_id,
            record.schedule_id,
            loaded.version,
            record.encode(),
            seconds(record.info.create_time),
            _filterable(record),
            timers_added=[timer] if timer else [],
            timers_removed=removed,
        )
        await finish_even_if_cancelled(self._write_and_arm(write, timer))

    async def _write_and_arm(self, write: ScheduleWrite, timer: TimerRecord | None) -> None:
        await write_confirmed(self._store, write)
        if timer is not None:
            self._add_timer(timer)

    # -- helpers ---------------------------------------------------------------------------------

    async def _load(self, namespace_id: str, schedule_id: str) -> Loaded:
        stored: StoredSchedule | None = await self._store.get_schedule(namespace_id, schedule_id)
        if stored is None:
            raise NotFoundError(f"workflow not found for ID: temporal-sys-scheduler:{schedule_id}")
        return Loaded(ScheduleRecord.decode(stored.state), stored.version)

    def _lock(self, namespace_id: str, schedule_id: str) -> asyncio.Lock:
        return self._locks.setdefault((namespace_id, schedule_id), asyncio.Lock())

    @staticmethod
    def _duplicate(record: ScheduleRecord, request_id: str) -> int:
        if request_id and request_id == record.create_request_id:
            return record.conflict_token
        raise scheduler_exists(record.schedule_id, request_id)


def scheduler_exists(schedule_id: str, request_id: str) -> CadenzaError:
    return ScheduleAlreadyExistsError(schedule_id, request_id)


def _compile(record: ScheduleRecord, max_candidates: int = MAX_CANDIDATES) -> CompiledSpec | None:
    try:
        return CompiledSpec(record.schedule.spec, max_candidates)
    except SpecError:
        return None


def _filterable(record: ScheduleRecord) -> str:
    values: dict[str, object] = {"TemporalSchedulePaused": record.schedule.state.paused}
    for name, payload in record.search_attributes.indexed_fields.items():
        kind = {v: k for k, v in attrs.TYPE_NAMES.items()}.get(attrs.payload_type(payload), 0)
        try:
            values[name] = attrs.stored_value(kind, attrs.decode(payload))
        except CadenzaError:
            continue
    return json.dumps(values)
