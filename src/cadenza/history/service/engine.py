"""The transaction every operation on an execution runs in: lock, load, change, commit, hand off.

What Temporal's server calls "get and update workflow". The operation families
(starting, workflow tasks, activity tasks, updates, signals, whole runs, fired
timers) derive from ``Engine`` and only say what their change records; the
order of locking, loading, committing and handing off is written once, here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

from temporalio.api.common.v1 import Principal as PrincipalMessage

from cadenza import run_log
from cadenza.audit.pending import pending_audit
from cadenza.auth.principal import Principal, PrincipalKind, current_principal
from cadenza.clock import Clock
from cadenza.committing import finish_even_if_cancelled
from cadenza.config import Limits
from cadenza.exceptions import ConcurrentUpdateError, InvalidArgumentError, NotFoundError
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import RUNNING, MutableState
from cadenza.history.machine.versioning import UNROUTED, VersionRouting
from cadenza.history.service.cache import Entry, ExecutionCache
from cadenza.history.service.event_log import EventLog
from cadenza.persistence.errors import StorageError
from cadenza.persistence.records import ExecutionKey, ExecutionWrite, TaskRecord, TimerRecord
from cadenza.persistence.roles import HistoryStore
from cadenza.worker_commands import WorkerCommands


@dataclass(frozen=True)
class Dispatch:
    """Where committed tasks and timers go: matching and the timer queue."""

    add_task: Callable[[TaskRecord], None]
    withdraw_tasks: Callable[[list[str]], None]
    add_timer: Callable[[TimerRecord], None]
    discard_timer: Callable[[str], None]
    sticky_alive: Callable[[str, str], bool]
    send_worker_commands: Callable[[WorkerCommands], None]
    deployments: VersionRouting = UNROUTED


@dataclass
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    """Tasks holding or waiting for the lock; it is forgotten once none is left."""


class KeyedLocks:
    """One lock per key, kept only while some task holds it or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, _KeyLock] = {}

    def __len__(self) -> int:
        """How many keys have a lock now (held or awaited)."""
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        held = self._locks.setdefault(key, _KeyLock())
        held.users += 1
        try:
            async with held.lock:
                yield
        finally:
            held.users -= 1
            if not held.users:
                del self._locks[key]


