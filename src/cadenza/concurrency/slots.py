"""The slots of the concurrency limits: counted in memory, each one a row in the store.

A dispatch or a start first reserves a slot in memory (so polls on this server never hand out
more than the limit), then takes it in the store (so servers sharing a database never do
either: only there does the store count the slots again, as a single server's memory holds
them all); the store's rows are the truth, read at start and, on a shared database, every
``REFRESH_SECONDS``. A slot is given back when a committed change shows its holder ended
(the activity's attempt completed, failed, timed out or was cancelled; the workflow's chain
closed), and a sweep gives back any slot whose holder ended unseen (a crash between the
commit and the slot's deletion, a change made by another replica, a commit whose outcome
stayed unknown, a standalone activity, which no workflow change ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from cadenza.clock import Clock
from cadenza.concurrency.changes import LocalChanges
from cadenza.concurrency.limits import ACTIVITY_QUEUE, LimitKey, key_of
from cadenza.concurrency.table import SlotId, SlotTable, activity_slot, ended_by_commits, slot_id
from cadenza.history.machine.change import Change
from cadenza.periodic import Periodic
from cadenza.persistence.concurrency_records import (
    SLOT_FULL,
    SLOT_HELD,
    SLOT_TAKEN,
    ConcurrencyLimitRecord,
    SlotRecord,
)
from cadenza.persistence.errors import StorageError
from cadenza.persistence.records import TaskRecord
from cadenza.persistence.roles import ConcurrencyStore

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
"""How often the limits are read again (the CLI writes them to the database), and on a shared
database the slots the other replicas took and freed."""
SWEEP_SECONDS = 5.0
"""How often slots are checked against their holders."""
SWEEP_GRACE = 10.0
"""A slot younger than this is not swept: its holder's start may not be committed yet."""

HolderAlive = Callable[[SlotRecord], Awaitable[bool]]
UnseenCommits = Callable[[], bool]


