"""Token buckets: a rate of tokens per second, held up to a burst.

A bucket does not own its rate and burst; they are passed in on every call, so a
limit changed at run time (the dynamic-config file) takes effect on the next call
without rebuilding any bucket. Time comes from a ``Clock`` the caller passes, so
tests drive it by hand.
"""

from __future__ import annotations

import functools
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

    @staticmethod
    def with_ratio(per_second: float, burst_ratio: float) -> Rate:
        """Temporal's rule: the burst is the rate times the ratio, rounded up, and at least one."""
        return _rate_with_ratio(per_second, burst_ratio)


@functools.lru_cache(maxsize=1024)
def _rate_with_ratio(per_second: float, burst_ratio: float) -> Rate:
    # Every rate-limited call needs two or three rates, from the few values the settings
    # hold: made once each, not once per call.
    per_second = max(0.0, per_second)
    return Rate(per_second, max(1, math.ceil(per_second * max(0.0, burst_ratio))))


class TokenBucket:
    """One bucket; it starts full."""

    __slots__ = ("_stamp", "_tokens")

    def __init__(self, now: float, burst: int) -> None:
        self._tokens = float(burst)
        self._stamp = now

    def _refill(self, now: float, rate: Rate) -> float:
        """The tokens there are at ``now``, this bucket's time moved on to it.

        Every call of every rate-limited RPC refills up to a dozen buckets: plain comparisons here,
        not min() and max(), keep that cheap."""
        tokens = self._tokens
        if now > self._stamp:  # a clock that steps back refills nothing
            tokens += (now - self._stamp) * rate.per_second
            self._stamp = now
        burst = float(rate.burst)
        return tokens if tokens < burst else burst

    def take(self, now: float, rate: Rate) -> bool:
        """Take a token if one is there; False (and nothing taken) if not."""
        tokens = self._refill(now, rate)
        if tokens < 1.0:
            self._tokens = tokens
            return False
        self._tokens = tokens - 1.0
        return True

    def owe(self, now: float, rate: Rate) -> None:
        """Take a token even if none is there, leaving the bucket in debt until it refills."""
        self._tokens = self._refill(now, rate) - 1.0


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
        order = sorted(priorities)
        self._buckets = {priority: TokenBucket(now, rate.burst) for priority in order}
        self._less_important = {
            priority: tuple(self._buckets[other] for other in order if other > priority) for priority in order
        }

    def take(self, priority: int, rate: Rate, deciding_rate: Rate | None = None) -> bool:
        """Whether a call of ``priority`` may go on; ``deciding_rate`` replaces ``rate`` for its
        own bucket (the operator's share)."""
        now = self._clock.now()
        if not self._buckets[priority].take(now, deciding_rate or rate):
            return False
        for bucket in self._less_important[priority]:
            bucket.owe(now, rate)
        return True
