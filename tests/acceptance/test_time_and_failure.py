"""Timers, timeouts, heartbeats, cancellation and termination through the official SDK."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType, RetryState
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.exceptions import TerminatedError, TimeoutError, TimeoutType
from temporalio.worker import Worker

from cadenza.persistence.backends import open_store
from cadenza.persistence.records import ExecutionKey
from tests import servers
from tests.acceptance import workflows_time as wt
from tests.helpers import Registered, eventually


@pytest.fixture
def registered() -> Registered:
    return Registered(wt.WORKFLOWS, wt.ACTIVITIES)


async def event_types(client: Client, workflow_id: str) -> list[int]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [e.event_type for e in history.events]


async def test_timer_fires(client: Client, worker: Worker, task_queue: str, workflow_id: str) -> None:
    result = await client.execute_workflow(wt.Sleeper.run, 0.5, id=workflow_id, task_queue=task_queue)
    assert result == "slept 0.5"
    types = await event_types(client, workflow_id)
    assert EventType.EVENT_TYPE_TIMER_STARTED in types
    assert EventType.EVENT_TYPE_TIMER_FIRED in types


async def test_timer_cancelled_by_the_workflow(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    result = await client.execute_workflow(wt.CancelTimerEarly.run, id=workflow_id, task_queue=task_queue)
    assert result == "gave up on the long timer"
    assert EventType.EVENT_TYPE_TIMER_CANCELED in await event_types(client, workflow_id)


async def test_activity_cancelled_by_the_workflow(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    result = await client.execute_workflow(wt.CancelsItsActivity.run, id=workflow_id, task_queue=task_queue)
    assert result == "cancelled"
    types = await event_types(client, workflow_id)
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED in types
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED in types


async def test_heartbeat_timeout_retries_with_last_details(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    result = await client.execute_workflow(wt.ResumesFromHeartbeat.run, id=workflow_id, task_queue=task_queue)
    assert result == "attempt 2 resumed from ['progress-1']"


async def test_activity_completed_by_id_from_outside(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wt.CompletedFromOutside.run, id=workflow_id, task_queue=task_queue)
    outside = client.get_async_activity_handle(workflow_id=workflow_id, run_id=None, activity_id="outside")

    async def heartbeat() -> bool:
        try:
            await outside.heartbeat("still here")
            return True
        except Exception:  # not started yet
            return False

    await eventually(heartbeat, timeout=5, interval=0.05)
    await outside.complete("done from outside")
    assert await handle.result() == "done from outside"


async def test_schedule_to_close_timeout(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    result = await client.execute_workflow(
        wt.ScheduleToCloseTimeout.run, id=workflow_id, task_queue=task_queue
    )
    assert result == (
        "TimeoutError: Not enough time to schedule next retry before activity "
        "ScheduleToClose timeout, giving up retrying"
    )


async def test_terminate_records_reason_and_identity(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wt.CancellableSleeper.run, id=workflow_id, task_queue=task_queue)
    await handle.terminate("detail", reason="enough")
    with pytest.raises(WorkflowFailureError) as raised:
        await handle.result()
    assert isinstance(raised.value.cause, TerminatedError)
    history = await handle.fetch_history()
    last = history.events[-1].workflow_execution_terminated_event_attributes
    assert last.reason == "enough"
    assert last.identity == client.identity
    assert (await handle.describe()).status is not None


async def test_cancel_request_reaches_the_workflow(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wt.CancellableSleeper.run, id=workflow_id, task_queue=task_queue)
    await asyncio.sleep(0.3)
    await handle.cancel()
    assert await handle.result() == "cleaned up after cancel"
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED in await event_types(client, workflow_id)


async def test_run_timeout(client: Client, worker: Worker, task_queue: str, workflow_id: str) -> None:
    with pytest.raises(WorkflowFailureError) as raised:
        await client.execute_workflow(
            wt.CancellableSleeper.run, id=workflow_id, task_queue=task_queue, run_timeout=timedelta(seconds=1)
        )
    assert isinstance(raised.value.cause, TimeoutError)
    assert raised.value.cause.type == TimeoutType.START_TO_CLOSE


async def test_timer_due_while_server_was_down_fires_at_start(tmp_path: Path) -> None:
    async with servers.running(tmp_path / "t.db", tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        async with Worker(client, task_queue="restart", workflows=wt.WORKFLOWS, activities=wt.ACTIVITIES):
            handle = await client.start_workflow(wt.Sleeper.run, 2.0, id="sleeper", task_queue="restart")
            await asyncio.sleep(0.5)
            server.kill()
            await asyncio.sleep(2.5)  # the timer comes due while nothing runs
            server.start()
            await server.wait_ready()
            assert await asyncio.wait_for(handle.result(), 30) == "slept 2.0"


async def test_timeouts_of_a_finished_activity_change_nothing_when_due(tmp_path: Path) -> None:
    """Its timeout timers were removed with the completion: when their time comes, the
    execution is left as it is (no new version another replica would have to reload)."""
    async with servers.in_process(tmp_path / "timeouts.db") as server:
        client = await Client.connect(server.address)
        store = open_store(server.db, exclusive=False)  # reads the file the server holds
        try:
            async with Worker(
                client, task_queue="timeouts", workflows=wt.WORKFLOWS, activities=wt.ACTIVITIES
            ):
                handle = await client.start_workflow(
                    wt.QuickActivityThenWait.run, id="quick", task_queue="timeouts"
                )
                await wait_for_event(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
                await wait_until_idle(handle)
                await store.open()
                key = ExecutionKey(
                    (await store.get_namespace("default")).id,  # type: ignore[union-attr]
                    "quick",
                    handle.result_run_id or "",
                )
                before = await store.load_execution(key)
                await asyncio.sleep(1.5)  # both activity timeouts come due
                after = await store.load_execution(key)
                assert before is not None and after is not None
                assert after.version == before.version
                await handle.signal(wt.QuickActivityThenWait.finish)
                assert await handle.result() == "woke"
        finally:
            await store.close()


async def wait_for_event(handle: WorkflowHandle[Any, Any], event_type: int) -> None:

    async def has_event() -> None:
        types = [e.event_type async for e in handle.fetch_history_events()]
        assert event_type in types, f"no event of type {event_type}"

    await eventually(has_event, timeout=10, interval=0.05)


async def wait_until_idle(handle: WorkflowHandle[Any, Any]) -> None:
    """Until the workflow task that follows the activity is done: nothing pending remains."""

    async def idle() -> None:
        raw = (await handle.describe()).raw_description
        assert not raw.pending_activities and not raw.HasField("pending_workflow_task"), (
            "the workflow never went idle"
        )

    await eventually(idle, timeout=10, interval=0.05)


async def test_workflow_retry_policy_starts_new_runs(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(
        wt.FailsUntilThirdAttempt.run,
        id=workflow_id,
        task_queue=task_queue,
        retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
    )
    assert await handle.result() == "succeeded on run attempt 3"
    first = await client.get_workflow_handle(
        workflow_id, run_id=handle.first_execution_run_id
    ).fetch_history()
    failed = first.events[-1].workflow_execution_failed_event_attributes
    assert failed.retry_state == RetryState.RETRY_STATE_IN_PROGRESS
    assert failed.new_execution_run_id


async def test_start_delay_holds_the_first_workflow_task(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(
        wt.Sleeper.run, 0.0, id=workflow_id, task_queue=task_queue, start_delay=timedelta(seconds=1)
    )
    assert await event_types(client, workflow_id) == [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED]
    assert await handle.result() == "slept 0.0"
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.first_workflow_task_backoff.ToTimedelta() == timedelta(seconds=1)
    assert history.events[1].event_time.ToDatetime() - history.events[0].event_time.ToDatetime() >= (
        timedelta(seconds=1)
    )


async def test_cron_workflow_waits_for_its_schedule_and_chains_runs(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(
        wt.CronRun.run, id=workflow_id, task_queue=task_queue, cron_schedule="* * * * *"
    )
    history = await handle.fetch_history()
    backoff = history.events[0].workflow_execution_started_event_attributes.first_workflow_task_backoff
    assert timedelta(0) < backoff.ToTimedelta() <= timedelta(seconds=60)
    assert len(history.events) == 1
    await handle.terminate(reason="test over")


async def test_local_activity_and_patch_are_markers(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    result = await client.execute_workflow(
        wt.UsesLocalActivityAndPatch.run, id=workflow_id, task_queue=task_queue
    )
    assert result == "woke, patched=True"
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    assert sorted(markers) == ["core_local_activity", "core_patch"]
    assert any(
        e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES for e in history.events
    )  # TemporalChangeVersion, as Temporal records patches


async def test_schedule_to_start_timeout(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    result = await client.execute_workflow(
        wt.NobodyPicksUpItsActivity.run, id=workflow_id, task_queue=task_queue
    )
    assert result == "TimeoutError: activity ScheduleToStart timeout"
