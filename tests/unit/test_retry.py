"""Temporal's retry rules, as pure functions."""

from __future__ import annotations

from temporalio.api.enums.v1 import RetryState
from temporalio.api.failure.v1 import ApplicationFailureInfo, Failure

from cadenza.history.machine import retry
from cadenza.history.machine.state import RetryPolicy


def app_failure(kind: str = "Boom", non_retryable: bool = False) -> Failure:
    return Failure(
        message="x", application_failure_info=ApplicationFailureInfo(type=kind, non_retryable=non_retryable)
    )


def test_backoff_grows_by_coefficient_and_caps_at_maximum() -> None:
    policy = RetryPolicy(initial_interval=1.0, backoff_coefficient=2.0, maximum_interval=5.0)
    assert [retry.next_delay(policy, attempt) for attempt in range(1, 6)] == [1, 2, 4, 5, 5]


def test_maximum_attempts_stops_retrying() -> None:
    policy = RetryPolicy(maximum_attempts=3)
    assert retry.decide(policy, 2, app_failure(), 0, 0).delay == 1.0 * 2
    final = retry.decide(policy, 3, app_failure(), 0, 0)
    assert final.delay is None
    assert final.retry_state == RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED


def test_non_retryable_flag_and_listed_types_stop_retrying() -> None:
    policy = RetryPolicy(non_retryable_error_types=["Fatal"])
    flagged = retry.decide(policy, 1, app_failure(non_retryable=True), 0, 0)
    listed = retry.decide(policy, 1, app_failure("Fatal"), 0, 0)
    other = retry.decide(policy, 1, app_failure("Other"), 0, 0)
    assert flagged.retry_state == listed.retry_state == RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE
    assert other.retry_state == RetryState.RETRY_STATE_IN_PROGRESS


def test_no_attempt_past_the_schedule_to_close_deadline() -> None:
    decision = retry.decide(RetryPolicy(initial_interval=10.0), 1, app_failure(), now=100, deadline=105)
    assert decision.delay is None
    assert decision.retry_state == RetryState.RETRY_STATE_TIMEOUT