class ConcurrencyLimits:
    """The limits in force and the slots held under them."""

    def __init__(self, store: ConcurrencyStore, clock: Clock, shared: bool) -> None:
        self._store = store
        self._clock = clock
        self._shared = shared
        self.limits: dict[LimitKey, ConcurrencyLimitRecord] = {}
        self._activity: dict[tuple[str, str], ConcurrencyLimitRecord] = {}
        """Activity queue limits by namespace ID and queue: the one lookup of an unlimited poll."""
        self.table = SlotTable()
        self._in_flight: dict[SlotId, SlotRecord] = {}
        """Slots reserved and not yet handed over: the hook and the sweep leave them alone."""
        self._reads: list[LocalChanges] = []
        """The changes made here during each read of the store under way (``load``, ``refresh``)."""
        self._freed = asyncio.Event()
        self._releases: set[asyncio.Task[None]] = set()
        self.holder_alive: HolderAlive | None = None
        """Whether a slot's holder still runs (set by the server: it reads the engine)."""
        self.unseen_commits: UnseenCommits | None = None
        """Whether a commit may have landed unseen by ``committed`` since last asked (its
        outcome stayed unknown); set by the server. None: every one is seen."""
        self._unsure_at: float | None = None
        """When a single server last heard of such a commit, until its sweep checked the slots
        taken before then."""
        self._refresh = Periodic(
            self.refresh,
            REFRESH_SECONDS,
            name="cadenza-concurrency",
            what="reading concurrency limits",
            logger=logger,
        )
        self._sweeper = Periodic(
            self.sweep_round,
            SWEEP_SECONDS,
            name="cadenza-concurrency-sweep",
            what="checking concurrency slots",
            logger=logger,
        )

    # -- the limits ------------------------------------------------------------------

    async def load(self) -> None:
        """Read every limit and slot from the store (at start; on a shared database, again and
        again), keeping the slots this server is still handing over and the changes it made
        while reading."""
        async with self._reading() as changes:
            limits = await self._store.list_concurrency_limits()
            slots = await self._store.list_slots()
        self._set_limits(changes.limits_from(limits))
        self.table = changes.table_from(slots)
        self._wake()

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[LocalChanges]:
        """Note the changes made here while the store is read (see ``LocalChanges``)."""
        changes = LocalChanges(self._in_flight.values())
        self._reads.append(changes)
        try:
            yield changes
        finally:
            self._reads.remove(changes)

    def _add(self, slot: SlotRecord) -> None:
        self.table.add(slot)
        for changes in self._reads:
            changes.added(slot)

    def _remove(self, held: SlotId) -> None:
        slot = self.table.remove(held)
        if slot is not None:
            for changes in self._reads:
                changes.removed(slot)

    def _set_limits(self, limits: list[ConcurrencyLimitRecord]) -> None:
        self.limits = {key_of(limit): limit for limit in limits}
        self._activity = {
            (limit.namespace_id, limit.name): limit for limit in limits if limit.scope == ACTIVITY_QUEUE
        }

    async def set_limit(self, limit: ConcurrencyLimitRecord) -> None:
        await self._store.put_concurrency_limit(limit)
        self._note_limit(key_of(limit), limit)
        self._set_limits([*(x for k, x in self.limits.items() if k != key_of(limit)), limit])
        self._wake()  # a raised limit lets waiting tasks and starts go

    async def unset_limit(self, namespace_id: str, scope: str, name: str) -> bool:
        removed = await self._store.delete_concurrency_limit(namespace_id, scope, name)
        self._note_limit((namespace_id, scope, name), None)
        self._set_limits([x for k, x in self.limits.items() if k != (namespace_id, scope, name)])
        self._wake()
        return removed

    def _note_limit(self, key: LimitKey, limit: ConcurrencyLimitRecord | None) -> None:
        for changes in self._reads:
            changes.limit_set(key, limit)

    def running(self, key: LimitKey) -> int:
        """Slots held now under the limit ``key``."""
        return self.table.per_limit[key]

    def figures(self) -> list[tuple[str, str, str, int, int]]:
        """Each limit's namespace ID, scope, name, whole-scope cap and slots held (for metrics)."""
        return [(*key, limit.max_running, self.table.per_limit[key]) for key, limit in self.limits.items()]

    def activity_limit(self, namespace_id: str, task_queue: str) -> ConcurrencyLimitRecord | None:
        """The activity queue's limit; None (at the cost of one dict lookup) when it has none."""
        return self._activity.get((namespace_id, task_queue)) if self._activity else None

    def may_dispatch_eagerly(self, namespace_id: str, task_queue: str) -> bool:
        """Whether an activity may start in a workflow task's answer: not on a limited queue,
        whose slots only matching hands out."""
        return self.activity_limit(namespace_id, task_queue) is None

    def has_room(self, limit: ConcurrencyLimitRecord) -> bool:
        """Whether the limit's whole scope has a free slot (its fairness keys aside)."""
        return not limit.max_running or self.table.per_limit[key_of(limit)] < limit.max_running

    def admits(self, limit: ConcurrencyLimitRecord, fairness_key: str) -> bool:
        """Whether one more slot fits under ``limit`` for a holder of ``fairness_key``."""
        key = key_of(limit)
        if limit.max_running and self.table.per_limit[key] >= limit.max_running:
            return False
        return not limit.fairness_key_max or self.table.per_key[(*key, fairness_key)] < limit.fairness_key_max

    # -- activity slots, for matching and the long polls -----------------------------------

    def reserve(self, task: TaskRecord) -> None:
        """Count the slot of a task matching hands a poll (its limit admitted it)."""
        slot = activity_slot(task, self._clock.now())
        self._in_flight[slot_id(slot)] = slot
        self._add(slot)

    async def confirm(self, task: TaskRecord) -> str:
        """Take the reserved slot of ``task`` in the store: ``taken`` (at once for an unlimited
        queue); ``full`` if other servers took the last one first, or ``held`` if another server
        is handing this very task over (both give the reservation back, leaving the row)."""
        if not self._in_flight:
            return SLOT_TAKEN
        held = slot_id(activity_slot(task, 0.0))
        slot = self._in_flight.get(held)
        limit = self.limits.get(key_of(slot)) if slot is not None else None
        if slot is None or limit is None:  # unlimited, or unset meanwhile
            return SLOT_TAKEN
        outcome = await self._store.acquire_slot(slot, *self._store_caps(limit))
        if outcome != SLOT_TAKEN:
            self._in_flight.pop(held, None)
            self._remove(held)
            self._wake()
        return outcome

    def _store_caps(self, limit: ConcurrencyLimitRecord) -> tuple[int, int]:
        """The caps the store counts a slot against: on a shared database the limit's, as the
        other replicas' slots count too; on a single server none, as the slots counted here
        (``admits``, before the reservation) are all there are, and the store keeps them only
        for a restart. So a single server's dispatch or start counts no rows."""
        return (limit.max_running, limit.fairness_key_max) if self._shared else (0, 0)

    def handed_over(self, task: TaskRecord) -> None:
        """The task was recorded as started: from now its slot ends with its attempt."""
        if self._in_flight:
            self._in_flight.pop(slot_id(activity_slot(task, 0.0)), None)

    def give_back(self, task: TaskRecord) -> None:
        """The task was not handed over (its poll went away, it was obsolete): free its slot."""
        if not self._in_flight:
            return
        slot = self._in_flight.pop(slot_id(activity_slot(task, 0.0)), None)
        if slot is not None:
            self._release([slot])

    async def wait_freed(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a slot to be freed or a limit to change."""
        # Not ``wait_for``: on Python 3.11 it can swallow a cancellation that comes as the
        # timeout does, and a waiting start would then outlive the server's stop.
        try:
            async with asyncio.timeout(timeout):
                await self._freed.wait()
        except TimeoutError:
            pass

    # -- workflow slots -------------------------------------------------------------

    def workflow_limits(
        self, namespace_id: str, workflow_type: str, workflow_id: str
    ) -> list[ConcurrencyLimitRecord]:
        """The limits a start of this workflow counts against."""
        if not self.limits:
            return []
        return [
            limit
            for (ns, scope, name), limit in self.limits.items()
            if ns == namespace_id
            and (
                (scope == "workflow-type" and name == workflow_type)
                or (scope == "workflow-id-prefix" and workflow_id.startswith(name))
            )
        ]

    def holds(self, slot: SlotRecord) -> bool:
        return slot_id(slot) in self.table.slots

    async def take(self, slot: SlotRecord, limit: ConcurrencyLimitRecord) -> str:
        """Take a workflow's slot under ``limit`` in the store and here: ``taken``, ``full``, or
        ``held`` when the workflow holds it already (a start of it elsewhere)."""
        if self.holds(slot):
            return SLOT_HELD
        if not self.admits(limit, ""):
            return SLOT_FULL
        self._in_flight[slot_id(slot)] = slot
        self._add(slot)
        try:
            outcome = await self._store.acquire_slot(slot, self._store_caps(limit)[0], 0)
        except BaseException:
            self._in_flight.pop(slot_id(slot), None)
            self._remove(slot_id(slot))
            raise
        self._in_flight.pop(slot_id(slot), None)
        if outcome == SLOT_FULL:
            self._remove(slot_id(slot))
        return outcome

    def give_back_slots(self, slots: list[SlotRecord]) -> None:
        self._release(slots)

    # -- freeing slots ---------------------------------------------------------------

    def committed(self, change: Change) -> None:
        """Free the slots whose holders this committed change ended."""
        if not self.table.slots:
            return
        state = change.state
        key = change.key
        ended = []
        for held in self.table.by_run.get((key.namespace_id, key.workflow_id, key.run_id), ()):
            slot = self.table.slots[held]
            if held in self._in_flight:
                continue
            activity = state.activities.get(slot.scheduled_event_id) if state.running else None
            if activity is None or not activity.started or activity.attempt != slot.attempt:
                ended.append(slot)
        if not state.running and change.successor is None:
            for held in self.table.by_workflow.get((key.namespace_id, key.workflow_id), ()):
                if held not in self._in_flight:
                    ended.append(self.table.slots[held])
        if ended:
            self._release(ended)

    def _release(self, slots: list[SlotRecord]) -> None:
        # Freeing nothing wakes no one: a start that found its limit full gives back the none it
        # took, and waking the other waiting starts then would have each wake the next in turn,
        # for as long as they wait, keeping the event loop busy.
        if not slots:
            return
        for slot in slots:
            self._remove(slot_id(slot))
        self._wake()
        task = asyncio.create_task(self._delete(slots), name="cadenza-concurrency-release")
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _delete(self, slots: list[SlotRecord]) -> None:
        try:
            await self._store.release_slots(slots)
        except StorageError as exc:  # the sweep deletes them later
            logger.warning("freeing %d concurrency slots failed: %s", len(slots), exc)

    def _wake(self) -> None:
        self._freed.set()
        self._freed = asyncio.Event()

    # -- the background loop ---------------------------------------------------------

    def start(self) -> None:
        self._refresh.start()
        self._sweeper.start()

    async def stop(self) -> None:
        await self._refresh.stop()
        await self._sweeper.stop()
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)

    async def refresh(self) -> None:
        """One round of the periodic refresh: the limits (the CLI may have changed them in the
        database) and, on a shared database, the slots."""
        if self._shared:
            await self.load()
            return
        async with self._reading() as changes:
            read = await self._store.list_concurrency_limits()
        limits = changes.limits_from(read)
        if limits != sorted(self.limits.values(), key=key_of):
            self._set_limits(limits)
            self._wake()

    async def sweep_round(self) -> None:
        """One round of the periodic sweep."""
        if self._shared:  # the other replicas' changes pass no ``committed`` here
            await self.sweep(SWEEP_GRACE)
            return
        now = self._clock.now()
        if self.unseen_commits is not None and self.unseen_commits():
            self._unsure_at = now
        unsure_at, cutoff = self._unsure_at, now - SWEEP_GRACE
        if unsure_at is not None and cutoff >= unsure_at:
            self._unsure_at = None  # this round checks the last slots taken before it
        if self.table.slots:
            await self._free_ended(cutoff, self._unseen_holders(unsure_at))

    def _unseen_holders(self, unsure_at: float | None) -> Callable[[SlotRecord], bool]:
        """The slots a single server's sweep checks: ``committed`` sees every other holder end
        (a crash's unseen ends are swept at start)."""
        if unsure_at is None:
            return lambda slot: not ended_by_commits(slot)
        return lambda slot: slot.acquired_at <= unsure_at or not ended_by_commits(slot)

    async def sweep(self, grace: float) -> int:
        """Free the slots older than ``grace`` seconds whose holders ended; return how many."""
        return await self._free_ended(self._clock.now() - grace, lambda slot: True)

    async def _free_ended(self, cutoff: float, checked: Callable[[SlotRecord], bool]) -> int:
        """Free the ``checked`` slots taken by ``cutoff`` whose holders ended; return how many."""
        if self.holder_alive is None:
            return 0
        ended = []
        for held, slot in list(self.table.slots.items()):
            if held in self._in_flight or slot.acquired_at > cutoff or not checked(slot):
                continue
            if not await self.holder_alive(slot) and self.table.slots.get(held) is slot:
                ended.append(slot)
        if ended:
            logger.info("freed %d concurrency slots whose holders had ended", len(ended))
            self._release(ended)
        return len(ended)
