"""Batches that unpause, reset or change the options of workflows' activities, on Cadenza
and on the real Temporal dev server: the same refusals of bad requests, the same
descriptions, and the same pending activities afterwards."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.field_mask_pb2 import FieldMask
from temporalio.api.activity.v1 import ActivityOptions
from temporalio.api.batch.v1 import (
    BatchOperationResetActivities,
    BatchOperationTermination,
    BatchOperationUnpauseActivities,
    BatchOperationUpdateActivityOptions,
)
from temporalio.api.common.v1 import Execution, WorkflowExecution
from temporalio.api.enums.v1 import ExecutionType
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client, WorkflowHandle

from tests import servers
from tests.acceptance import batch_calls as calls
from tests.acceptance import workflows_activity_ops as w
from tests.acceptance.test_batch_differential import refusal
from tests.helpers import Registered, eventually, worker_for

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

QUERY = "WorkflowType = 'Anything'"


def _start(**fields: Any) -> wsv1.StartBatchOperationRequest:
    return wsv1.StartBatchOperationRequest(
        **{"namespace": "default", "visibility_query": QUERY, "job_id": "j", "reason": "r", **fields}
    )


BAD_STARTS = [
    _start(unpause_activities_operation=BatchOperationUnpauseActivities()),
    _start(unpause_activities_operation=BatchOperationUnpauseActivities(match_all=False)),
    _start(unpause_activities_operation=BatchOperationUnpauseActivities(type="")),
    _start(reset_activities_operation=BatchOperationResetActivities()),
    _start(reset_activities_operation=BatchOperationResetActivities(match_all=False)),
    _start(reset_activities_operation=BatchOperationResetActivities(type="")),
    _start(
        update_activity_options_operation=BatchOperationUpdateActivityOptions(
            type="", activity_options=ActivityOptions()
        )
    ),
    _start(update_activity_options_operation=BatchOperationUpdateActivityOptions()),
    _start(update_activity_options_operation=BatchOperationUpdateActivityOptions(match_all=True)),
    _start(
        update_activity_options_operation=BatchOperationUpdateActivityOptions(
            match_all=True, activity_options=ActivityOptions(), restore_original=True
        )
    ),
]


def _targeted_at_activities(operation: str) -> wsv1.StartBatchOperationRequest:
    request = wsv1.StartBatchOperationRequest(
        namespace="default",
        job_id="j",
        reason="r",
        target_executions=[Execution(type=ExecutionType.EXECUTION_TYPE_ACTIVITY, business_id="a")],
    )
    getattr(request, operation).SetInParent()
    return request


BAD_TARGETED = [
    wsv1.StartBatchOperationRequest(
        namespace="default",
        job_id="j",
        reason="r",
        target_executions=[Execution(type=kind, business_id="w")],
        termination_operation=BatchOperationTermination(),
    )
    for kind in (ExecutionType.EXECUTION_TYPE_UNSPECIFIED, ExecutionType.EXECUTION_TYPE_NEXUS_OPERATION)
] + [_targeted_at_activities("unpause_activities_operation")]
"""(The operations on standalone activities, which the dev server runs, answer UNIMPLEMENTED
here: Cadenza has no standalone activities.)"""


async def test_bad_targets_are_refused_alike(in_process_client: Client, temporal_client: Client) -> None:
    for request in BAD_TARGETED:
        ours = await refusal(in_process_client, "start_batch_operation", request)
        theirs = await refusal(temporal_client, "start_batch_operation", request)
        assert ours == theirs, request


async def _terminate_targeted(client: Client) -> list[object]:
    tag = uuid.uuid4().hex[:8]
    await calls.start_idle(client, "Targeted", [f"t-{tag}"])
    job_id = f"targeted-{tag}"
    await client.workflow_service.start_batch_operation(
        wsv1.StartBatchOperationRequest(
            namespace="default",
            job_id=job_id,
            reason="by target",
            target_executions=[Execution(type=ExecutionType.EXECUTION_TYPE_WORKFLOW, business_id=f"t-{tag}")],
            termination_operation=BatchOperationTermination(),
        )
    )
    described = await calls.finished(client, job_id)
    history = await client.get_workflow_handle(f"t-{tag}").fetch_history()
    shown = [str(e).replace(tag, "T") for e in described.executions]
    return [
        described.operation_type,
        described.total_operation_count,
        described.complete_operation_count,
        shown,
        history.events[-1].event_type,
    ]


async def test_target_executions_name_workflows_alike(
    in_process_client: Client, temporal_client: Client
) -> None:
    assert await _terminate_targeted(in_process_client) == await _terminate_targeted(temporal_client)


async def test_bad_activity_batches_are_refused_alike(
    in_process_client: Client, temporal_client: Client
) -> None:
    for request in BAD_STARTS:
        ours = await refusal(in_process_client, "start_batch_operation", request)
        theirs = await refusal(temporal_client, "start_batch_operation", request)
        assert ours == theirs, request


async def _pending(handle: WorkflowHandle[Any, Any]) -> tuple[Any, ...]:
    [activity] = (await handle.describe()).raw_description.pending_activities
    return (
        activity.state,
        activity.paused,
        activity.attempt,
        activity.activity_options.heartbeat_timeout.seconds,
    )


async def _paused(handle: WorkflowHandle[Any, Any], client: Client) -> None:
    await eventually(lambda: _at_attempt(handle, 2))
    await client.workflow_service.pause_activity(
        wsv1.PauseActivityRequest(
            namespace="default", execution=WorkflowExecution(workflow_id=handle.id), id="retried", reason="r"
        )
    )


async def _at_attempt(handle: WorkflowHandle[Any, Any], attempt: int) -> bool:
    """Whether the activity's attempt ``attempt`` waits out its retry backoff."""
    return any(
        a.attempt == attempt and a.HasField("next_attempt_schedule_time")
        for a in (await handle.describe()).raw_description.pending_activities
    )


