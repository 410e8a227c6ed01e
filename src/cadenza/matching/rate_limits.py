"""Dispatch rate limits of task queues: one limiter per queue, shared by all its workers.

As on Temporal, a queue's rate is, in this order: the rate set through
UpdateTaskQueueConfig (even above what the workers ask for), else the rate the
latest poll asked for (a worker's ``max_task_queue_activities_per_second``; a
poll naming none clears it), and never more than the system's rate. A fairness
key's default rate, set through the same call and scaled by the key's weight,
applies beside the queue's: a task waits for the stricter of the two.

Each limit is a GCRA (the "virtual scheduling" form of a token bucket) with one
second of burst, as Temporal's matching keeps it: ``ready`` is when the next task
may go, and each task taken pushes it one interval later, starting at most one
burst before now. The limiters live in memory; the API-set limits come from the
stored task queue configs (``cadenza.matching.queue_configs``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from cadenza.clock import Clock
from cadenza.persistence.records import TaskKind, TaskRecord

SYSTEM_RATE = 4000.0
"""Tasks per second a queue dispatches at most when nothing stricter is set: what Temporal's
dev server reports (1,000 a second for each of its four partitions)."""
BURST_SECONDS = 1.0
"""How much of its rate a queue idle for a while may hand out at once: Temporal's one second."""
MIN_WEIGHT, MAX_WEIGHT = 0.001, 1000.0
"""A fairness weight is clamped to this range, as Temporal clamps it."""
KEYS_REMEMBERED = 10_000
"""Fairness keys whose limiter a queue keeps; keys idle for a burst are the first forgotten."""
NEVER = 1e-9
"""A rate at or below this dispatches nothing (a limit of 0 pauses the queue)."""


class RateLimitSource(IntEnum):
    """Where a queue's effective rate comes from; the numbers are Temporal's ``RateLimitSource``."""

    API = 1
    WORKER = 2
    SYSTEM = 3


@dataclass(frozen=True)
class ApiLimits:
    """The limits a queue was given through UpdateTaskQueueConfig; None where none is set."""

    queue_rate: float | None = None
    fairness_key_rate: float | None = None
    """Each fairness key's default rate, before scaling by the key's weight."""
    weight_overrides: Mapping[str, float] = field(default_factory=dict)


class MonotonicClock:
    """Seconds from ``time.monotonic``: what a limiter measures intervals with by default."""

    def now(self) -> float:
        return time.monotonic()


@dataclass
class Gcra:
    """One limit's state: the time the next task may go."""

    ready: float = -math.inf

    def take(self, rate: float, now: float) -> None:
        self.ready = max(now - BURST_SECONDS, self.ready) + 1.0 / rate

    def clip(self, rate: float, now: float) -> None:
        """After a rate change: wait at most one new interval (a rate raised from near zero
        would otherwise keep a ready time far in the future)."""
        self.ready = min(self.ready, now + 1.0 / rate)


def effective_rate(api: ApiLimits, worker_rate: float | None) -> tuple[float, RateLimitSource]:
    """A queue's rate and where it comes from: the API's, else the latest poll's, at most the
    system's."""
    if api.queue_rate is not None:
        rate, source = api.queue_rate, RateLimitSource.API
    elif worker_rate is not None:
        rate, source = worker_rate, RateLimitSource.WORKER
    else:
        return SYSTEM_RATE, RateLimitSource.SYSTEM
    return (rate, source) if rate < SYSTEM_RATE else (SYSTEM_RATE, RateLimitSource.SYSTEM)


def fairness_of(task: TaskRecord) -> tuple[str, float]:
    """A task's fairness key and weight (0: none given); a task that names none shares the
    empty key at the default weight."""
    return task.priority.fairness_key, task.priority.fairness_weight


