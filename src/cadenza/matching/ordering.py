"""The dispatch order of one task queue's backlog: priority, then fairness, then arrival.

Tasks go strictly by priority key (1 first, 5 last; 0 means the default, 3), so while a
task of key 1 waits no task of key 2 is handed out. Within one priority key each
fairness key is a virtual queue, and the keys share the dispatches in proportion to
their weights by stride scheduling, as Temporal's matching does with fairness on: a
task's *pass* is its key's previous pass (or, when the key has nothing waiting, the
level's virtual time: the pass of the task dispatched last) plus ``1 / weight``, and
the task with the lowest pass goes first. Passes are integers on a fine scale whose
strides are exact for the usual weights (``SCALE``), so weights 9:1 give exactly nine tasks to
one for the other in every ten, however long the backlog (Temporal's coarser strides
drift: 1000 // 9 is 111); at equal passes the heavier key goes first (as Temporal's
rounding has it: weights 3:1 dispatch as ``aaab aaab``), then the earlier task.

Tasks withdrawn from the backlog (their run closed) keep the passes they took, as on
Temporal, where such a task is dispatched and dropped: the tasks left keep their order.

The order depends only on the tasks and the order they arrived in: a restarted server
loads its stored tasks back in creation order into empty levels, so the same tasks
dispatch in the same pattern again. While every task waiting has one priority key and
one fairness key (as when nobody sets any), the backlog is a plain FIFO deque and
costs what it always did; the levels are built the moment a second key arrives, and
dropped again when the backlog empties.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import count

from cadenza.persistence.records import TaskRecord

DEFAULT_PRIORITY_KEY = 3
PRIORITY_LEVELS = 5
"""Priority keys past this are treated as the last one, as Temporal's default 5 levels do."""
QUERY_LEVEL = 0
"""Queries are answered before any task: Temporal never queues them behind a backlog."""
MIN_WEIGHT = 0.001
MAX_WEIGHT = 1000.0
DEFAULT_WEIGHT = 1.0

_Slot = tuple[int, str]
"""Where a task waits: its priority level and its fairness key."""


def priority_level(task: TaskRecord) -> int:
    """The level a task waits in: its priority key, defaulted and clipped to Temporal's 1 to 5."""
    if task.query_id:
        return QUERY_LEVEL
    key = task.priority.priority_key or DEFAULT_PRIORITY_KEY
    return min(max(key, 1), PRIORITY_LEVELS)


def effective_weight(weight: float, override: float | None = None) -> float:
    """A fairness weight as dispatch uses it: the queue's override for the key if it has
    one, else the task's; zero or less means the default, and it is kept within
    [0.001, 1000]."""
    if override is not None:
        weight = override
    if weight <= 0:
        return DEFAULT_WEIGHT
    return min(max(weight, MIN_WEIGHT), MAX_WEIGHT)


SCALE = 720_720 * 10**9
"""One unit of virtual time in integer steps. It is divisible by every whole number up to 16
(and by powers of two and ten), so the strides of whole weights up to 16, and of halves
and quarters of them, are exact; any other weight's stride is rounded by less than one
part in 10**11. Integers keep the comparisons cheap."""

_Entry = tuple[int, float, int, TaskRecord]
"""A waiting task with its place in the order: its pass, its weight negated (at equal passes
the heavier key first), its arrival number (then the earlier task), and the task."""
_Head = tuple[int, float, int, str]
"""A waiting key's first entry, with the key in place of the task."""


