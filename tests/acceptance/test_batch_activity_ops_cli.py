"""The official `temporal` CLI runs activity batches against Cadenza: `activity unpause
--query` unpauses the paused activities of every workflow the filter matches, and
`activity reset --query` resets them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import BatchOperationState, BatchOperationType
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client, WorkflowHandle

from tests import servers
from tests.acceptance import batch_calls as calls
from tests.acceptance import workflows_activity_ops as w
from tests.acceptance.test_batch_cli import cli, started_job
from tests.helpers import Registered, eventually, worker_for
from tests.servers import ServerProcess

pytestmark = pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed")


async def _activity(handle: WorkflowHandle[Any, Any]) -> Any:
    [activity] = (await handle.describe()).raw_description.pending_activities
    return activity


async def _waiting_retry(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether the activity failed its first attempt and waits out its long backoff."""
    pending = (await handle.describe()).raw_description.pending_activities
    return any(a.attempt == 2 and a.HasField("next_attempt_schedule_time") for a in pending)


async def test_activity_commands_with_a_query_run_batches(
    client: Client, cadenza_server: ServerProcess
) -> None:
    tag = uuid.uuid4().hex[:8]
    task_queue = f"tq-{tag}"
    async with worker_for(client, task_queue, Registered(w.WORKFLOWS, w.ACTIVITIES)):
        handles = [
            await client.start_workflow(w.SlowlyRetriedActivity.run, id=f"{tag}-{i}", task_queue=task_queue)
            for i in range(3)
        ]
        for handle in handles:
            await eventually(lambda: _waiting_retry(handle))  # noqa: B023 - awaited at once
        for handle in handles[:2]:
            await client.workflow_service.pause_activity(
                wsv1.PauseActivityRequest(
                    namespace="default", execution=WorkflowExecution(workflow_id=handle.id), id="retried"
                )
            )
        query = f'WorkflowId STARTS_WITH "{tag}"'
        job_id = started_job(cli(cadenza_server, "activity", "unpause", "--query", query, "--yes"))
        described = await calls.finished(client, job_id)
        assert described.state == BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
        assert described.operation_type == BatchOperationType.BATCH_OPERATION_TYPE_UNPAUSE_ACTIVITY
        assert described.complete_operation_count == described.total_operation_count == 3
        # None is paused any longer; the reset below restarts each from its first attempt.
        assert [(await _activity(h)).paused for h in handles] == [False, False, False]
        due = [(await _activity(h)).next_attempt_schedule_time.ToDatetime() for h in handles]
        job_id = started_job(cli(cadenza_server, "activity", "reset", "--query", query, "--yes"))
        described = await calls.finished(client, job_id)
        assert described.operation_type == BatchOperationType.BATCH_OPERATION_TYPE_RESET_ACTIVITY
        # Reset, each activity runs its first attempt again at once, fails, and waits once more.
        for handle, before in zip(handles, due, strict=True):
            await eventually(lambda: _retried_after(handle, before))  # noqa: B023 - awaited at once
        for handle in handles:
            await handle.terminate()


async def _retried_after(handle: WorkflowHandle[Any, Any], before: datetime) -> bool:
    """Whether the activity ran again and now waits for a retry due later than ``before``."""
    if not await _waiting_retry(handle):
        return False
    return bool((await _activity(handle)).next_attempt_schedule_time.ToDatetime() > before)
