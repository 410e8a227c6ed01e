"""History limits: a run whose history outgrows the limit is terminated, as on Temporal."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.servers import ServerProcess, with_dynamic_config

LIMIT = 20


@pytest.fixture(scope="module")
def small_history_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from with_dynamic_config(
        tmp_path_factory.mktemp("small-history"),
        {"limit.historyCount.error": LIMIT, "limit.historyCount.warn": 10},
    )


@pytest.fixture
async def small_client(small_history_server: ServerProcess) -> AsyncIterator[Client]:
    await small_history_server.wait_ready()
    yield await Client.connect(small_history_server.address)


async def test_history_over_the_count_limit_terminates_the_run(
    small_history_server: ServerProcess, small_client: Client, task_queue: str, workflow_id: str
) -> None:
    async with Worker(small_client, task_queue=task_queue, workflows=wm.WORKFLOWS):
        handle = await small_client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
        for n in range(12):  # each signal adds its event and a workflow task's three
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                break
            await handle.signal(wm.Mailbox.deliver, f"m{n}")
            await handle.query(wm.Mailbox.count)  # wait until the worker has taken it in
        history = (await handle.fetch_history()).events
    assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED
    last = history[-1]
    assert last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED
    assert last.workflow_execution_terminated_event_attributes.reason == (
        "Workflow history count exceeds limit."
    )
    assert history[-2].event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    assert LIMIT < len(history) <= LIMIT + 5
    assert "is large" in small_history_server.log_text()