@dataclass
class _Level:
    """The fairness keys waiting at one priority key, each a FIFO of passes in order."""

    keys: dict[str, deque[_Entry]] = field(default_factory=dict)
    heads: list[_Head] = field(default_factory=list)
    """A heap of each waiting key's first entry."""
    clock: int = 0
    """Virtual time: the pass of the task taken last."""
    size: int = 0

    def add(self, fairness_key: str, weight: float, seq: int, task: TaskRecord) -> None:
        waiting = self.keys.get(fairness_key)
        if waiting is None:
            waiting = self.keys[fairness_key] = deque()
        last = waiting[-1][0] if waiting else self.clock
        pass_ = last + _stride(weight)
        waiting.append((pass_, -weight, seq, task))
        if len(waiting) == 1:
            heapq.heappush(self.heads, (pass_, -weight, seq, fairness_key))
        self.size += 1

    def take(self) -> TaskRecord:
        pass_, _, _, fairness_key = heapq.heappop(self.heads)
        waiting = self.keys[fairness_key]
        task = waiting.popleft()[3]
        if waiting:
            pass_next, lighter, seq, _ = waiting[0]
            heapq.heappush(self.heads, (pass_next, lighter, seq, fairness_key))
        else:
            del self.keys[fairness_key]
        self.size -= 1
        self.clock = pass_ if self.size else 0
        return task

    def peek(self) -> TaskRecord:
        return self.keys[self.heads[0][3]][0][3]

    def entries(self) -> list[_Entry]:
        return sorted((entry for waiting in self.keys.values() for entry in waiting), key=_order)

    def rebuild_heads(self) -> None:
        self.heads = [(w[0][0], w[0][1], w[0][2], key) for key, w in self.keys.items()]
        heapq.heapify(self.heads)


def _order(entry: _Entry) -> tuple[int, float, int]:
    return entry[0], entry[1], entry[2]


_STRIDES: dict[float, int] = {}


def _stride(weight: float) -> int:
    """``SCALE / weight``, rounded; few distinct weights are in use, so they are remembered."""
    stride = _STRIDES.get(weight)
    if stride is None:
        if len(_STRIDES) > 4096:
            _STRIDES.clear()
        stride = _STRIDES[weight] = round(Fraction(SCALE) / Fraction(weight))
    return stride


