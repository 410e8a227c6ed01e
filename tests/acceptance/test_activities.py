"""Workflows with activities, run by the official SDK's worker against a live Cadenza."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from tests.acceptance import workflows as w
from tests.helpers import Registered, worker_for

REGISTERED = Registered(w.ALL_WORKFLOWS, w.ALL_ACTIVITIES)


async def test_one_activity(client: Client, task_queue: str, workflow_id: str) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        result = await client.execute_workflow(
            w.OneActivity.run, "Cadenza", id=workflow_id, task_queue=task_queue
        )
    assert result == "Hello, Cadenza!"


async def test_ten_sequential_activities(client: Client, task_queue: str, workflow_id: str) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        result = await client.execute_workflow(
            w.SequentialActivities.run, 10, id=workflow_id, task_queue=task_queue
        )
    assert result == [f"step-{i}" for i in range(10)]
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    scheduled = [e for e in history.events if e.HasField("activity_task_scheduled_event_attributes")]
    assert len(scheduled) == 10


async def test_hundred_concurrent_activities(client: Client, task_queue: str, workflow_id: str) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        result = await client.execute_workflow(
            w.ConcurrentActivities.run, 100, id=workflow_id, task_queue=task_queue
        )
    assert result == [f"item-{i}" for i in range(100)]


async def test_many_workflows_at_once(client: Client, task_queue: str) -> None:
    import asyncio

    async with worker_for(client, task_queue, REGISTERED):
        results = await asyncio.gather(
            *(
                client.execute_workflow(
                    w.OneActivity.run, f"n{i}", id=f"many-{uuid.uuid4()}", task_queue=task_queue
                )
                for i in range(40)
            )
        )
    assert results == [f"Hello, n{i}!" for i in range(40)]


async def test_activity_retried_by_server_then_succeeds(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        result = await client.execute_workflow(w.Retrying.run, "flaky", id=workflow_id, task_queue=task_queue)
    assert result == "flaky succeeded on attempt 3"
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    started = [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert [s.attempt for s in started] == [3]
    assert started[0].last_failure.message == "flaky failed on attempt 2"


async def test_non_retryable_failure_fails_workflow(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        with pytest.raises(WorkflowFailureError) as raised:
            await client.execute_workflow(w.NonRetryable.run, "doomed", id=workflow_id, task_queue=task_queue)
    activity_error = raised.value.cause
    assert isinstance(activity_error, ActivityError)
    assert activity_error.retry_state == RetryState.NON_RETRYABLE_FAILURE
    app_error = activity_error.cause
    assert isinstance(app_error, ApplicationError)
    assert app_error.message == "doomed cannot work"
    assert app_error.type == "Unrecoverable"
    assert app_error.non_retryable
    assert list(app_error.details) == ["details!"]


async def test_maximum_attempts_reached(client: Client, task_queue: str, workflow_id: str) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        with pytest.raises(WorkflowFailureError) as raised:
            await client.execute_workflow(
                w.LimitedAttempts.run, "twice", id=workflow_id, task_queue=task_queue
            )
    activity_error = raised.value.cause
    assert isinstance(activity_error, ActivityError)
    assert activity_error.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED
    assert isinstance(activity_error.cause, ApplicationError)
    assert activity_error.cause.message == "twice attempt 2"


async def test_workflow_failure_reaches_client(client: Client, task_queue: str, workflow_id: str) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        with pytest.raises(WorkflowFailureError) as raised:
            await client.execute_workflow(
                w.Failing.run,
                "wf",
                id=workflow_id,
                task_queue=task_queue,
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
    cause = raised.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "WorkflowSaysNo"
    assert cause.message == "wf: the workflow says no"


async def test_one_megabyte_payload_round_trip(client: Client, task_queue: str, workflow_id: str) -> None:
    payload = "x" * (1024 * 1024)
    async with worker_for(client, task_queue, REGISTERED):
        result = await client.execute_workflow(w.Echo.run, payload, id=workflow_id, task_queue=task_queue)
    assert result == payload
