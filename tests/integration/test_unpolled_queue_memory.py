"""A queue nobody polls keeps no task of a run that has closed, nor its enqueue time."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, WorkflowExecutionStatus

from cadenza.persistence.records import TaskKind
from tests.acceptance import workflows as w
from tests.helpers import eventually
from tests.servers import InProcessServer

RUNS = 20


async def test_runs_that_time_out_unpolled_leave_no_task_in_memory(
    in_process_server: InProcessServer, in_process_client: Client, task_queue: str
) -> None:
    enqueue_times = in_process_server.server.metrics.task_observer._queued_at  # type: ignore[attr-defined]
    times_before = len(enqueue_times)
    handles = [
        await in_process_client.start_workflow(
            w.WaitsForever.run,
            id=f"{task_queue}-{i}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=1),
        )
        for i in range(RUNS)
    ]
    matching = in_process_server.server._matching
    namespace = await in_process_server.server._namespaces.get("default")
    assert matching.backlog(namespace.id, task_queue, TaskKind.WORKFLOW) == RUNS
    assert len(enqueue_times) >= times_before + RUNS

    async def all_timed_out() -> bool:
        statuses = [(await h.describe()).status for h in handles]
        return all(s == WorkflowExecutionStatus.TIMED_OUT for s in statuses)

    await eventually(all_timed_out, timeout=30)
    assert matching.backlog(namespace.id, task_queue, TaskKind.WORKFLOW) == 0
    assert len(enqueue_times) <= times_before