class Backlog:
    """The tasks waiting on one queue, taken in dispatch order.

    ``append`` and ``popleft`` cost O(1) while the backlog is plain FIFO and O(log k) for
    k fairness keys waiting once it is ordered; iteration is in dispatch order.
    """

    def __init__(self) -> None:
        self._plain: deque[TaskRecord] = deque()
        self._plain_slot: _Slot | None = None
        self._levels: dict[int, _Level] | None = None
        self._size = 0
        self._seq = count()
        self._overrides: dict[str, float] = {}
        self._withdrawn: dict[int, int] = {}
        """Tasks still held that were withdrawn, by priority level: skipped when a poll reaches
        them, or swept out in bulk; not counted as waiting meanwhile."""

    def set_weight_overrides(self, overrides: Mapping[str, float]) -> None:
        """The queue's per-fairness-key weights, replacing the tasks' own for tasks added
        from now on (tasks already waiting keep their place, as in Temporal)."""
        self._overrides = dict(overrides)

    @property
    def weight_overrides(self) -> dict[str, float]:
        return dict(self._overrides)

    def append(self, task: TaskRecord) -> None:
        slot = (priority_level(task), task.priority.fairness_key)
        self._size += 1
        if self._levels is None:
            if self._plain_slot is None or self._plain_slot == slot:
                self._plain_slot = slot
                self._plain.append(task)
                return
            self._order_plain()
        self._add_ordered(slot, task)

    def popleft(self) -> TaskRecord:
        """The next task to dispatch, taken out; IndexError if there is none."""
        if self._levels is None:
            task = self._plain.popleft()
            self._size -= 1
            if not self._plain:
                self._plain_slot = None
            return task
        if not self._size:
            raise IndexError("pop from an empty backlog")
        level_key = min(k for k, level in self._levels.items() if level.size)
        task = self._levels[level_key].take()
        self._size -= 1
        if not self._size:
            self.clear()
        return task

    def peek(self) -> TaskRecord | None:
        """The next task to dispatch, left in place; None if there is none."""
        if self._levels is None:
            return self._plain[0] if self._plain else None
        waiting = [level for _, level in sorted(self._levels.items()) if level.heads]
        return waiting[0].peek() if waiting else None

    @property
    def withdrawn(self) -> int:
        """Tasks still held here that were withdrawn."""
        return sum(self._withdrawn.values())

    def note_withdrawn(self, level: int) -> None:
        """A task of priority ``level`` held here was withdrawn: it no longer counts as waiting."""
        self._withdrawn[level] = self._withdrawn.get(level, 0) + 1

    def drop_withdrawn(self, task: TaskRecord) -> None:
        """A withdrawn task was taken out on its way to a poll, which skipped it."""
        level = priority_level(task)
        left = self._withdrawn.get(level, 0) - 1
        if left > 0:
            self._withdrawn[level] = left
        else:
            self._withdrawn.pop(level, None)

    def forget_withdrawn(self) -> None:
        """The withdrawn tasks were swept out."""
        self._withdrawn.clear()

    def by_priority(self) -> dict[int, int]:
        """How many tasks wait at each priority key (withdrawn ones and queries not counted)."""
        if self._levels is None:
            slot = self._plain_slot
            held = {slot[0]: len(self._plain)} if slot and slot[0] != QUERY_LEVEL else {}
        else:
            held = {k: level.size for k, level in self._levels.items() if level.size and k != QUERY_LEVEL}
        for level_key, gone in self._withdrawn.items():
            if level_key in held:
                held[level_key] -= gone
        return {level_key: waiting for level_key, waiting in held.items() if waiting > 0}

    def by_fairness_key(self) -> dict[str, int]:
        """How many tasks wait under each fairness key, over every priority key (queries not
        counted); read at scrape time, O(keys)."""
        if self._levels is None:
            slot = self._plain_slot
            return {slot[1]: len(self._plain)} if slot and slot[0] != QUERY_LEVEL else {}
        counts: dict[str, int] = {}
        for level_key, level in self._levels.items():
            if level_key != QUERY_LEVEL:
                for key, waiting in level.keys.items():
                    counts[key] = counts.get(key, 0) + len(waiting)
        return counts

    def retain(self, keep: Callable[[TaskRecord], bool]) -> None:
        """Drop the tasks ``keep`` refuses; the others keep their order."""
        if self._levels is None:
            self._plain = deque(task for task in self._plain if keep(task))
            self._size = len(self._plain)
            if not self._plain:
                self._plain_slot = None
            return
        for level in self._levels.values():
            level.keys = {
                key: kept
                for key, waiting in level.keys.items()
                if (kept := deque(entry for entry in waiting if keep(entry[3])))
            }
            level.rebuild_heads()
            level.size = sum(len(waiting) for waiting in level.keys.values())
        self._size = sum(level.size for level in self._levels.values())
        if not self._size:
            self.clear()

    def clear(self) -> None:
        self._plain.clear()
        self._plain_slot = None
        self._levels = None
        self._size = 0
        self._withdrawn.clear()

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def __iter__(self) -> Iterator[TaskRecord]:
        if self._levels is None:
            return iter(list(self._plain))
        return iter([entry[3] for _, level in sorted(self._levels.items()) for entry in level.entries()])

    def _order_plain(self) -> None:
        """A second slot arrived: give the plain FIFO's tasks their passes, in order."""
        self._levels = {}
        for task in self._plain:
            self._add_ordered((priority_level(task), task.priority.fairness_key), task)
        self._plain.clear()
        self._plain_slot = None

    def _add_ordered(self, slot: _Slot, task: TaskRecord) -> None:
        assert self._levels is not None
        level_key, fairness_key = slot
        level = self._levels.get(level_key)
        if level is None:
            level = self._levels[level_key] = _Level()
        weight = effective_weight(task.priority.fairness_weight, self._overrides.get(fairness_key))
        level.add(fairness_key, weight, next(self._seq), task)
