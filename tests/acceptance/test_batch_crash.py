"""A batch terminating 5,000 workflows by filter survives a SIGKILL of the server: restarted on
the same file, it resumes where it saved its place, and every matching workflow ends
terminated exactly once while no other workflow is touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.batch.v1 import BatchOperationTermination
from temporalio.api.enums.v1 import BatchOperationState
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client

from tests import servers
from tests.acceptance import batch_calls as calls
from tests.helpers import eventually

pytestmark = pytest.mark.crash

MATCHING = 5000
OTHERS = 300
RATE = 400
"""Operations per second the batch asks for: enough to finish in seconds, slow enough that
the kill lands in the middle."""


async def test_batch_terminate_resumes_after_sigkill(tmp_path: Path) -> None:
    async with servers.running(tmp_path / "batch.db", tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        await calls.start_idle(client, "BatchTarget", [f"target-{i}" for i in range(MATCHING)])
        await calls.start_idle(client, "Bystander", [f"bystander-{i}" for i in range(OTHERS)])
        await client.workflow_service.start_batch_operation(
            wsv1.StartBatchOperationRequest(
                namespace="default",
                job_id="terminate-5000",
                visibility_query="WorkflowType = 'BatchTarget'",
                reason="clean-up",
                max_operations_per_second=RATE,
                termination_operation=BatchOperationTermination(identity="batch-tester"),
            )
        )

        async def under_way() -> None:
            done = (await calls.describe(client, "terminate-5000")).complete_operation_count
            assert done >= MATCHING // 5

        await eventually(under_way, timeout=60, interval=0.05)
        server.kill()
        server.start()
        await server.wait_ready()
        client = await Client.connect(server.address)

        described = await calls.finished(client, "terminate-5000", timeout=90)
        assert described.state == BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
        assert (described.total_operation_count, described.complete_operation_count) == (MATCHING, MATCHING)
        assert described.failure_operation_count == 0
        assert await calls.count(
            client, "WorkflowType = 'BatchTarget' AND ExecutionStatus = 'Terminated'"
        ) == (MATCHING)
        assert (
            await calls.count(client, "WorkflowType = 'Bystander' AND ExecutionStatus = 'Running'") == OTHERS
        )
        await _each_terminated_once(client)


async def _each_terminated_once(client: Client) -> None:
    """Every target's history is its start, its first workflow task and one Terminated event
    (a second termination of a closed run is refused, so the length says it was once)."""
    lengths: dict[str, int] = {}
    token = b""
    while True:
        page = await client.workflow_service.list_workflow_executions(
            wsv1.ListWorkflowExecutionsRequest(
                namespace="default", query="WorkflowType = 'BatchTarget'", next_page_token=token
            )
        )
        lengths.update({e.execution.workflow_id: e.history_length for e in page.executions})
        token = page.next_page_token
        if not token:
            break
    assert len(lengths) == MATCHING
    assert set(lengths.values()) == {3}
    for workflow_id in ("target-0", f"target-{MATCHING // 2}", f"target-{MATCHING - 1}"):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        terminated = [
            e for e in history.events if e.HasField("workflow_execution_terminated_event_attributes")
        ]
        assert len(terminated) == 1
        attributes = terminated[0].workflow_execution_terminated_event_attributes
        assert (attributes.reason, attributes.identity) == ("clean-up", "batch-tester")
