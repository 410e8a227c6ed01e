"""Token buckets and the limits built on them, on a clock the test moves by hand."""

from __future__ import annotations

import pytest

from cadenza.quotas import limiter
from cadenza.quotas.buckets import PriorityBuckets, Rate, TokenBucket
from cadenza.quotas.limiter import CONCURRENT_POLLS, NAMESPACE_RATE, PRINCIPAL_RATE, SERVER_RATE, Call, Quotas
from cadenza.quotas.settings import Entry, QuotaSettings, from_pairs


class HandClock:
    def __init__(self) -> None:
        self.time = 1000.0

    def now(self) -> float:
        return self.time


def takes(bucket: TokenBucket, clock: HandClock, rate: Rate, times: int) -> list[bool]:
    return [bucket.take(clock.now(), rate) for _ in range(times)]


def test_a_bucket_starts_full_and_lets_its_burst_through_then_refuses() -> None:
    clock, rate = HandClock(), Rate(10, 3)
    bucket = TokenBucket(clock.now(), rate.burst)
    assert takes(bucket, clock, rate, 4) == [True, True, True, False]


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    clock, rate = HandClock(), Rate(10, 3)
    bucket = TokenBucket(clock.now(), rate.burst)
    takes(bucket, clock, rate, 3)
    clock.time += 0.1  # one token
    assert takes(bucket, clock, rate, 2) == [True, False]
    clock.time += 3600  # never more than the burst
    assert takes(bucket, clock, rate, 4) == [True, True, True, False]


def test_a_clock_stepping_back_refills_nothing() -> None:
    clock, rate = HandClock(), Rate(10, 1)
    bucket = TokenBucket(clock.now(), rate.burst)
    assert takes(bucket, clock, rate, 1) == [True]
    clock.time -= 50
    assert takes(bucket, clock, rate, 1) == [False]


def test_a_lower_rate_applies_at_once_and_a_debt_is_paid_before_the_next_token() -> None:
    clock = HandClock()
    bucket = TokenBucket(clock.now(), 5)
    assert takes(bucket, clock, Rate(1, 1), 2) == [True, False]  # the burst shrank to one
    bucket.owe(clock.now(), Rate(1, 1))
    clock.time += 1.5  # from -1: half a token
    assert takes(bucket, clock, Rate(1, 1), 1) == [False]
    clock.time += 0.5
    assert takes(bucket, clock, Rate(1, 1), 1) == [True]


@pytest.mark.parametrize(
    ("per_second", "ratio", "burst"),
    [(2400, 2, 4800), (100, 1, 100), (0.3, 2, 1), (0, 2, 1), (5, 0, 1), (1.5, 1, 2)],
)
def test_the_burst_is_the_rate_times_its_ratio_rounded_up_and_at_least_one(
    per_second: float, ratio: float, burst: int
) -> None:
    assert Rate.with_ratio(per_second, ratio).burst == burst


def test_calls_of_less_importance_are_refused_first() -> None:
    clock, rate = HandClock(), Rate(1, 2)
    buckets = PriorityBuckets(clock, [0, 1, 4], rate)
    assert buckets.take(1, rate) and buckets.take(1, rate)  # completions spend the polls' tokens too
    assert not buckets.take(4, rate)
    assert not buckets.take(1, rate)
    clock.time += 1
    assert buckets.take(1, rate)
    assert not buckets.take(4, rate)  # still in debt


def quotas(pairs: list[str], clock: HandClock, known: tuple[str, ...] = ("a", "b")) -> Quotas:
    return Quotas(from_pairs(pairs, "test"), lambda name: name in known, clock)


def test_one_namespace_over_its_rate_leaves_the_others_alone() -> None:
    limits = quotas(['frontend.namespaceRPS=[{"value":1,"constraints":{"namespace":"a"}}]'], HandClock())
    start = Call("StartWorkflowExecution", "a")
    assert [limits.refusal(start) for _ in range(3)] == [None, None, NAMESPACE_RATE]
    assert all(limits.refusal(Call("StartWorkflowExecution", "b")) is None for _ in range(100))


def test_visibility_calls_have_a_rate_of_their_own() -> None:
    limits = quotas(["frontend.namespaceRPS.visibility=2", "frontend.namespaceRPS=0"], HandClock())
    assert [limits.refusal(Call("ListWorkflowExecutions", "a")) for _ in range(3)] == [
        None,
        None,
        NAMESPACE_RATE,
    ]
    assert [limits.refusal(Call("DescribeWorkflowExecution", "a")) for _ in range(2)] == [
        None,
        NAMESPACE_RATE,
    ]


