"""A queue's dispatch limiter, on a clock the test moves: where its rate comes from, and how
many tasks it lets go in a window."""

from __future__ import annotations

import math

from cadenza.matching.rate_limits import (
    KEYS_REMEMBERED,
    SYSTEM_RATE,
    ApiLimits,
    QueueLimiter,
    RateLimitSource,
)

STEP = 0.001


class SteppedClock:
    def __init__(self) -> None:
        self.time = 100.0

    def now(self) -> float:
        return self.time


def dispatched(limiter: QueueLimiter, clock: SteppedClock, seconds: float, keys: list[str]) -> dict[str, int]:
    """Tasks of each key the limiter lets go over ``seconds``, a poll at every millisecond
    trying each key in turn."""
    counts = dict.fromkeys(keys, 0)
    end = clock.time + seconds
    while clock.time < end:
        for key in keys:
            if limiter.delay(key) == 0:
                limiter.take(key)
                counts[key] += 1
        clock.time += STEP
    return counts


def test_without_limits_the_system_rate_applies() -> None:
    limiter = QueueLimiter(SteppedClock())
    assert limiter.effective() == (SYSTEM_RATE, RateLimitSource.SYSTEM)


def test_the_latest_poll_sets_the_worker_rate_and_one_naming_none_clears_it() -> None:
    limiter = QueueLimiter(SteppedClock())
    limiter.set_worker_rate(7.5)
    assert limiter.effective() == (7.5, RateLimitSource.WORKER)
    limiter.set_worker_rate(2.0)
    assert limiter.effective() == (2.0, RateLimitSource.WORKER)
    limiter.set_worker_rate(None)
    assert limiter.effective() == (SYSTEM_RATE, RateLimitSource.SYSTEM)
    limiter.set_worker_rate(SYSTEM_RATE * 2)  # never above the system's rate
    assert limiter.effective() == (SYSTEM_RATE, RateLimitSource.SYSTEM)


def test_an_api_limit_overrides_a_stricter_worker_limit() -> None:
    clock = SteppedClock()
    limiter = QueueLimiter(clock)
    limiter.set_worker_rate(2.0)
    limiter.set_api(ApiLimits(queue_rate=10.0))
    assert limiter.effective() == (10.0, RateLimitSource.API)
    dispatched(limiter, clock, 2.0, [""])  # past the first burst
    assert dispatched(limiter, clock, 10.0, [""]) == {"": 100}

    limiter.set_api(ApiLimits())
    assert limiter.effective() == (2.0, RateLimitSource.WORKER)


def test_a_queue_idle_for_a_while_hands_out_one_second_of_its_rate_at_once() -> None:
    clock = SteppedClock()
    limiter = QueueLimiter(clock)
    limiter.set_api(ApiLimits(queue_rate=10.0))
    at_once = 0
    while limiter.delay() == 0:
        limiter.take()
        at_once += 1
    assert at_once == 11  # the burst, and the task that opens it
    assert math.isclose(limiter.delay(), 0.1)


def test_the_stricter_of_the_queue_and_fairness_key_limits_wins() -> None:
    clock = SteppedClock()
    limiter = QueueLimiter(clock)
    limiter.set_api(ApiLimits(queue_rate=10.0, fairness_key_rate=2.0))
    dispatched(limiter, clock, 2.0, ["a", "b"])
    assert dispatched(limiter, clock, 10.0, ["a", "b"]) == {"a": 20, "b": 20}  # 2/s each, under 10

    limiter.set_api(ApiLimits(queue_rate=3.0, fairness_key_rate=2.0))
    dispatched(limiter, clock, 2.0, ["a", "b"])
    counts = dispatched(limiter, clock, 10.0, ["a", "b"])
    assert abs(sum(counts.values()) - 30) <= 1  # the queue's 3/s caps both keys' 2/s
    assert all(count <= 20 for count in counts.values())


def test_a_fairness_key_rate_is_scaled_by_the_keys_weight() -> None:
    clock = SteppedClock()
    limiter = QueueLimiter(clock)
    limiter.set_api(ApiLimits(fairness_key_rate=2.0, weight_overrides={"heavy": 3.0}))
    dispatched(limiter, clock, 2.0, ["heavy", "light"])
    assert dispatched(limiter, clock, 10.0, ["heavy", "light"]) == {"heavy": 60, "light": 20}
    assert limiter.weight("light", 5000.0) == 1000.0  # clamped, as Temporal clamps weights


def test_a_zero_rate_pauses_the_queue_until_it_is_raised() -> None:
    clock = SteppedClock()
    limiter = QueueLimiter(clock)
    limiter.set_api(ApiLimits(queue_rate=0.0))
    assert limiter.delay() == math.inf
    assert dispatched(limiter, clock, 5.0, [""]) == {"": 0}
    limiter.set_api(ApiLimits(queue_rate=5.0))
    assert limiter.delay() == 0


def test_a_rate_raised_from_near_zero_does_not_keep_the_old_wait() -> None:
    clock = SteppedClock()
    limiter = QueueLimiter(clock)
    limiter.set_api(ApiLimits(queue_rate=0.001))
    while limiter.delay() == 0:
        limiter.take()
    assert limiter.delay() > 100
    limiter.set_api(ApiLimits(queue_rate=10.0))
    assert limiter.delay() <= 0.1


def test_the_limiter_remembers_a_bounded_number_of_fairness_keys() -> None:
    clock = SteppedClock()
    limiter = QueueLimiter(clock)
    limiter.set_api(ApiLimits(fairness_key_rate=0.5))
    for i in range(KEYS_REMEMBERED + 50):
        limiter.take(f"k{i}")
    assert limiter.keys_remembered == KEYS_REMEMBERED
