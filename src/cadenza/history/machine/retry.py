"""Temporal's retry rules for activities: whether another attempt runs, and when."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.api.common.v1 import RetryPolicy as RetryPolicyProto
from temporalio.api.enums.v1 import RetryState
from temporalio.api.failure.v1 import Failure

from cadenza.history.machine import events as ev
from cadenza.history.machine.state import RetryPolicy


@dataclass(frozen=True)
class RetryDecision:
    """Either a delay before the next attempt, or the reason there is none."""

    delay: float | None
    retry_state: int


def next_delay(policy: RetryPolicy, attempt: int) -> float:
    """Backoff before attempt ``attempt + 1``: exponential, capped at the maximum interval."""
    delay = policy.initial_interval * policy.backoff_coefficient ** (attempt - 1)
    if policy.maximum_interval > 0:
        delay = min(delay, policy.maximum_interval)
    return delay


def decide(
    policy: RetryPolicy,
    attempt: int,
    failure: Failure | None,
    now: float,
    deadline: float,
) -> RetryDecision:
    """Apply the policy to a failed attempt.

    ``deadline`` is the schedule-to-close expiry (0 for none): an attempt that
    could not start before it is not made.
    """
    if failure is not None and _non_retryable(policy, failure):
        return RetryDecision(None, RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE)
    if policy.maximum_attempts > 0 and attempt >= policy.maximum_attempts:
        return RetryDecision(None, RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED)
    delay = next_delay(policy, attempt)
    if deadline > 0 and now + delay >= deadline:
        return RetryDecision(None, RetryState.RETRY_STATE_TIMEOUT)
    return RetryDecision(delay, RetryState.RETRY_STATE_IN_PROGRESS)


def _non_retryable(policy: RetryPolicy, failure: Failure) -> bool:
    if failure.HasField("application_failure_info"):
        info = failure.application_failure_info
        return info.non_retryable or info.type in policy.non_retryable_error_types
    if failure.HasField("server_failure_info"):
        return failure.server_failure_info.non_retryable
    if failure.HasField("timeout_failure_info"):
        return False
    return failure.HasField("canceled_failure_info") or failure.HasField("terminated_failure_info")


def from_proto(given: RetryPolicyProto) -> RetryPolicy:
    """A retry policy with the server's defaults filled in where the caller left zeros."""
    initial = ev.seconds(given.initial_interval) or 1.0
    return RetryPolicy(
        initial_interval=initial,
        backoff_coefficient=given.backoff_coefficient or 2.0,
        maximum_interval=ev.seconds(given.maximum_interval) or 100 * initial,
        maximum_attempts=given.maximum_attempts,
        non_retryable_error_types=list(given.non_retryable_error_types),
    )


def to_proto(policy: RetryPolicy, out: RetryPolicyProto) -> None:
    out.initial_interval.CopyFrom(ev.duration(policy.initial_interval))
    out.backoff_coefficient = policy.backoff_coefficient
    out.maximum_interval.CopyFrom(ev.duration(policy.maximum_interval))
    out.maximum_attempts = policy.maximum_attempts
    out.non_retryable_error_types.extend(policy.non_retryable_error_types)
