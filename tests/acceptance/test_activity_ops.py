"""Operators pause, unpause, reset and change the options of pending activities, through the
official SDK's client and the `temporal` CLI; the worker learns of a pause or reset on a heartbeat."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.field_mask_pb2 import FieldMask
from temporalio.api.activity.v1 import ActivityOptions
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import (
    PauseActivityRequest,
    ResetActivityRequest,
    UnpauseActivityRequest,
    UpdateActivityOptionsRequest,
)
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from tests import servers
from tests.acceptance import workflows_activity_ops as w
from tests.helpers import Registered, eventually, worker_for
from tests.servers import ServerProcess

REGISTERED = Registered(w.WORKFLOWS, w.ACTIVITIES)


async def pending(handle: WorkflowHandle[Any, Any]) -> PendingActivityInfo:
    described = await handle.describe()
    [activity] = described.raw_description.pending_activities
    return activity


async def event_types(handle: WorkflowHandle[Any, Any]) -> list[int]:
    return [e.event_type for e in (await handle.fetch_history()).events]


async def test_a_paused_running_activity_learns_it_on_its_next_heartbeat(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        handle = await client.start_workflow(
            w.HeartbeatingActivity.run, id=workflow_id, task_queue=task_queue
        )
        await eventually(lambda: _started(handle))
        execution = WorkflowExecution(workflow_id=workflow_id)
        await client.workflow_service.pause_activity(
            PauseActivityRequest(
                namespace="default", execution=execution, id="hb", identity="ops", reason="stuck"
            )
        )
        assert await handle.result() == "paused=True reset=False"
    types = await event_types(handle)
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED in types
    assert len(types) == 11  # the pause itself wrote nothing


async def test_a_reset_running_activity_learns_it_on_its_next_heartbeat(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        handle = await client.start_workflow(
            w.HeartbeatingActivity.run, id=workflow_id, task_queue=task_queue
        )
        await eventually(lambda: _started(handle))
        await client.workflow_service.reset_activity(
            ResetActivityRequest(
                namespace="default", execution=WorkflowExecution(workflow_id=workflow_id), id="hb"
            )
        )
        assert await handle.result() == "paused=False reset=True"


async def test_a_paused_activity_waits_for_its_unpause_and_a_reset_starts_its_count_over(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    service = client.workflow_service
    execution = WorkflowExecution(workflow_id=workflow_id)
    async with worker_for(client, task_queue, REGISTERED):
        handle = await client.start_workflow(
            w.SlowlyRetriedActivity.run, id=workflow_id, task_queue=task_queue
        )
        await eventually(lambda: _waiting_for_attempt(handle, 2))
        await service.pause_activity(
            PauseActivityRequest(namespace="default", execution=execution, type="fail_until_attempt_three")
        )
        paused = await pending(handle)
        assert (paused.state, paused.paused) == (PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED, True)
        assert not paused.HasField("next_attempt_schedule_time")
        await service.unpause_activity(
            UnpauseActivityRequest(namespace="default", execution=execution, id="retried")
        )
        await eventually(lambda: _waiting_for_attempt(handle, 3))
        await service.reset_activity(
            ResetActivityRequest(namespace="default", execution=execution, id="retried", keep_paused=True)
        )
        reset = await pending(handle)
        assert (reset.attempt, reset.paused) == (1, False)  # keep_paused keeps only a pause
        await eventually(lambda: _waiting_for_attempt(handle, 2))
        await handle.terminate()


async def test_new_options_apply_to_the_next_attempt(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        handle = await client.start_workflow(
            w.SlowlyRetriedActivity.run, id=workflow_id, task_queue=task_queue
        )
        await eventually(lambda: _waiting_for_attempt(handle, 2))
        options = ActivityOptions(start_to_close_timeout=Duration(seconds=7))
        options.retry_policy.initial_interval.FromSeconds(1)
        answer = await client.workflow_service.update_activity_options(
            UpdateActivityOptionsRequest(
                namespace="default",
                execution=WorkflowExecution(workflow_id=workflow_id),
                id="retried",
                activity_options=options,
                update_mask=FieldMask(paths=["start_to_close_timeout", "retry_policy.initial_interval"]),
            )
        )
        assert answer.activity_options.start_to_close_timeout.seconds == 7
        described = await pending(handle)
        assert described.activity_options.retry_policy.initial_interval.seconds == 1
        await client.workflow_service.reset_activity(
            ResetActivityRequest(
                namespace="default", execution=WorkflowExecution(workflow_id=workflow_id), id="retried"
            )
        )  # attempt 1 fails, then attempts 2 and 3 follow after a second each
        assert await handle.result() == 3


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (
            PauseActivityRequest(namespace="default", id="nope"),
            RPCStatusCode.NOT_FOUND,
            "Can't find pending activity",
        ),
        (PauseActivityRequest(namespace="default"), RPCStatusCode.INVALID_ARGUMENT, "Either Activity.Id"),
        (UnpauseActivityRequest(namespace="default", id="nope"), RPCStatusCode.NOT_FOUND, "Can't find"),
    ],
)
async def test_a_bad_request_is_refused_and_changes_nothing(
    client: Client,
    task_queue: str,
    workflow_id: str,
    request_: PauseActivityRequest | UnpauseActivityRequest,
    code: RPCStatusCode,
    message: str,
) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        handle = await client.start_workflow(
            w.SlowlyRetriedActivity.run, id=workflow_id, task_queue=task_queue
        )
        await eventually(lambda: _waiting_for_attempt(handle, 2))
        request_.execution.workflow_id = workflow_id
        with pytest.raises(RPCError) as refused:
            if isinstance(request_, PauseActivityRequest):
                await client.workflow_service.pause_activity(request_)
            else:
                await client.workflow_service.unpause_activity(request_)
        assert refused.value.status == code and message in refused.value.message
        assert not (await pending(handle)).paused
        await handle.terminate()
        with pytest.raises(RPCError, match="workflow execution already completed"):
            await client.workflow_service.pause_activity(
                PauseActivityRequest(namespace="default", execution=request_.execution, id="retried")
            )


needs_temporal_cli = pytest.mark.skipif(
    servers.temporal_binary() is None, reason="temporal CLI not installed"
)


def cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    binary = servers.temporal_binary()
    assert binary is not None
    return subprocess.run(
        [binary, "--address", server.address, "activity", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_temporal_cli
async def test_the_temporal_cli_pauses_changes_unpauses_and_resets_an_activity(
    cadenza_server: ServerProcess, client: Client, task_queue: str, workflow_id: str
) -> None:
    target = ("-w", workflow_id, "--activity-id", "retried")
    async with worker_for(client, task_queue, REGISTERED):
        handle = await client.start_workflow(
            w.SlowlyRetriedActivity.run, id=workflow_id, task_queue=task_queue
        )
        await eventually(lambda: _waiting_for_attempt(handle, 2))
        assert (
            cli(cadenza_server, "pause", *target, "--reason", "by hand", "--identity", "ops").returncode == 0
        )
        paused = await pending(handle)
        assert (paused.pause_info.manual.identity, paused.pause_info.manual.reason) == ("ops", "by hand")
        changed = cli(cadenza_server, "update-options", *target, "--start-to-close-timeout", "20s")
        assert changed.returncode == 0 and "20s" in changed.stdout
        assert cli(cadenza_server, "unpause", *target).returncode == 0
        assert not (await pending(handle)).paused
        assert cli(cadenza_server, "reset", *target, "--clear-heartbeat-details").returncode == 0
        missing = cli(cadenza_server, "pause", "-w", workflow_id, "--activity-id", "nope")
        assert missing.returncode != 0 and "Can't find pending activity" in missing.stderr
        await handle.terminate()


async def _started(handle: WorkflowHandle[Any, Any]) -> bool:
    described = await handle.describe()
    return any(a.last_heartbeat_time.seconds for a in described.raw_description.pending_activities)


async def _waiting_for_attempt(handle: WorkflowHandle[Any, Any], attempt: int) -> bool:
    described = await handle.describe()
    return any(
        a.attempt == attempt and a.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
        for a in described.raw_description.pending_activities
    )
