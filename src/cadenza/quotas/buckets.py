"""Token buckets: a rate of tokens per second, held up to a burst.

A bucket does not own its rate and burst; they are passed in on every call, so a
limit changed at run time (the dynamic-config file) takes effect on the next call
without rebuilding any bucket. Time comes from a ``Clock`` the caller passes, so
tests drive it by hand.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cadenza.clock import Clock


class MonotonicClock:
    """Seconds that never go back: what buckets measure refills with."""

    def now(self) -> float:
        return time.monotonic()


@dataclass(frozen=True)
class Rate:
    """Tokens per second, and the most a bucket holds."""

    per_second: float
    burst: int

    @classmethod
    def with_ratio(cls, per_second: float, burst_ratio: float) -> Rate:
        """Temporal's rule: the burst is the rate times the ratio, rounded up, and at least one."""
        per_second = max(0.0, per_second)
        return cls(per_second, max(1, math.ceil(per_second * max(0.0, burst_ratio))))


class TokenBucket:
    """One bucket; it starts full."""

    def __init__(self, now: float, burst: int) -> None:
        self._tokens = float(burst)
        self._stamp = now

    def _refill(self, now: float, rate: Rate) -> None:
        elapsed = max(0.0, now - self._stamp)  # a clock that steps back refills nothing
        self._stamp = max(self._stamp, now)
        self._tokens = min(float(rate.burst), self._tokens + elapsed * rate.per_second)

    def take(self, now: float, rate: Rate) -> bool:
        """Take a token if one is there; False (and nothing taken) if not."""
        self._refill(now, rate)
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def owe(self, now: float, rate: Rate) -> None:
        """Take a token even if none is there, leaving the bucket in debt until it refills."""
        self._refill(now, rate)
        self._tokens -= 1.0


class PriorityBuckets:
    """Temporal's priority rate limiter: a bucket per priority level, all at one rate.

    A call of priority ``p`` (lower is more important) is decided by bucket ``p`` alone,
    and once let through it also spends a token from every less important bucket,
    even into debt. So when a namespace runs over its rate, the least important calls
    (polls) are refused first, and calls that complete work are refused last.
    """

    def __init__(self, clock: Clock, priorities: Sequence[int], rate: Rate) -> None:
        now = clock.now()
        self._clock = clock
        self._order = sorted(priorities)
        self._buckets = {priority: TokenBucket(now, rate.burst) for priority in self._order}

    def take(self, priority: int, rate: Rate, deciding_rate: Rate | None = None) -> bool:
        """Whether a call of ``priority`` may go on; ``deciding_rate`` replaces ``rate`` for its
        own bucket (the operator's share)."""
        now = self._clock.now()
        if not self._buckets[priority].take(now, deciding_rate or rate):
            return False
        for other in self._order:
            if other > priority:
                self._buckets[other].owe(now, rate)
        return True
