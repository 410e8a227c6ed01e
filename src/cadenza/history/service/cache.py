"""Executions held in memory: their state, their history and who is waiting on them."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

from cadenza.history.machine.state import MutableState
from cadenza.history.service import wire
from cadenza.history.service.event_log import EventLog
from cadenza.persistence.records import EventBatch, ExecutionKey
from cadenza.persistence.roles import ExecutionReader


@dataclass
class Entry:
    """One execution in memory. Changes to it are serialized by ``lock``."""

    key: ExecutionKey
    state: MutableState
    version: int
    events: EventLog | None = None
    """The whole history once loaded; None until something needs it."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    dropped: bool = False
    """Set once the cache forgot this copy; whoever holds it must load the execution again."""
    _changed: asyncio.Event | None = None
    """What waiters for the next event wait on; made by the first of them (most runs have none)."""

    def notify(self) -> None:
        """Wake everyone waiting for a new event on this execution."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_changed(self, timeout: float) -> bool:
        if self.dropped:  # it may have been dropped just before this wait began
            return True
        if self._changed is None:
            self._changed = asyncio.Event()
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            return False
        return True

    @property
    def busy(self) -> bool:
        return self.lock.locked()


@dataclass
class _Load:
    """Reads of one execution in flight, and the newest version announced meanwhile."""

    readers: int = 0
    announced: int = 0


_HISTORY_LOAD_ATTEMPTS = 1000

OPEN_RUNS_HELD = 20_000
"""How many runs the cache holds at most."""
CLOSED_RUNS_HELD = 1_000
"""How many of those may be closed: a closed run is read a few times just after it closes
(its result, a describe) and rarely again, so a store of a million closed runs costs the
memory of a thousand."""


class ExecutionCache:
    """A bounded LRU of executions, loaded from the store on a miss."""

    def __init__(
        self, store: ExecutionReader, capacity: int = OPEN_RUNS_HELD, closed_capacity: int = CLOSED_RUNS_HELD
    ) -> None:
        self._store = store
        self._capacity = capacity
        self._closed_capacity = closed_capacity
        self._entries: OrderedDict[ExecutionKey, Entry] = OrderedDict()
        self._closed: OrderedDict[ExecutionKey, None] = OrderedDict()
        """The cached runs that are closed, least recently closed or loaded first."""
        self._loading: dict[ExecutionKey, _Load] = {}
        self._latest_runs: dict[tuple[str, str], ExecutionKey] = {}
        """The run of each workflow ID cached last; held only while that run is cached."""
        self.hits = 0
        self.misses = 0
        """Lookups that found the run in memory and that read it from the store (metrics)."""

    def size(self) -> int:
        """Runs held now."""
        return len(self._entries)

    async def get(self, key: ExecutionKey) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self.hits += 1
            self._entries.move_to_end(key)
            return entry
        self.misses += 1
        load = self._loading.setdefault(key, _Load())
        load.readers += 1
        try:
            stored = await self._store.load_execution(key)
            # A read that began before another replica's commit may end after its
            # announcement: that copy is already old, and caching it would keep it so.
            while stored is not None and stored.version < load.announced:
                stored = await self._store.load_execution(key)
        finally:
            load.readers -= 1
            if not load.readers:
                del self._loading[key]
        if stored is None:
            return None
        entry = self._entries.get(key)  # another task may have loaded it meanwhile
        if entry is None:
            entry = Entry(key, MutableState.from_bytes(stored.state, stored.activities), stored.version)
            self.put(entry)
        return entry

    def peek(self, key: ExecutionKey) -> Entry | None:
        """The cached copy, if there is one; never reads the store."""
        return self._entries.get(key)

    def latest_run(self, namespace_id: str, workflow_id: str) -> Entry | None:
        """The cached run of a workflow ID put here last, if it is still cached."""
        key = self._latest_runs.get((namespace_id, workflow_id))
        return self._entries.get(key) if key is not None else None

    def put(self, entry: Entry) -> None:
        self._entries[entry.key] = entry
        self._entries.move_to_end(entry.key)
        self._latest_runs[(entry.key.namespace_id, entry.key.workflow_id)] = entry.key
        self._evict()
        self.note_state(entry)

    def note_state(self, entry: Entry) -> None:
        """Count a cached run among the closed ones once it is closed (after it changed)."""
        if entry.state.running or not self.holds(entry):
            return
        self._closed[entry.key] = None
        self._closed.move_to_end(entry.key)
        while len(self._closed) > self._closed_capacity:
            oldest = next(iter(self._closed))
            if self._entries[oldest].busy:  # in use: it is forgotten when next closed or evicted
                self._closed.move_to_end(oldest)
                return
            self._remove(oldest)

    def holds(self, entry: Entry) -> bool:
        """Whether this exact copy is still the cached one."""
        return self._entries.get(entry.key) is entry

    def drop(self, key: ExecutionKey) -> None:
        """Forget a copy that may differ from the database (after a failed commit)."""
        entry = self._entries.get(key)
        if entry is not None:
            self._remove(key)
            entry.dropped = True
            entry.notify()

    def changed_elsewhere(self, key: ExecutionKey, version: int) -> None:
        """Another replica committed ``version``: forget an older copy, waking its waiters."""
        entry = self._entries.get(key)
        if entry is not None and entry.version < version:
            self.drop(key)
        load = self._loading.get(key)
        if load is not None:
            load.announced = max(load.announced, version)

    def drop_all(self) -> None:
        """Forget every copy (changes made elsewhere may have gone unheard)."""
        for key in list(self._entries):
            self.drop(key)

    async def history(self, entry: Entry) -> EventLog:
        """The execution's whole committed history, loading it once if needed.

        A commit can land while the load is in flight (it cannot extend a list
        that does not exist yet), so a load that comes back short of the
        state's last event is done again.
        """
        for _ in range(_HISTORY_LOAD_ATTEMPTS):
            if entry.events is not None:
                return entry.events
            batches = await self._store.read_history(entry.key, 1)
            events = EventLog.of_batches(batch.data for batch in batches)
            if entry.events is None and len(events) >= entry.state.next_event_id - 1:
                entry.events = events
            elif entry.events is None:
                await asyncio.sleep(0.001)  # a change is being committed; read again
        if entry.events is None:
            raise RuntimeError(f"history of {entry.key} could not be read consistently")
        return entry.events

    @staticmethod
    def add_committed(entry: Entry, batch: EventBatch) -> None:
        """Add a batch just committed to the execution's loaded history.

        The commit leaves the execution's lock held but not its readers out: a
        history load that runs while the commit is in flight may already read the
        batch from the store, and adding it again would show a worker every event
        of it twice. A history that is neither just short of the batch nor past it
        is forgotten, to be read again when needed.
        """
        if entry.events is None:
            return
        held = len(entry.events)
        if held == batch.first_event_id - 1:
            entry.events.append_batch(batch.data)
        elif held < batch.last_event_id:
            entry.events = None

    async def event_entry(self, entry: Entry, event_id: int) -> bytes:
        """One committed event, as its entry of a serialized ``History``.

        A history not loaded yet stays so: only the batch holding the event is read
        (a client waiting for a closed run's result needs its last event alone).
        """
        if entry.events is not None and len(entry.events) >= event_id:
            return entry.events.entries(event_id - 1, event_id)[0]
        for batch in await self._store.read_history(entry.key, event_id):
            if batch.first_event_id <= event_id <= batch.last_event_id:
                return wire.split_events(batch.data)[event_id - batch.first_event_id]
        raise RuntimeError(f"event {event_id} of {entry.key} is not stored")

    def _evict(self) -> None:
        while len(self._entries) > self._capacity:
            key, entry = next(iter(self._entries.items()))
            if entry.busy:
                self._entries.move_to_end(key)
                return
            self._remove(key)

    def _remove(self, key: ExecutionKey) -> None:
        del self._entries[key]
        self._closed.pop(key, None)
        self._forget_run(key)

    def _forget_run(self, key: ExecutionKey) -> None:
        workflow = (key.namespace_id, key.workflow_id)
        if self._latest_runs.get(workflow) == key:
            del self._latest_runs[workflow]
