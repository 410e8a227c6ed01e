"""Workflow pause with Temporal's ``frontend.WorkflowPauseEnabled`` set, through the official
SDK: a paused run takes signals and cancel requests but is handed no workflow task and no
activity until it is unpaused; Describe, listings and queries show it paused. The
differential test runs the same scenarios on the real Temporal dev server with the same
setting and compares what both showed, event for event."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import text_format
from google.protobuf.message import Message
from temporalio.api.batch.v1 import BatchOperationTermination
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import (
    EventType,
    HistoryEventFilterType,
    PendingActivityState,
    WorkflowExecutionStatus,
)
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from tests import servers
from tests.acceptance import batch_calls as calls
from tests.acceptance import workflows_activity_ops as ops
from tests.acceptance import workflows_pause as w
from tests.helpers import Registered, eventually, worker_for

ENABLED = {"frontend.WorkflowPauseEnabled": "true"}


@pytest.fixture
async def pausing_client() -> AsyncIterator[Client]:
    async with servers.in_process(dynamic_config=ENABLED) as server:
        yield await Client.connect(server.address)


@pytest.fixture(scope="module")
async def temporal_pausing_client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    if servers.temporal_binary() is None:
        pytest.skip("temporal CLI not installed")
    async with servers.temporal_dev_client(tmp_path_factory.mktemp("temporal-pause"), ENABLED) as client:
        yield client


async def _answer(call: Any) -> str:
    """``OK``, or the refusal's status and message."""
    try:
        await call
    except RPCError as refused:
        return f"{refused.status.name} {refused.message}"
    return "OK"


def _pause(client: Client, workflow_id: str, **fields: str) -> Any:
    return client.workflow_service.pause_workflow_execution(
        wsv1.PauseWorkflowExecutionRequest(namespace="default", workflow_id=workflow_id, **fields)
    )


def _unpause(client: Client, workflow_id: str, **fields: str) -> Any:
    return client.workflow_service.unpause_workflow_execution(
        wsv1.UnpauseWorkflowExecutionRequest(namespace="default", workflow_id=workflow_id, **fields)
    )