def test_the_server_rate_holds_every_namespace_together() -> None:
    limits = quotas(["frontend.rps=1"], HandClock())
    assert limits.refusal(Call("GetSystemInfo")) is None
    assert limits.refusal(Call("StartWorkflowExecution", "a")) is None
    assert limits.refusal(Call("StartWorkflowExecution", "b")) == SERVER_RATE


def test_a_cluster_wide_value_replaces_the_per_server_one() -> None:
    limits = quotas(["frontend.namespaceRPS=1000", "frontend.globalNamespaceRPS=1"], HandClock())
    assert [limits.refusal(Call("SignalWorkflowExecution", "a")) for _ in range(3)] == [
        None,
        None,
        NAMESPACE_RATE,
    ]


def test_rpcs_outside_temporals_classes_are_never_rate_limited() -> None:
    limits = quotas(["frontend.rps=0", "frontend.namespaceRPS=0"], HandClock())
    assert all(limits.refusal(Call("RegisterNamespace", "a")) is None for _ in range(10))


def test_operator_calls_get_their_share_of_the_rate() -> None:
    clock = HandClock()
    limits = quotas(["frontend.namespaceRPS=10", "frontend.namespaceBurstRatio=1"], clock)
    operator = Call("DescribeWorkflowExecution", "a", operator=True)
    assert [limits.refusal(operator) for _ in range(11)][-1] == NAMESPACE_RATE
    clock.time += 0.5  # 20% of 10 per second: one token
    assert [limits.refusal(operator) for _ in range(2)] == [None, NAMESPACE_RATE]


def test_long_polls_are_refused_past_the_count_and_counted_until_released() -> None:
    limits = quotas(["frontend.namespaceCount=1"], HandClock())
    poll = Call("PollActivityTaskQueue", "a")
    first = limits.hold(poll)
    assert limits.refusal(poll) is None
    second = limits.hold(poll)
    assert limits.refusal(poll) == CONCURRENT_POLLS
    assert limits.refusal(Call("PollWorkflowTaskQueue", "a")) is None  # counted per RPC, as on Temporal
    second()
    second()  # releasing twice counts once
    first()
    third = limits.hold(poll)
    assert limits.refusal(poll) is None
    third()


def test_a_principal_has_its_own_rate_and_an_anonymous_caller_none() -> None:
    limits = quotas(["cadenza.principalRPS=1", "cadenza.principalBurstRatio=1"], HandClock())
    alice = Call("StartWorkflowExecution", "a", principal="alice")
    assert [limits.refusal(alice) for _ in range(2)] == [None, PRINCIPAL_RATE]
    assert limits.refusal(Call("StartWorkflowExecution", "a", principal="bob")) is None
    assert limits.refusal(Call("StartWorkflowExecution", "b", principal="alice")) is None
    assert all(limits.refusal(Call("StartWorkflowExecution", "a")) is None for _ in range(10))


def test_namespaces_the_server_does_not_know_share_one_bucket() -> None:
    limits = quotas(["frontend.namespaceRPS=1", "frontend.namespaceBurstRatio=1"], HandClock())
    assert limits.refusal(Call("StartWorkflowExecution", "made-up-1")) is None
    assert limits.refusal(Call("StartWorkflowExecution", "made-up-2")) == NAMESPACE_RATE
    assert limits.refusal(Call("StartWorkflowExecution", "a")) is None


def test_settings_from_the_file_apply_over_the_flags_at_once() -> None:
    limits = quotas(["frontend.namespaceRPS=1000"], HandClock())
    limits.apply_file(QuotaSettings(({"frontend.namespaceRPS": [Entry(0, namespace="a")]},)))
    assert [limits.refusal(Call("StartWorkflowExecution", "a")) for _ in range(2)] == [None, NAMESPACE_RATE]
    assert limits.settings.value("frontend.namespaceRPS", "b") == 1000


def test_buckets_are_bounded_the_least_recently_used_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limiter, "MAX_BUCKETS", 3)  # the server bucket and two namespaces
    limits = quotas(["frontend.namespaceRPS=0"], HandClock(), known=("a", "b", "c"))
    assert [limits.refusal(Call("StartWorkflowExecution", "a")) for _ in range(2)] == [None, NAMESPACE_RATE]
    assert limits.refusal(Call("StartWorkflowExecution", "b")) is None
    assert limits.refusal(Call("StartWorkflowExecution", "c")) is None  # "a" is forgotten
    assert limits.refusal(Call("StartWorkflowExecution", "a")) is None
    assert len(limits._buckets) == 3
