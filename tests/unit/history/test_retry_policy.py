"""Temporal's retry policy: intervals, backoff, caps, attempts, non-retryable failures, expiry."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import RetryPolicy as RetryPolicyProto
from temporalio.api.enums.v1 import RetryState
from temporalio.api.failure.v1 import Failure

from cadenza.history.machine import retry
from cadenza.history.machine.state import RetryPolicy
from tests.unit.history.builders import duration

NOW = 1000.0


def policy(
    initial: float = 1.0,
    coefficient: float = 2.0,
    maximum: float = 100.0,
    attempts: int = 0,
    non_retryable: tuple[str, ...] = (),
) -> RetryPolicy:
    return RetryPolicy(initial, coefficient, maximum, attempts, list(non_retryable))


def app_failure(kind: str = "Boom", *, non_retryable: bool = False) -> Failure:
    failure = Failure(message="boom")
    failure.application_failure_info.type = kind
    failure.application_failure_info.non_retryable = non_retryable
    return failure


@pytest.mark.parametrize(("attempt", "expected"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (7, 64.0)])
def test_delay_doubles_from_the_initial_interval(attempt: int, expected: float) -> None:
    assert retry.next_delay(policy(), attempt) == expected


@pytest.mark.parametrize(("attempt", "expected"), [(1, 2.0), (2, 3.0), (3, 4.5)])
def test_delay_follows_the_backoff_coefficient(attempt: int, expected: float) -> None:
    assert retry.next_delay(policy(initial=2.0, coefficient=1.5), attempt) == pytest.approx(expected)


@pytest.mark.parametrize("attempt", [8, 9, 20])
def test_delay_is_capped_at_the_maximum_interval(attempt: int) -> None:
    assert retry.next_delay(policy(maximum=100.0), attempt) == 100.0


def test_a_coefficient_of_one_keeps_the_interval_constant() -> None:
    assert {retry.next_delay(policy(initial=3.0, coefficient=1.0), n) for n in range(1, 6)} == {3.0}


def test_a_zero_maximum_interval_means_no_cap() -> None:
    assert retry.next_delay(policy(maximum=0.0), 12) == 2048.0


def test_a_failed_attempt_with_attempts_left_is_retried_after_the_backoff() -> None:
    decision = retry.decide(policy(attempts=3), 2, app_failure(), NOW, 0)
    assert decision == retry.RetryDecision(2.0, RetryState.RETRY_STATE_IN_PROGRESS)


@pytest.mark.parametrize("attempt", [3, 4])
def test_the_last_allowed_attempt_is_not_retried(attempt: int) -> None:
    decision = retry.decide(policy(attempts=3), attempt, app_failure(), NOW, 0)
    assert decision == retry.RetryDecision(None, RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED)


def test_maximum_attempts_zero_retries_forever() -> None:
    assert retry.decide(policy(attempts=0), 500, app_failure(), NOW, 0).delay == 100.0


def test_maximum_attempts_one_never_retries() -> None:
    decision = retry.decide(policy(attempts=1), 1, app_failure(), NOW, 0)
    assert decision.retry_state == RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED


def test_an_error_type_listed_non_retryable_is_not_retried() -> None:
    decision = retry.decide(policy(non_retryable=("Fatal",)), 1, app_failure("Fatal"), NOW, 0)
    assert decision == retry.RetryDecision(None, RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE)


def test_an_error_type_not_listed_is_retried() -> None:
    decision = retry.decide(policy(non_retryable=("Fatal",)), 1, app_failure("Other"), NOW, 0)
    assert decision.delay == 1.0


def test_an_application_failure_marked_non_retryable_is_not_retried() -> None:
    decision = retry.decide(policy(), 1, app_failure(non_retryable=True), NOW, 0)
    assert decision.retry_state == RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE


def test_non_retryable_wins_over_maximum_attempts() -> None:
    decision = retry.decide(policy(attempts=1), 1, app_failure(non_retryable=True), NOW, 0)
    assert decision.retry_state == RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE


@pytest.mark.parametrize(
    ("info", "retried"),
    [
        ("timeout_failure_info", True),
        ("canceled_failure_info", False),
        ("terminated_failure_info", False),
        ("activity_failure_info", True),
    ],
)
def test_failure_kinds_decide_whether_to_retry(info: str, retried: bool) -> None:
    failure = Failure(message="x")
    getattr(failure, info).SetInParent()
    assert (retry.decide(policy(), 1, failure, NOW, 0).delay is not None) is retried


@pytest.mark.parametrize(("non_retryable", "retried"), [(True, False), (False, True)])
def test_a_server_failure_retries_unless_marked(non_retryable: bool, retried: bool) -> None:
    failure = Failure(message="x")
    failure.server_failure_info.non_retryable = non_retryable
    assert (retry.decide(policy(), 1, failure, NOW, 0).delay is not None) is retried


def test_no_failure_at_all_is_retried() -> None:
    assert retry.decide(policy(), 1, None, NOW, 0).delay == 1.0


def test_a_retry_that_would_start_after_the_deadline_is_not_made() -> None:
    decision = retry.decide(policy(initial=10.0), 1, app_failure(), NOW, NOW + 5)
    assert decision == retry.RetryDecision(None, RetryState.RETRY_STATE_TIMEOUT)


def test_a_retry_before_the_deadline_is_made() -> None:
    assert retry.decide(policy(initial=4.0), 1, app_failure(), NOW, NOW + 5).delay == 4.0


def test_defaults_fill_an_empty_policy_as_temporal_does() -> None:
    assert retry.from_proto(RetryPolicyProto()) == RetryPolicy(1.0, 2.0, 100.0, 0, [])


def test_the_default_maximum_interval_is_a_hundred_initial_intervals() -> None:
    given = RetryPolicyProto(initial_interval=duration(3))
    assert retry.from_proto(given).maximum_interval == 300.0


def test_given_values_are_kept() -> None:
    given = RetryPolicyProto(
        initial_interval=duration(2),
        backoff_coefficient=3.0,
        maximum_interval=duration(7),
        maximum_attempts=4,
        non_retryable_error_types=["A", "B"],
    )
    assert retry.from_proto(given) == RetryPolicy(2.0, 3.0, 7.0, 4, ["A", "B"])


def test_a_policy_round_trips_through_its_proto() -> None:
    original = RetryPolicy(1.5, 1.25, 30.0, 9, ["X"])
    out = RetryPolicyProto()
    retry.to_proto(original, out)
    assert retry.from_proto(out) == original
