"""A batch on replicas sharing PostgreSQL: the replica that took it runs it, and when that
replica is SIGKILLed mid-batch another takes the batch over once the lease runs out and
finishes it, each workflow terminated once."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.batch.v1 import BatchOperationTermination
from temporalio.api.enums.v1 import BatchOperationState
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client

from tests.acceptance import batch_calls as calls
from tests.helpers import eventually
from tests.integration.replica_servers import replicas

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(120)]

TARGETS = 300


async def test_another_replica_finishes_the_batch_of_a_killed_one(
    postgres_database: str, tmp_path: Path
) -> None:
    async with replicas(postgres_database, tmp_path, 2) as (runner, survivor):
        first = await Client.connect(runner.address)
        await calls.start_idle(first, "ReplicaTarget", [f"replica-target-{i}" for i in range(TARGETS)])
        await first.workflow_service.start_batch_operation(
            wsv1.StartBatchOperationRequest(
                namespace="default",
                job_id="across-replicas",
                visibility_query="WorkflowType = 'ReplicaTarget'",
                reason="moving on",
                max_operations_per_second=40,
                termination_operation=BatchOperationTermination(identity="replicated"),
            )
        )

        async def under_way() -> None:
            assert (await calls.describe(first, "across-replicas")).complete_operation_count >= 40

        await eventually(under_way, timeout=30)
        runner.kill()
        second = await Client.connect(survivor.address)
        described = await calls.finished(second, "across-replicas", timeout=80)
        assert described.state == BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
        assert described.complete_operation_count == TARGETS
        terminated = "WorkflowType = 'ReplicaTarget' AND ExecutionStatus = 'Terminated'"
        assert await calls.count(second, terminated) == TARGETS
        lengths = await second.workflow_service.list_workflow_executions(
            wsv1.ListWorkflowExecutionsRequest(namespace="default", query="WorkflowType = 'ReplicaTarget'")
        )
        assert {e.history_length for e in lengths.executions} == {3}