class QueueLimiter:
    """The dispatch limits of one task queue."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.api = ApiLimits()
        self.worker_rate: float | None = None
        """The rate the latest poll asked for; None if it asked for none."""
        self._queue = Gcra()
        self._keys: dict[str, Gcra] = {}

    def effective(self) -> tuple[float, RateLimitSource]:
        """The queue's rate now and where it comes from, as DescribeTaskQueue reports it."""
        return effective_rate(self.api, self.worker_rate)

    def set_api(self, limits: ApiLimits) -> None:
        self.api = limits
        self._clip()

    def set_worker_rate(self, rate: float | None) -> None:
        if rate != self.worker_rate:
            self.worker_rate = rate
            self._clip()

    def weight(self, key: str, task_weight: float) -> float:
        """A key's weight: the queue's override, else the task's own, else 1; clamped."""
        weight = self.api.weight_overrides.get(key, task_weight) or 1.0
        return min(max(weight, MIN_WEIGHT), MAX_WEIGHT)

    def delay(self, key: str = "", task_weight: float = 0.0) -> float:
        """Seconds until a task of fairness key ``key`` may go: 0 if now, ``inf`` if never."""
        rate, _ = self.effective()
        key_rate = self._key_rate(key, task_weight)
        if rate <= NEVER or (key_rate is not None and key_rate <= NEVER):
            return math.inf
        ready = self._queue.ready
        if key_rate is not None and key in self._keys:
            ready = max(ready, self._keys[key].ready)
        return max(0.0, ready - self._clock.now())

    def take(self, key: str = "", task_weight: float = 0.0) -> None:
        """Count one task of fairness key ``key`` as dispatched now."""
        now = self._clock.now()
        rate, _ = self.effective()
        if rate > NEVER:
            self._queue.take(rate, now)
        key_rate = self._key_rate(key, task_weight)
        if key_rate is not None and key_rate > NEVER:
            bucket = self._keys.pop(key, None) or Gcra()
            bucket.take(key_rate, now)
            self._keys[key] = bucket  # most recently used last, so the oldest go first
            if len(self._keys) > KEYS_REMEMBERED:
                self._forget_keys(now)

    @property
    def keys_remembered(self) -> int:
        """Fairness keys whose limiter state is kept now."""
        return len(self._keys)

    def _key_rate(self, key: str, task_weight: float) -> float | None:
        if self.api.fairness_key_rate is None:
            return None
        return self.api.fairness_key_rate * self.weight(key, task_weight)

    def _clip(self) -> None:
        now = self._clock.now()
        rate, _ = self.effective()
        if rate > NEVER:
            self._queue.clip(rate, now)
        if self.api.fairness_key_rate is None:
            self._keys.clear()
            return
        for key, bucket in self._keys.items():
            key_rate = self._key_rate(key, 0.0)
            if key_rate is not None and key_rate > NEVER:
                bucket.clip(key_rate, now)

    def _forget_keys(self, now: float) -> None:
        """Drop keys idle for a burst (a fresh limiter is the same), then the least recently used."""
        for key in [k for k, b in self._keys.items() if b.ready <= now - BURST_SECONDS]:
            del self._keys[key]
        while len(self._keys) > KEYS_REMEMBERED:
            del self._keys[next(iter(self._keys))]


LimiterKey = tuple[str, str, TaskKind]


class RateLimits:
    """The limiter of every queue that has polls or a configured limit."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or MonotonicClock()
        self._limiters: dict[LimiterKey, QueueLimiter] = {}

    def limiter(self, namespace_id: str, name: str, kind: TaskKind) -> QueueLimiter:
        key = (namespace_id, name, kind)
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = QueueLimiter(self._clock)
        return limiter

    def configure(self, namespace_id: str, name: str, kind: TaskKind, limits: ApiLimits) -> None:
        self.limiter(namespace_id, name, kind).set_api(limits)

    def effective(self, namespace_id: str, name: str, kind: TaskKind) -> tuple[float, RateLimitSource]:
        limiter = self._limiters.get((namespace_id, name, kind))
        return limiter.effective() if limiter is not None else (SYSTEM_RATE, RateLimitSource.SYSTEM)
