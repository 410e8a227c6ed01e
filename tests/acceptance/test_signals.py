"""Signals and SignalWithStart through the official SDK."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.workflowservice.v1 import (
    DeleteWorkflowExecutionRequest,
    ResetWorkflowExecutionRequest,
)
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import workflows_messages as wm
from tests.servers import ServerProcess


async def test_signals_reach_the_workflow_in_order(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    for message in ("a", "b", "c"):
        await handle.signal(wm.Mailbox.deliver, message)
    await handle.signal(wm.Mailbox.finish)
    assert await handle.result() == ["a", "b", "c"]
    history = await handle.fetch_history()
    signaled = [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert signaled == ["deliver", "deliver", "deliver", "finish"]


async def test_signal_with_start_starts_then_signals(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    first = await client.start_workflow(
        wm.Mailbox.run,
        id=workflow_id,
        task_queue=task_queue,
        start_signal="deliver",
        start_signal_args=["one"],
    )
    second = await client.start_workflow(
        wm.Mailbox.run,
        id=workflow_id,
        task_queue=task_queue,
        start_signal="deliver",
        start_signal_args=["two"],
    )
    assert first.result_run_id == second.result_run_id
    await first.signal(wm.Mailbox.finish)
    assert await first.result() == ["one", "two"]
    history = await first.fetch_history()
    assert [e.event_type for e in history.events[:3]] == [
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]


async def test_signal_to_a_closed_workflow_is_not_found(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    await handle.signal(wm.Mailbox.finish)
    await handle.result()
    with pytest.raises(RPCError) as raised:
        await handle.signal(wm.Mailbox.deliver, "late")
    assert raised.value.status == RPCStatusCode.NOT_FOUND
    assert raised.value.message == "workflow execution already completed"


async def test_a_signal_by_workflow_id_reaches_the_run_that_is_current_now(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    by_id = client.get_workflow_handle(workflow_id)
    first = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    await by_id.signal(wm.Mailbox.deliver, "to the first run")
    await first.terminate(reason="replaced")
    second = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    await by_id.signal(wm.Mailbox.deliver, "to the second run")
    await by_id.signal(wm.Mailbox.finish)
    assert await second.result() == ["to the second run"]
    assert (await by_id.describe()).run_id == second.result_run_id

    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace="default", workflow_execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    with pytest.raises(RPCError) as raised:
        await by_id.signal(wm.Mailbox.deliver, "to nobody")
    assert raised.value.status == RPCStatusCode.NOT_FOUND


async def test_a_closed_run_read_last_does_not_hide_the_current_one(tmp_path: Path) -> None:
    """After a restart, reading an old run by its ID caches it; a signal by workflow ID still
    goes to the run that is current, which is not cached at all."""
    async with servers.running(tmp_path / "runs.db", tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        first = await client.start_workflow(wm.Mailbox.run, id="runs", task_queue="runs")
        await first.terminate(reason="replaced")
        second = await client.start_workflow(wm.Mailbox.run, id="runs", task_queue="runs")
        server.stop()
        server.start()
        await server.wait_ready()
        client = await Client.connect(server.address)
        old = client.get_workflow_handle("runs", run_id=first.result_run_id)
        assert (await old.describe()).status == WorkflowExecutionStatus.TERMINATED
        await client.get_workflow_handle("runs").signal(wm.Mailbox.deliver, "to the current run")
        async with Worker(client, task_queue="runs", workflows=wm.WORKFLOWS):
            current = client.get_workflow_handle("runs", run_id=second.result_run_id)
            await current.signal(wm.Mailbox.finish)
            assert await current.result() == ["to the current run"]


async def test_continue_as_new_chains_runs_and_result_follows(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wm.Countdown.run, 2, id=workflow_id, task_queue=task_queue)
    assert await handle.result() == "done after run True"
    first = await client.get_workflow_handle(
        workflow_id, run_id=handle.first_execution_run_id
    ).fetch_history()
    last = first.events[-1]
    assert last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    following = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    second = await client.get_workflow_handle(workflow_id, run_id=following).fetch_history()
    started = second.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id == handle.first_execution_run_id
    assert started.first_execution_run_id == handle.first_execution_run_id


async def test_delete_removes_the_workflow(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace="default", workflow_execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    with pytest.raises(RPCError) as raised:
        await handle.describe()
    assert raised.value.status == RPCStatusCode.NOT_FOUND
    again = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    await again.terminate(reason="test over")


async def test_describe_shows_memo_and_upserted_search_attributes(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(
        wm.Mailbox.run,
        id=workflow_id,
        task_queue=task_queue,
        memo={"owner": "ada"},
        static_summary="a mailbox",
        static_details="holds messages",
    )
    description = await handle.describe()
    assert await description.memo_value("owner") == "ada"
    assert await description.static_summary() == "a mailbox"
    assert await description.static_details() == "holds messages"
    await handle.terminate(reason="test over")


async def test_reset_replays_to_a_workflow_task_and_reapplies_signals(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    await handle.signal(wm.Mailbox.deliver, "kept")
    assert await handle.query(wm.Mailbox.count) == 1
    history = await handle.fetch_history()
    first_completed = next(
        e.event_id for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    )
    reset = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace="default",
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
            reason="try again",
            workflow_task_finish_event_id=first_completed,
            request_id=str(uuid.uuid4()),
        )
    )
    assert reset.run_id != handle.result_run_id
    new_run = client.get_workflow_handle(workflow_id, run_id=reset.run_id)
    await new_run.signal(wm.Mailbox.finish)
    assert await new_run.result() == ["kept"]
    new_history = await new_run.fetch_history()
    failed = new_history.events[first_completed - 1]
    assert failed.workflow_task_failed_event_attributes.cause == (
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
    )
    old = await client.get_workflow_handle(workflow_id, run_id=handle.result_run_id).describe()
    assert old.status == WorkflowExecutionStatus.TERMINATED


async def test_signal_payload_limits(cadenza_server: ServerProcess, client: Client, workflow_id: str) -> None:
    """Over 256 KB a payload is taken with a warning in the log; over 2 MB it is refused."""
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue="no-worker")
    await handle.signal(wm.Mailbox.deliver, "x" * (300 * 1024))
    assert "exceeds the warning limit of 262144 bytes" in cadenza_server.log_text()
    with pytest.raises(RPCError) as raised:
        await handle.signal(wm.Mailbox.deliver, "x" * (2 * 1024 * 1024 + 1))
    assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert raised.value.message == "Blob data size exceeds limit."
    signals = [
        e
        for e in (await handle.fetch_history()).events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert len(signals) == 1
    await handle.terminate(reason="test over")


async def test_signal_before_the_first_task_starts_sits_between_its_events(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    """The signal lands between WorkflowTaskScheduled and Started, and the task's events
    name the Started event by its real ID, as on Temporal."""
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    await handle.signal(wm.Mailbox.deliver, "early")
    async with Worker(client, task_queue=task_queue, workflows=wm.WORKFLOWS):
        assert await handle.query(wm.Mailbox.count) == 1
        events = (await handle.fetch_history()).events
    assert [e.event_type for e in events[:5]] == [
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    ]
    completed = events[4].workflow_task_completed_event_attributes
    assert (completed.scheduled_event_id, completed.started_event_id) == (2, 4)
    await handle.terminate(reason="test over")