class Engine:
    """Every change to an execution goes through here, one at a time per execution."""

    def __init__(self, store: HistoryStore, clock: Clock, limits: Limits, dispatch: Dispatch) -> None:
        self._store = store
        self._clock = clock
        self._limits = limits
        self._dispatch = dispatch
        self.cache = ExecutionCache(store)
        self._workflow_id_locks = KeyedLocks()
        """Starts of one workflow ID, one at a time: each reads the current run, then replaces it."""
        self._alone = store.replicas() is None
        """No other replica writes to the store, so a cached running run is surely current."""
        self.on_run_closed: Callable[[MutableState], None] | None = None
        """Told (after commit) of every run that closes; schedules watch their workflows so."""
        self.on_committed: Callable[[Change], None] | None = None
        """Told every change once it is committed: metrics count outcomes from it."""
        self.unsure_commits = 0
        """Commits whose outcome stayed unknown (the store failed, and so did the read that
        would tell): ``on_committed`` never heard of them, though they may have landed."""
        self.may_dispatch_eagerly: Callable[[str, str], bool] = _always
        """Whether an activity of a namespace ID and queue may start in a workflow task's answer:
        not where a concurrency limit must count it through matching."""

    # -- the transaction -------------------------------------------------------------

    @asynccontextmanager
    async def changing(self, key: ExecutionKey) -> AsyncIterator[tuple[Entry, Change]]:
        """Lock the execution, let the caller mutate it, then commit and hand off.

        An exception from the caller drops the cached copy (it may be half changed)
        and commits nothing.
        """
        entry = await self._locked(key)
        try:
            change = Change(
                entry.state,
                self._clock.now(),
                entry.version,
                self._dispatch.sticky_alive,
                suggest_continue_as_new_at=self._limits.suggest_continue_as_new_events,
                routing=self._dispatch.deployments,
            )
            if entry.state.retry_policy is not None or entry.state.cron_schedule:
                change.start_event = (await self.cache.history(entry))[0]
            try:
                yield entry, change
            except BaseException:
                self.cache.drop(key)
                raise
            await self._commit(entry, change)
        finally:
            entry.lock.release()

    async def _locked(self, key: ExecutionKey) -> Entry:
        """The cached execution with its lock held, re-fetched if it was dropped meanwhile."""
        while True:
            entry = await self.load(key)
            await entry.lock.acquire()
            if self.cache.holds(entry):
                return entry
            entry.lock.release()

    async def _commit(self, entry: Entry, change: Change) -> None:
        if change.is_empty:
            return
        # A store that has the write commits it whether or not its caller still waits
        # (a client's deadline may pass meanwhile), so the hand-off must follow regardless:
        # else the run's tasks and timers would sit in the store, due, until a restart.
        await finish_even_if_cancelled(self._commit_and_hand_off(entry, change))

    async def _commit_and_hand_off(self, entry: Entry, change: Change) -> None:
        follow = change.successor
        caller = current_principal.get()
        if caller is not None and caller.kind is not PrincipalKind.ANONYMOUS:
            _stamp(change, caller)
        write = change.to_write()
        more = [follow.to_write()] if follow is not None else []
        pending = pending_audit.get()
        audit = pending.row_for(write.key, change.now) if pending is not None else None
        if audit is not None:
            write = replace(write, audit=audit)  # one transaction with the change it records
        try:
            await self._store.commit(write, *more)
        except StorageError:
            if not await self._landed(write):
                self._forget_unsure(entry.key)
                raise
        except BaseException:
            self._forget_unsure(entry.key)
            raise
        if pending is not None and audit is not None:
            pending.written = True
        entry.version = write.new_version
        # Only the bytes are kept (a tenth of the messages' memory); what is read is decoded again.
        if write.events is not None:
            self.cache.add_committed(entry, write.events)
        self._hand_off(change)
        if follow is not None:
            follow_events = EventLog()
            if more[0].events is not None:
                follow_events.append_batch(more[0].events.data)
            self.cache.put(Entry(follow.key, follow.state, 1, events=follow_events))
            self._hand_off(follow)
        if change.events or change.state_changed:
            entry.notify()
        self.cache.note_state(entry)

    def _forget_unsure(self, key: ExecutionKey) -> None:
        """Forget the cached copy of a run whose commit failed or may have landed unseen."""
        self.cache.drop(key)
        self.unsure_commits += 1

    async def _landed(self, write: ExecutionWrite) -> bool:
        """Whether a commit the store reported failed took effect all the same.

        A connection cut while the database commits leaves the outcome open. A change that
        did land must be handed off and answered now, as any commit: else its tasks and
        timers would wait in the store for the next restart, and its workflow with them.
        The stored state is this write's own bytes only if this write made it.
        """
        try:
            stored = await self._store.load_execution(write.key)
        except StorageError:
            return False
        return stored is not None and stored.version == write.new_version and stored.state == write.state

    def _hand_off(self, change: Change) -> None:
        """Give what a committed change created to matching, the timer queue and workers."""
        run_log.committed(change)
        if self.on_committed is not None:
            self.on_committed(change)
        if change.tasks_removed:  # a task still waiting for a poll would otherwise stay in memory
            self._dispatch.withdraw_tasks(change.tasks_removed)
        for task in change.tasks_added:
            self._dispatch.add_task(task)
        for timer in change.timers_added:
            self._dispatch.add_timer(timer)
        for timer_id in change.timers_removed:
            self._dispatch.discard_timer(timer_id)
        if change.status_changed and change.state.status != RUNNING and self.on_run_closed is not None:
            self.on_run_closed(change.state)
        for pushed in change.worker_commands():
            self._dispatch.send_worker_commands(pushed)

    async def _check_fresh(self, entry: Entry) -> None:
        """Raise ConcurrentUpdateError if another replica changed the execution since it was cached.

        A decision taken without a versioned write, such as finding a timer obsolete,
        must not rest on an old copy: a timer taken over from a dead replica may guard
        something this replica has not seen yet. The caller runs again on a fresh copy.
        """
        if self._alone:
            return
        version = await self._store.execution_version(entry.key)
        if version is not None and version != entry.version:
            raise ConcurrentUpdateError("the cached copy is older than the database's")

    @staticmethod
    def _require_running(state: MutableState) -> None:
        if not state.running:
            raise NotFoundError("workflow execution already completed")

    # -- finding runs ------------------------------------------------------------------

    async def load(self, key: ExecutionKey) -> Entry:
        entry = await self.cache.get(key)
        if entry is None:
            raise NotFoundError(
                f'workflow execution not found for workflow ID "{key.workflow_id}" and run ID "{key.run_id}"'
            )
        return entry

    async def load_committed(self, key: ExecutionKey) -> Entry:
        """The execution as last committed, for reads that answer a client.

        A change mutates the cached state before its transaction commits; a read
        that finds one in flight waits for it to land (or fail) rather than report
        what may never become durable. Nothing can change the entry between the
        lock's release and the caller's next await.
        """
        while True:
            entry = await self.load(key)
            if not entry.busy:
                return entry
            async with entry.lock:
                if self.cache.holds(entry):
                    return entry

    async def check_chain(self, key: ExecutionKey, first_execution_run_id: str) -> None:
        """Refuse a run that does not belong to the chain started by ``first_execution_run_id``."""
        entry = await self.load(key)
        if entry.state.first_execution_run_id != first_execution_run_id:
            raise NotFoundError(
                f'workflow execution not found for workflow ID "{key.workflow_id}" and run ID "{key.run_id}"'
            )

    async def resolve_run(self, namespace_id: str, workflow_id: str, run_id: str) -> ExecutionKey:
        """The run a request means: the given one, or the current run of the workflow ID."""
        if run_id:
            try:
                uuid.UUID(run_id)
            except ValueError as exc:
                raise InvalidArgumentError("Invalid RunId.") from exc
            return ExecutionKey(namespace_id, workflow_id, run_id)
        known = self._running_current(namespace_id, workflow_id)
        if known is not None:
            return known
        current = await self._store.get_current_execution(namespace_id, workflow_id)
        if current is None:
            raise NotFoundError(f"workflow not found for ID: {workflow_id}")
        return ExecutionKey(namespace_id, workflow_id, current.run_id)

    def _running_current(self, namespace_id: str, workflow_id: str) -> ExecutionKey | None:
        """The current run without a database read, when memory alone can vouch for it.

        A workflow ID has at most one running run, and a newer run only starts once
        it closed; so a cached run that is still running is the current one. With
        other replicas the cached copy may lag behind theirs, so they always read.
        """
        entry = self.cache.latest_run(namespace_id, workflow_id) if self._alone else None
        return entry.key if entry is not None and entry.state.running else None


def _always(namespace_id: str, task_queue: str) -> bool:
    return True


def _stamp(change: Change, caller: Principal) -> None:
    """Mark the events a client's call adds (a new run's too) with its principal, as Temporal
    stamps each event of a transaction with the caller's; ``identity`` stays as the client set it."""
    message = PrincipalMessage(type=caller.kind.value, name=caller.name)
    change.stamp_principal(message)
    if change.successor is not None:
        change.successor.stamp_principal(message)