async def _all_at_attempt(handles: list[WorkflowHandle[Any, Any]], attempt: int) -> None:
    for handle in handles:
        await eventually(lambda: _at_attempt(handle, attempt))  # noqa: B023 - awaited at once


async def _run(client: Client, tag: str, job: str, **operation: Any) -> str:
    job_id = f"{job}-{tag}"
    request = _start(
        job_id=job_id,
        visibility_query=f"WorkflowType = 'SlowlyRetriedActivity' AND WorkflowId STARTS_WITH '{tag}'",
        **operation,
    )
    await client.workflow_service.start_batch_operation(request)
    described = await calls.finished(client, job_id)
    return f"{described.operation_type} {described.state} {described.total_operation_count} {described.complete_operation_count} {described.failure_operation_count}"


async def _scenario(client: Client) -> list[object]:
    tag = uuid.uuid4().hex[:8]
    task_queue = f"tq-{tag}"
    seen: list[object] = []
    async with worker_for(client, task_queue, Registered(w.WORKFLOWS, w.ACTIVITIES)):
        handles = [
            await client.start_workflow(w.SlowlyRetriedActivity.run, id=f"{tag}-{i}", task_queue=task_queue)
            for i in range(2)
        ]
        for handle in handles:
            await _paused(handle, client)
        seen.append([await _pending(h) for h in handles])
        seen.append(
            await _run(
                client,
                tag,
                "unpause",
                unpause_activities_operation=BatchOperationUnpauseActivities(
                    match_all=True, reset_attempts=True
                ),
            )
        )
        await _all_at_attempt(handles, 2)
        seen.append([await _pending(h) for h in handles])
        seen.append(
            await _run(
                client,
                tag,
                "options",
                update_activity_options_operation=BatchOperationUpdateActivityOptions(
                    type="fail_until_attempt_three",
                    activity_options=ActivityOptions(heartbeat_timeout=Duration(seconds=42)),
                    update_mask=FieldMask(paths=["heartbeat_timeout"]),
                ),
            )
        )
        seen.append([await _pending(h) for h in handles])
        for handle in handles:
            await _paused(handle, client)
        # By type, the batch acts on the runs its filter names only (Temporal 1.32 does not
        # swap the filter for one on TemporalPauseInfo, as later versions do).
        unpause_by_type = _start(
            job_id=f"by-type-{tag}",
            visibility_query="WorkflowType = 'NoSuchWorkflow'",
            unpause_activities_operation=BatchOperationUnpauseActivities(type="fail_until_attempt_three"),
        )
        await client.workflow_service.start_batch_operation(unpause_by_type)
        described = await calls.finished(client, unpause_by_type.job_id)
        seen.append((described.total_operation_count, described.complete_operation_count))
        seen.append([(await _pending(h))[1] for h in handles])
        seen.append(
            await _run(
                client,
                tag,
                "reset",
                reset_activities_operation=BatchOperationResetActivities(match_all=True, keep_paused=True),
            )
        )
        # The reset attempt is dispatched at once and its state then moves with the worker,
        # so only what the reset must leave is compared: not paused, the options as changed.
        seen.append([(await _pending(h))[1::2] for h in handles])
        for handle in handles:
            await handle.terminate()
    return seen


async def test_activity_batches_run_alike(in_process_client: Client, temporal_client: Client) -> None:
    assert await _scenario(in_process_client) == await _scenario(temporal_client)
