"""Workflow updates: accepted, rejected by the validator, failed, deduplicated, with start."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, UpdateWorkflowExecutionLifecycleStage
from temporalio.api.update.v1 import UpdateRef
from temporalio.api.workflowservice.v1 import PollWorkflowExecutionUpdateRequest
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests.acceptance import raw_calls as raw
from tests.acceptance import workflows_messages as wm


async def test_update_is_accepted_and_completed(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    assert await handle.execute_update(wm.Mailbox.deliver_and_count, "one", id="u1") == 1
    assert await handle.execute_update(wm.Mailbox.deliver_and_count, "one", id="u1") == 1  # deduplicated
    started = await handle.start_update(
        wm.Mailbox.deliver_and_count, "two", wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    assert await started.result() == 2
    history = await handle.fetch_history()
    accepted = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    completed = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
    ]
    assert len(accepted) == len(completed) == 2
    assert completed[0].workflow_execution_update_completed_event_attributes.accepted_event_id == (
        accepted[0].event_id
    )
    await handle.signal(wm.Mailbox.finish)
    assert await handle.result() == ["one", "two"]


async def test_update_rejected_by_validator(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    await _first_task_completed(handle)
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await handle.execute_update(wm.Mailbox.deliver_and_count, "")
    assert "empty message" in str(raised.value.cause)
    # The workflow task that only carried the rejected update leaves nothing behind,
    # as Temporal's speculative task does; the workflow then goes on as usual.
    history = await handle.fetch_history()
    assert [e.event_type for e in history.events] == [
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    ]
    assert await handle.execute_update(wm.Mailbox.deliver_and_count, "after") == 1
    await handle.signal(wm.Mailbox.finish)
    assert await handle.result() == ["after"]


async def _first_task_completed(handle: WorkflowHandle[Any, Any]) -> None:
    async for event in handle.fetch_history_events(wait_new_event=True):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            return


async def test_update_with_start(client: Client, worker: Worker, task_queue: str) -> None:
    workflow_id = f"uws-{uuid.uuid4()}"
    for expected in (1, 2):
        start = WithStartWorkflowOperation(
            wm.Mailbox.run,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        result = await client.execute_update_with_start_workflow(
            wm.Mailbox.deliver_and_count, "hi", start_workflow_operation=start
        )
        assert result == expected
    await client.get_workflow_handle(workflow_id).terminate(reason="test over")


async def test_update_with_start_attaches_to_a_known_update_whatever_the_policies(
    client: Client, worker: Worker, task_queue: str
) -> None:
    """The update ID names a completed update of the closed workflow: the call attaches to it
    instead of failing on the FAIL conflict policy or starting a new run."""
    workflow_id = f"uws-{uuid.uuid4()}"

    def start() -> WithStartWorkflowOperation[wm.Mailbox, list[str]]:
        return WithStartWorkflowOperation(
            wm.Mailbox.run,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )

    first = start()
    assert (
        await client.execute_update_with_start_workflow(
            wm.Mailbox.deliver_and_count, "hi", id="u1", start_workflow_operation=first
        )
        == 1
    )
    handle = await first.workflow_handle()
    await handle.signal(wm.Mailbox.finish)
    assert await handle.result() == ["hi"]

    again = start()
    assert (
        await client.execute_update_with_start_workflow(
            wm.Mailbox.deliver_and_count, "hi", id="u1", start_workflow_operation=again
        )
        == 1
    )
    assert (await again.workflow_handle()).first_execution_run_id == handle.first_execution_run_id


async def test_update_with_start_conflict_names_each_operation(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    """A start that fails aborts the update; the error says so per operation, as Temporal does."""
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    start = WithStartWorkflowOperation(
        wm.Mailbox.run,
        id=workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    with pytest.raises(WorkflowAlreadyStartedError) as raised:
        await client.execute_update_with_start_workflow(
            wm.Mailbox.deliver_and_count, "hi", start_workflow_operation=start
        )
    assert raised.value.run_id == handle.result_run_id
    with pytest.raises(WorkflowAlreadyStartedError):
        await start.workflow_handle()
    await handle.terminate(reason="test over")


async def test_update_accepted_but_unfinished_fails_when_the_workflow_completes(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    waiting = await handle.start_update(
        wm.Mailbox.wait_for_finish, wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    await handle.signal(wm.Mailbox.finish)
    assert await handle.result() == []
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        _ = await waiting.result()  # the SDK types an async handler's result as its coroutine
    assert isinstance(raised.value.cause, ApplicationError)
    assert raised.value.cause.type == "AcceptedUpdateCompletedWorkflow"


async def test_update_through_an_old_chain_handle_is_not_found(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    """A handle bound to the first run's chain must not reach a later, unrelated run."""
    first = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    await first.signal(wm.Mailbox.finish)
    await first.result()
    second = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    with pytest.raises(RPCError) as raised:
        await first.execute_update(wm.Mailbox.deliver_and_count, "hi")
    assert raised.value.status == RPCStatusCode.NOT_FOUND
    assert "workflow execution not found" in str(raised.value)
    assert await second.execute_update(wm.Mailbox.deliver_and_count, "hi") == 1
    await second.terminate(reason="test over")


