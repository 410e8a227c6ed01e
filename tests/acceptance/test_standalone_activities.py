"""Standalone activities through the official SDK: started by a client, run by an ordinary
activity worker, retried, timed out, cancelled and terminated, listed and counted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import ActivityExecutionStatus, ActivityFailureError, ActivityHandle, Client
from temporalio.common import ActivityIDConflictPolicy, ActivityIDReusePolicy, RetryPolicy
from temporalio.exceptions import (
    ActivityAlreadyStartedError,
    ApplicationError,
    CancelledError,
    TerminatedError,
    TimeoutError,
    TimeoutType,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import activities_standalone as a
from tests.helpers import eventually

ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)
FAST_RETRIES = RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=5)


@pytest.fixture
async def worker(client: Client, task_queue: str) -> AsyncIterator[Worker]:
    async with Worker(client, task_queue=task_queue, activities=a.ALL) as running:
        yield running


def new_id() -> str:
    return f"act-{uuid.uuid4().hex[:12]}"


async def test_an_activity_started_by_a_client_returns_its_result(
    client: Client, task_queue: str, worker: Worker
) -> None:
    activity_id = new_id()
    result = await client.execute_activity(
        a.add_one, 41, id=activity_id, task_queue=task_queue, start_to_close_timeout=timedelta(seconds=10)
    )
    assert result == 42
    described = await client.get_activity_handle(activity_id).describe()
    assert described.status == ActivityExecutionStatus.COMPLETED
    assert described.attempt == 1


async def test_a_failed_attempt_is_retried_with_its_heartbeat_details(
    client: Client, task_queue: str, worker: Worker
) -> None:
    handle = await client.start_activity(
        a.fails_twice,
        "progress",
        id=new_id(),
        task_queue=task_queue,
        start_to_close_timeout=timedelta(seconds=10),
        retry_policy=FAST_RETRIES,
    )
    assert await handle.result() == "progress from attempt 2, done on attempt 3"
    assert (await handle.describe()).attempt == 3


async def test_a_non_retryable_failure_fails_the_activity(
    client: Client, task_queue: str, worker: Worker
) -> None:
    handle = await client.start_activity(
        a.refuses, "thanks", id=new_id(), task_queue=task_queue, start_to_close_timeout=timedelta(seconds=10)
    )
    with pytest.raises(ActivityFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, ApplicationError)
    assert failed.value.cause.type == "Refused"
    assert (await handle.describe()).status == ActivityExecutionStatus.FAILED


async def test_an_attempt_past_its_start_to_close_timeout_times_out(
    client: Client, task_queue: str, worker: Worker
) -> None:
    handle = await client.start_activity(
        a.sleeps,
        30.0,
        id=new_id(),
        task_queue=task_queue,
        start_to_close_timeout=timedelta(seconds=1),
        retry_policy=ONE_ATTEMPT,
    )
    with pytest.raises(ActivityFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, TimeoutError)
    assert failed.value.cause.type == TimeoutType.START_TO_CLOSE
    assert (await handle.describe()).status == ActivityExecutionStatus.TIMED_OUT


async def test_an_activity_no_worker_takes_times_out_schedule_to_start(client: Client) -> None:
    handle = await client.start_activity(
        a.add_one,
        1,
        id=new_id(),
        task_queue=f"nobody-{uuid.uuid4().hex[:8]}",
        schedule_to_close_timeout=timedelta(seconds=1),
    )
    with pytest.raises(ActivityFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, TimeoutError)
    # Schedule-to-start defaults to schedule-to-close; the real server names it, as here.
    assert failed.value.cause.type == TimeoutType.SCHEDULE_TO_START


async def test_a_cancelled_activity_learns_it_from_its_heartbeat(
    client: Client, task_queue: str, worker: Worker
) -> None:
    handle = await client.start_activity(
        a.heartbeats_until_cancelled,
        id=new_id(),
        task_queue=task_queue,
        start_to_close_timeout=timedelta(seconds=30),
        heartbeat_timeout=timedelta(seconds=5),
    )

    async def running() -> None:
        assert (await handle.describe()).last_started_time is not None

    await eventually(running)
    await handle.cancel(reason="enough")
    with pytest.raises(ActivityFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, CancelledError)
    assert (await handle.describe()).status == ActivityExecutionStatus.CANCELED


async def test_a_terminated_activity_fails_with_the_reason(
    client: Client, task_queue: str, worker: Worker
) -> None:
    handle = await client.start_activity(
        a.sleeps, 30.0, id=new_id(), task_queue=task_queue, start_to_close_timeout=timedelta(seconds=60)
    )
    await handle.terminate(reason="not needed")
    with pytest.raises(ActivityFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, TerminatedError)
    assert str(failed.value.cause) == "not needed"
    assert (await handle.describe()).status == ActivityExecutionStatus.TERMINATED


async def test_an_activity_id_is_held_as_its_policies_say(client: Client, task_queue: str) -> None:
    activity_id = new_id()

    async def start(
        reuse: ActivityIDReusePolicy = ActivityIDReusePolicy.ALLOW_DUPLICATE,
        conflict: ActivityIDConflictPolicy = ActivityIDConflictPolicy.FAIL,
    ) -> ActivityHandle[int]:
        return await client.start_activity(
            a.add_one,
            1,
            id=activity_id,
            task_queue=task_queue,
            schedule_to_close_timeout=timedelta(seconds=60),
            id_reuse_policy=reuse,
            id_conflict_policy=conflict,
        )

    first = await start()
    with pytest.raises(ActivityAlreadyStartedError):
        await start()
    assert (await start(conflict=ActivityIDConflictPolicy.USE_EXISTING)).run_id == first.run_id
    await first.terminate(reason="done")
    with pytest.raises(ActivityAlreadyStartedError):
        await start(reuse=ActivityIDReusePolicy.REJECT_DUPLICATE)
    second = await start(reuse=ActivityIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY)
    assert second.run_id != first.run_id
    await second.terminate(reason="done")


async def test_activities_are_listed_and_counted_by_filter(
    client: Client, task_queue: str, worker: Worker
) -> None:
    ids = [new_id() for _ in range(3)]
    for activity_id in ids:
        await client.execute_activity(
            a.add_one, 1, id=activity_id, task_queue=task_queue, start_to_close_timeout=timedelta(seconds=10)
        )
    listed = [each async for each in client.list_activities(f"TaskQueue = '{task_queue}'")]
    assert sorted(each.activity_id for each in listed) == sorted(ids)
    assert {each.status for each in listed} == {ActivityExecutionStatus.COMPLETED}
    paged = [each async for each in client.list_activities(f"TaskQueue = '{task_queue}'", page_size=2)]
    assert [each.activity_run_id for each in paged] == [each.activity_run_id for each in listed]
    counted = await client.count_activities(f"TaskQueue = '{task_queue}' GROUP BY ExecutionStatus")
    assert counted.count == 3
    assert [(g.count, g.group_values) for g in counted.groups] == [(3, ["Completed"])]
    assert (await client.count_activities(f"ActivityId = '{ids[0]}'")).count == 1


async def test_an_attempt_that_stops_heartbeating_times_out(
    client: Client, task_queue: str, worker: Worker
) -> None:
    handle = await client.start_activity(
        a.sleeps,
        30.0,
        id=new_id(),
        task_queue=task_queue,
        start_to_close_timeout=timedelta(seconds=30),
        heartbeat_timeout=timedelta(seconds=1),
        retry_policy=ONE_ATTEMPT,
    )
    with pytest.raises(ActivityFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, TimeoutError)
    assert failed.value.cause.type == TimeoutType.HEARTBEAT


async def test_a_describe_with_a_long_poll_token_answers_once_the_activity_changed(
    client: Client, task_queue: str
) -> None:
    activity_id = new_id()
    await client.start_activity(
        a.add_one, 1, id=activity_id, task_queue=task_queue, start_to_close_timeout=timedelta(seconds=10)
    )
    request = wsv1.DescribeActivityExecutionRequest(namespace="default", activity_id=activity_id)
    first = await client.workflow_service.describe_activity_execution(request)
    request.long_poll_token = first.long_poll_token
    waiting = asyncio.create_task(client.workflow_service.describe_activity_execution(request))
    async with Worker(client, task_queue=task_queue, activities=a.ALL):
        changed = await waiting
    assert changed.info.state_transition_count > first.info.state_transition_count
    assert changed.long_poll_token != first.long_poll_token


async def test_retention_deletes_closed_standalone_activities() -> None:
    async with servers.in_process(retention_sweep_seconds=0.3) as server:
        admin = await Client.connect(server.address)
        await admin.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace="brief", workflow_execution_retention_period=Duration(seconds=1)
            )
        )
        client = await Client.connect(server.address, namespace="brief")
        to_close = timedelta(seconds=60)
        closed = await client.start_activity(
            a.add_one, 1, id="old", task_queue="nobody", schedule_to_close_timeout=to_close
        )
        await closed.terminate(reason="done")
        running = await client.start_activity(
            a.add_one, 1, id="alive", task_queue="nobody", schedule_to_close_timeout=to_close
        )

        async def deleted() -> None:
            try:
                await closed.describe()
            except RPCError as err:
                assert err.status == RPCStatusCode.NOT_FOUND
            else:
                raise AssertionError("the closed activity outlived its retention")

        await eventually(deleted, timeout=10, interval=0.2)
        assert (await running.describe()).status == ActivityExecutionStatus.RUNNING


async def test_a_finished_activity_leaves_no_timer_behind(in_process_server: servers.InProcessServer) -> None:
    client = await Client.connect(in_process_server.address)
    async with Worker(client, task_queue="tidy", activities=a.ALL):
        result = await client.execute_activity(
            a.add_one,
            1,
            id="tidy",
            task_queue="tidy",
            schedule_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(minutes=10),
        )
    assert result == 2
    timers = await in_process_server.server._store.list_timers()
    assert [t for t in timers if t.workflow_id == "tidy"] == []