async def _described(client: Client, workflow_id: str) -> wsv1.DescribeWorkflowExecutionResponse:
    # Raw: the SDK's own description cannot read the PAUSED status.
    return await client.workflow_service.describe_workflow_execution(
        wsv1.DescribeWorkflowExecutionRequest(
            namespace="default", execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )


async def _events(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [_event(e) for e in history.events]


def _event(event: HistoryEvent) -> str:
    name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_PAUSED:
        return (
            f"{name} {_one_line(event.workflow_execution_paused_event_attributes)} {event.worker_may_ignore}"
        )
    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UNPAUSED:
        return f"{name} {_one_line(event.workflow_execution_unpaused_event_attributes)} {event.worker_may_ignore}"
    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        return f"{name} {_one_line(event.workflow_task_failed_event_attributes)}"
    return name


def _one_line(attrs: Message) -> str:
    return text_format.MessageToString(attrs, as_one_line=True)


async def signalled_while_paused(client: Client) -> list[object]:
    """Pause a waiting run, signal it twice, query it, then unpause it."""
    tag = uuid.uuid4().hex[:8]
    seen: list[object] = []
    async with worker_for(client, f"tq-{tag}", Registered(w.WORKFLOWS, w.ACTIVITIES)):
        handle = await client.start_workflow(w.SignalWaiter.run, id=f"wf-{tag}", task_queue=f"tq-{tag}")
        await eventually(lambda: _completed_a_task(client, handle.id))
        not_paused = await _answer(_unpause(client, handle.id))
        seen.append(await _answer(_pause(client, handle.id, identity="ops", reason="why", request_id="r1")))
        seen.append(await _answer(_pause(client, handle.id, identity="ops", reason="why", request_id="r1")))
        seen.append(await _answer(_pause(client, handle.id, request_id="r2")))
        described = await _described(client, handle.id)
        pause_info = described.workflow_extended_info.pause_info
        seen.append((described.workflow_execution_info.status, pause_info.identity, pause_info.reason))
        seen.append(described.HasField("pending_workflow_task"))
        await handle.signal(w.SignalWaiter.poke, "a")
        await handle.signal(w.SignalWaiter.poke, "b")
        query = wsv1.QueryWorkflowRequest(
            namespace="default", execution=WorkflowExecution(workflow_id=handle.id)
        )
        query.query.query_type = "__stack_trace"
        seen.append((await client.workflow_service.query_workflow(query)).query_rejected.status)
        listed = await client.workflow_service.list_workflow_executions(
            wsv1.ListWorkflowExecutionsRequest(namespace="default", query=f"WorkflowId = '{handle.id}'")
        )
        seen.append([e.status for e in listed.executions])
        seen.append(await _count(client, f"WorkflowId = '{handle.id}' AND ExecutionStatus = 'Paused'"))
        seen.append(await _events(client, handle.id))
        seen.append(await _answer(_unpause(client, handle.id, identity="ops2", reason="go", request_id="u1")))
        seen.append(await handle.result())
        seen.append(await _events(client, handle.id))
        seen.append(await _answer(_pause(client, handle.id)))
    return [*seen, not_paused]


async def paused_before_a_worker(client: Client) -> list[object]:
    """Pause a run whose first task no worker has started, then terminate it."""
    tag = uuid.uuid4().hex[:8]
    handle = await client.start_workflow(w.SignalWaiter.run, id=f"wf-{tag}", task_queue=f"nobody-{tag}")
    seen: list[object] = [await _answer(_pause(client, handle.id, reason="r"))]
    seen.append((await _described(client, handle.id)).HasField("pending_workflow_task"))
    seen.append(await _events(client, handle.id))
    # Temporal takes a paused run for a closed one when asked for its close event (the
    # `temporal workflow describe` command asks): the last event is answered at once.
    last = await client.workflow_service.get_workflow_execution_history(
        wsv1.GetWorkflowExecutionHistoryRequest(
            namespace="default",
            execution=WorkflowExecution(workflow_id=handle.id),
            history_event_filter_type=HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
        )
    )
    seen.append([_event(e) for e in last.history.events])
    await handle.terminate("bye")
    described = await _described(client, handle.id)
    seen.append(
        (described.workflow_execution_info.status, described.workflow_extended_info.HasField("pause_info"))
    )
    return seen


async def cancelled_while_paused(client: Client) -> list[object]:
    tag = uuid.uuid4().hex[:8]
    seen: list[object] = []
    async with worker_for(client, f"tq-{tag}", Registered(w.WORKFLOWS, w.ACTIVITIES)):
        handle = await client.start_workflow(w.SignalWaiter.run, id=f"wf-{tag}", task_queue=f"tq-{tag}")
        await eventually(lambda: _completed_a_task(client, handle.id))
        seen.append(await _answer(_pause(client, handle.id)))
        await handle.cancel()
        seen.append(await _events(client, handle.id))
        seen.append(await _answer(_unpause(client, handle.id)))
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        seen.append(await _events(client, handle.id))
    return seen


async def activity_held_while_paused(client: Client) -> list[object]:
    """An activity scheduled before the pause is not handed to a worker until the unpause."""
    tag = uuid.uuid4().hex[:8]
    seen: list[object] = []
    async with worker_for(client, f"tq-{tag}", Registered([w.Greeter], [])):
        handle = await client.start_workflow(
            w.Greeter.run, f"acts-{tag}", id=f"wf-{tag}", task_queue=f"tq-{tag}"
        )
        await eventually(lambda: _pending_activities(client, handle.id))
        seen.append(await _answer(_pause(client, handle.id)))
        async with worker_for(client, f"acts-{tag}", Registered([], w.ACTIVITIES)):
            await asyncio.sleep(1.5)  # long enough for a worker to take a task it was handed
            [activity] = (await _described(client, handle.id)).pending_activities
            seen.append((activity.state, activity.attempt))
            seen.append(await _answer(_unpause(client, handle.id)))
            seen.append(await handle.result())
    seen.append(await _events(client, handle.id))
    return seen


async def timer_update_and_batch_while_paused(client: Client) -> list[object]:
    """A timer fires into a paused run, an update is refused, and a batch terminates it."""
    tag = uuid.uuid4().hex[:8]
    seen: list[object] = []
    async with worker_for(client, f"tq-{tag}", Registered(w.WORKFLOWS, w.ACTIVITIES)):
        handle = await client.start_workflow(w.SleepThenWait.run, id=f"wf-{tag}", task_queue=f"tq-{tag}")
        await eventually(lambda: _completed_a_task(client, handle.id))
        seen.append(await _answer(_pause(client, handle.id)))
        await eventually(lambda: _timer_fired(client, handle.id))
        with pytest.raises(RPCError) as refused:
            await handle.execute_update(w.SleepThenWait.bump)
        seen.append((refused.value.status, refused.value.message))
        job_id = f"end-{tag}"
        await client.workflow_service.start_batch_operation(
            wsv1.StartBatchOperationRequest(
                namespace="default",
                job_id=job_id,
                reason="end",
                visibility_query=f"WorkflowId = '{handle.id}'",
                termination_operation=BatchOperationTermination(),
            )
        )
        described = await calls.finished(client, job_id)
        seen.append((described.total_operation_count, described.complete_operation_count))
        seen.append(await _events(client, handle.id))
    return seen


async def paused_during_a_workflow_task(client: Client) -> list[object]:
    """The task with the worker completes; the activity it scheduled waits for the unpause."""
    tag = uuid.uuid4().hex[:8]
    seen: list[object] = []
    async with worker_for(client, f"tq-{tag}", Registered(w.WORKFLOWS, w.ACTIVITIES)):
        handle = await client.start_workflow(w.SlowFirstTask.run, id=f"wf-{tag}", task_queue=f"tq-{tag}")
        await eventually(lambda: _started_a_task(client, handle.id), interval=0.05)
        seen.append(await _answer(_pause(client, handle.id)))
        await eventually(lambda: _completed_a_task(client, handle.id))
        await asyncio.sleep(1)  # long enough for the worker to run an activity it was handed
        seen.append(await _events(client, handle.id))
        await handle.signal(w.SlowFirstTask.proceed)
        seen.append(await _answer(_unpause(client, handle.id)))
        seen.append(await handle.result())
    return seen


async def _started_a_task(client: Client, workflow_id: str) -> bool:
    return "WORKFLOW_TASK_STARTED" in await _events(client, workflow_id)


async def pause_info_attribute(client: Client) -> list[object]:
    """``TemporalPauseInfo`` names the paused run and its paused activities' types."""
    tag = uuid.uuid4().hex[:8]
    seen: list[object] = []
    execution = WorkflowExecution(workflow_id=f"wf-{tag}")
    async with worker_for(client, f"tq-{tag}", Registered(ops.WORKFLOWS, ops.ACTIVITIES)):
        handle = await client.start_workflow(
            ops.SlowlyRetriedActivity.run, id=f"wf-{tag}", task_queue=f"tq-{tag}"
        )
        await eventually(lambda: _retrying(client, handle.id))
        await client.workflow_service.pause_activity(
            wsv1.PauseActivityRequest(namespace="default", execution=execution, id="retried")
        )
        seen.append(await _pause_info(client, handle.id))
        await _pause(client, handle.id, reason="why")
        seen.append(await _pause_info(client, handle.id))
        by_type = "TemporalPauseInfo = 'property:activityType=fail_until_attempt_three'"
        seen.append(await _count(client, f"{by_type} AND WorkflowId = '{handle.id}'"))
        await _unpause(client, handle.id)
        seen.append(await _pause_info(client, handle.id))
        await client.workflow_service.unpause_activity(
            wsv1.UnpauseActivityRequest(namespace="default", execution=execution, id="retried")
        )
        seen.append(await _pause_info(client, handle.id))
        await handle.terminate()
    return [str(s).replace(tag, "T") for s in seen]


async def _retrying(client: Client, workflow_id: str) -> bool:
    return any(a.attempt == 2 for a in (await _described(client, workflow_id)).pending_activities)


async def _pause_info(client: Client, workflow_id: str) -> str | None:
    fields = (await _described(client, workflow_id)).workflow_execution_info.search_attributes.indexed_fields
    return fields["TemporalPauseInfo"].data.decode() if "TemporalPauseInfo" in fields else None


async def _timer_fired(client: Client, workflow_id: str) -> bool:
    return "TIMER_FIRED" in await _events(client, workflow_id)


async def _completed_a_task(client: Client, workflow_id: str) -> bool:
    return "WORKFLOW_TASK_COMPLETED" in await _events(client, workflow_id)


async def _pending_activities(client: Client, workflow_id: str) -> bool:
    return bool((await _described(client, workflow_id)).pending_activities)


async def _count(client: Client, query: str) -> int:
    counted = await client.workflow_service.count_workflow_executions(
        wsv1.CountWorkflowExecutionsRequest(namespace="default", query=query)
    )
    return counted.count


PAUSED = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_PAUSED
SCENARIOS = [
    signalled_while_paused,
    paused_before_a_worker,
    cancelled_while_paused,
    activity_held_while_paused,
    timer_update_and_batch_while_paused,
    paused_during_a_workflow_task,
    pause_info_attribute,
]


async def test_a_paused_run_takes_signals_and_goes_on_when_unpaused(pausing_client: Client) -> None:
    seen = await signalled_while_paused(pausing_client)
    assert seen[:3] == ["OK", "OK", "FAILED_PRECONDITION workflow is already paused."]
    assert seen[3] == (PAUSED, "ops", "why")
    assert seen[5] == PAUSED  # a query is rejected, naming the status
    assert seen[6:8] == [[PAUSED], 1]
    assert seen[8][-3:] == [  # type: ignore[index]
        'WORKFLOW_EXECUTION_PAUSED identity: "ops" reason: "why" request_id: "r1" True',
        "WORKFLOW_EXECUTION_SIGNALED",
        "WORKFLOW_EXECUTION_SIGNALED",
    ]
    assert seen[10] == ["a", "b"]
    assert seen[-1] == "FAILED_PRECONDITION workflow is not paused."
    assert seen[11][-5:] == [  # type: ignore[index]
        'WORKFLOW_EXECUTION_UNPAUSED identity: "ops2" reason: "go" request_id: "u1" True',
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "WORKFLOW_EXECUTION_COMPLETED",
    ]


async def test_namespaces_advertise_pause_only_when_it_is_enabled(
    pausing_client: Client, client: Client
) -> None:
    request = wsv1.DescribeNamespaceRequest(namespace="default")
    assert (
        await pausing_client.workflow_service.describe_namespace(request)
    ).namespace_info.capabilities.workflow_pause
    assert not (
        await client.workflow_service.describe_namespace(request)
    ).namespace_info.capabilities.workflow_pause


async def test_a_paused_run_refuses_updates_and_a_batch_ends_it(pausing_client: Client) -> None:
    seen = await timer_update_and_batch_while_paused(pausing_client)
    assert seen[1] == (RPCStatusCode.FAILED_PRECONDITION, "Workflow is paused. Cannot update the workflow.")
    assert seen[2] == (1, 1)
    assert seen[3][-3:] == ["WORKFLOW_EXECUTION_PAUSED  True", "TIMER_FIRED", "WORKFLOW_EXECUTION_TERMINATED"]  # type: ignore[index]


async def test_a_task_in_flight_completes_but_its_activity_waits(pausing_client: Client) -> None:
    seen = await paused_during_a_workflow_task(pausing_client)
    assert seen[1][-2:] == ["ACTIVITY_TASK_SCHEDULED", "WORKFLOW_EXECUTION_PAUSED  True"]  # type: ignore[index]
    assert seen[3] == "hello later"


async def test_an_activity_waits_for_the_unpause(pausing_client: Client) -> None:
    seen = await activity_held_while_paused(pausing_client)
    assert seen[1] == (PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED, 1)
    assert seen[3] == "hello paused"


@pytest.mark.differential
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_pause_matches_real_temporal(
    scenario: Any, pausing_client: Client, temporal_pausing_client: Client
) -> None:
    assert await scenario(pausing_client) == await scenario(temporal_pausing_client)


async def test_a_pause_survives_a_restart(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    db = tmp_path / "cadenza.db"
    async with servers.in_process(db, dynamic_config=ENABLED) as server:
        client = await Client.connect(server.address)
        async with worker_for(client, f"tq-{tag}", Registered([w.Greeter], [])):
            await client.start_workflow(w.Greeter.run, f"acts-{tag}", id=f"wf-{tag}", task_queue=f"tq-{tag}")
            await eventually(lambda: _pending_activities(client, f"wf-{tag}"))
        assert await _answer(_pause(client, f"wf-{tag}", reason="overnight")) == "OK"
    async with servers.in_process(db, dynamic_config=ENABLED) as server:
        client = await Client.connect(server.address)
        described = await _described(client, f"wf-{tag}")
        assert described.workflow_execution_info.status == PAUSED
        assert described.workflow_extended_info.pause_info.reason == "overnight"
        async with worker_for(client, f"acts-{tag}", Registered([], w.ACTIVITIES)):
            await asyncio.sleep(1)  # the held attempt is not among the tasks reloaded at start
            [activity] = (await _described(client, f"wf-{tag}")).pending_activities
            assert activity.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
            assert await _answer(_unpause(client, f"wf-{tag}")) == "OK"
            async with worker_for(client, f"tq-{tag}", Registered([w.Greeter], [])):
                assert await client.get_workflow_handle(f"wf-{tag}").result() == "hello paused"