async def test_poll_without_a_stage_answers_at_once(client: Client, workflow_id: str) -> None:
    """PollWorkflowExecutionUpdate with no wait stage reports the update's stage without waiting."""
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue="no-worker-here")
    pending = asyncio.create_task(handle.execute_update(wm.Mailbox.deliver_and_count, "x", id="u1"))
    ref = UpdateRef(workflow_execution=WorkflowExecution(workflow_id=workflow_id), update_id="u1")
    request = PollWorkflowExecutionUpdateRequest(namespace=client.namespace, update_ref=ref)
    while True:  # the update is admitted once its request reaches the server
        try:
            # Waiting for a stage would hold the call for its whole minute; the bound is only
            # there to catch that, not to time the answer.
            answer = await asyncio.wait_for(
                client.workflow_service.poll_workflow_execution_update(
                    request, timeout=timedelta(seconds=60)
                ),
                30,
            )
            break
        except RPCError as error:
            assert error.status == RPCStatusCode.NOT_FOUND
            await asyncio.sleep(0.05)
    stages = UpdateWorkflowExecutionLifecycleStage
    assert answer.stage == stages.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
    assert not answer.HasField("outcome")
    pending.cancel()
    await handle.terminate(reason="test over")


@pytest.mark.parametrize("worker_takes_events_again", [False, True])
async def test_rejecting_after_events_the_worker_had_not_seen_keeps_the_task(
    client: Client, task_queue: str, workflow_id: str, worker_takes_events_again: bool
) -> None:
    """A speculative task is dropped only if dropping it makes the worker see no event twice,
    unless the worker says it can take that (then up to 10 events), as on Temporal."""
    await raw.start(client, workflow_id, task_queue)
    await raw.complete_workflow_task(client, await raw.poll_workflow_task(client, task_queue))

    async def answer_update(update_id: str, *, accept: bool) -> None:
        updating = asyncio.create_task(raw.update(client, workflow_id, update_id))
        task = await raw.poll_workflow_task(client, task_queue)
        if accept:
            await raw.complete_workflow_task(client, task, messages=raw.accept_and_complete_updates(task))
        else:
            await raw.complete_workflow_task(
                client,
                task,
                rejections=raw.reject_updates(task),
                discard_with_events=worker_takes_events_again,
            )
        await updating

    await answer_update("accepted", accept=True)  # leaves Accepted and Completed after the task
    before = len(await raw.history(client, workflow_id))
    await answer_update("rejected", accept=False)
    written = [e.event_type for e in (await raw.history(client, workflow_id))[before:]]
    assert written == (
        []
        if worker_takes_events_again
        else [
            EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        ]
    )
