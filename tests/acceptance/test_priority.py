"""Task priority and fairness through the SDK: the order a worker gets a backlog in.

Workflows are started on a queue no worker polls; then one worker taking one task at a
time runs them, and the order they ran in is the order the server dispatched them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Priority as ApiPriority
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.workflowservice.v1 import UpdateTaskQueueConfigRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleSpec,
    WorkflowHandle,
)
from temporalio.common import Priority
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from tests import servers
from tests.acceptance import raw_calls
from tests.acceptance import workflows_priority as wp
from tests.helpers import eventually


def one_at_a_time(client: Client, queue: str, workflows: Sequence[type] = (wp.Noted,)) -> Worker:
    return Worker(
        client,
        task_queue=queue,
        workflows=workflows,
        activities=[wp.noted_activity],
        workflow_runner=UnsandboxedWorkflowRunner(),
        max_concurrent_workflow_tasks=1,
        max_concurrent_activities=1,
        max_cached_workflows=0,  # no sticky queue: every poll is of the queue under test
    )


def ran(prefix: str) -> list[str]:
    return [label.removeprefix(prefix) for label in wp.RAN if label.startswith(prefix)]


async def run_backlog(client: Client, queue: str, handles: Sequence[WorkflowHandle[wp.Noted, str]]) -> None:
    async with one_at_a_time(client, queue):
        for handle in handles:
            await handle.result()


async def start_noted(
    client: Client, queue: str, prefix: str, labels: Sequence[tuple[str, Priority]]
) -> list[WorkflowHandle[wp.Noted, str]]:
    return [
        await client.start_workflow(
            wp.Noted.run, prefix + label, id=f"{prefix}{label}", task_queue=queue, priority=priority
        )
        for label, priority in labels
    ]


def fair_share(count: int) -> list[tuple[str, Priority]]:
    """``count`` tasks of fairness key a (weight 9) and b (weight 1), nine to one, started
    round-robin while both keys have some left."""
    heavy = [(f"a{i}", Priority(fairness_key="a", fairness_weight=9.0)) for i in range(count * 9 // 10)]
    light = [(f"b{i}", Priority(fairness_key="b", fairness_weight=1.0)) for i in range(count // 10)]
    mixed: list[tuple[str, Priority]] = []
    for i, task in enumerate(heavy):
        mixed.append(task)
        if i < len(light):
            mixed.append(light[i])
    return mixed


async def test_priority_keys_dispatch_strictly_in_order_and_fifo_within_a_key(
    client: Client, task_queue: str
) -> None:
    prefix = f"{uuid.uuid4().hex[:8]}-"
    keys = [3, 5, 1, 2, 0, 1, 4, 2, 3, 7]
    labels = [
        (f"{i}:{key}", Priority(priority_key=key) if key else Priority.default) for i, key in enumerate(keys)
    ]
    handles = await start_noted(client, task_queue, prefix, labels)
    await run_backlog(client, task_queue, handles)
    # 0 is the default key, 3; keys past 5 count as 5.
    assert ran(prefix) == ["2:1", "5:1", "3:2", "7:2", "0:3", "4:0", "8:3", "6:4", "1:5", "9:7"]


async def test_fairness_weights_nine_to_one_share_every_ten_dispatches(
    client: Client, task_queue: str
) -> None:
    prefix = f"{uuid.uuid4().hex[:8]}-"
    handles = await start_noted(client, task_queue, prefix, fair_share(100))
    await run_backlog(client, task_queue, handles)
    assert "".join(label[0] for label in ran(prefix)) == ("a" * 9 + "b") * 10


async def test_the_queues_weight_overrides_set_the_fair_share(client: Client, task_queue: str) -> None:
    await client.workflow_service.update_task_queue_config(
        UpdateTaskQueueConfigRequest(
            namespace="default",
            identity="test",
            task_queue=task_queue,
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            set_fairness_weight_overrides={"a": 3.0},
        )
    )
    prefix = f"{uuid.uuid4().hex[:8]}-"
    # Both keys name weight 1 on their tasks; the queue's override makes a's weight 3.
    labels = [
        (f"{key}{i}", Priority(fairness_key=key, fairness_weight=1.0)) for i in range(6) for key in "ab"
    ]
    handles = await start_noted(client, task_queue, prefix, labels)
    await run_backlog(client, task_queue, handles)
    assert "".join(label[0] for label in ran(prefix)) == "aaab" + "aaab" + "bbbb"


async def test_the_fair_order_survives_a_restart(tmp_path: Path) -> None:
    prefix = f"{uuid.uuid4().hex[:8]}-"
    queue = "fair-restart"
    async with servers.running(tmp_path / "cadenza.db", tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        handles = await start_noted(client, queue, prefix, fair_share(200))
        server.kill()
        server.start()
        await server.wait_ready()
        client = await Client.connect(server.address)
        await run_backlog(client, queue, [client.get_workflow_handle(h.id) for h in handles])
    order = "".join(label[0] for label in ran(prefix))
    assert order == ("a" * 9 + "b") * 20
    assert all(order[i : i + 100].count("b") == 10 for i in range(len(order) - 99))


async def scheduled(client: Client, workflow_id: str, event_type: EventType.ValueType) -> None:
    async def seen() -> bool:
        handle = client.get_workflow_handle(workflow_id)
        return any([e.event_type == event_type async for e in handle.fetch_history_events()])

    await eventually(seen)


async def test_activities_inherit_their_workflows_priority_for_dispatch_but_show_their_own(
    client: Client, task_queue: str
) -> None:
    prefix = f"{uuid.uuid4().hex[:8]}-"
    activity_queue = f"{task_queue}-activities"
    low = Priority(priority_key=5, fairness_key="wf", fairness_weight=2.0)
    starts = [("low", low, ""), ("high", Priority(priority_key=1), "own")]
    handles = []
    async with one_at_a_time(client, task_queue, [wp.WithActivity]):
        for label, priority, own in starts:
            handle = await client.start_workflow(
                wp.WithActivity.run,
                args=[prefix + label, activity_queue, own],
                id=prefix + label,
                task_queue=task_queue,
                priority=priority,
            )
            await scheduled(client, handle.id, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
            handles.append(handle)
        async with one_at_a_time(client, activity_queue, []):
            shown = [await handle.result() for handle in handles]
    assert ran(prefix) == ["high", "low"]
    # As on Temporal, the activity sees only the priority its own options set.
    assert shown == ["None|None|None", "None|own|None"]


async def test_children_inherit_their_parents_priority(client: Client, task_queue: str) -> None:
    prefix = f"{uuid.uuid4().hex[:8]}-"
    child_queue = f"{task_queue}-children"
    handles = []
    async with one_at_a_time(client, task_queue, [wp.WithChild]):
        for label, key in (("low", 4), ("high", 2)):
            handle = await client.start_workflow(
                wp.WithChild.run,
                args=[prefix + label, child_queue],
                id=prefix + label,
                task_queue=task_queue,
                priority=Priority(priority_key=key, fairness_key=label),
            )
            await scheduled(client, handle.id, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)
            handles.append(handle)
        async with one_at_a_time(client, child_queue, [wp.ShowsPriority]):
            shown = [await handle.result() for handle in handles]
    assert ran(prefix) == ["high", "low"]
    assert shown == ["4|low|None", "2|high|None"]


@pytest.mark.parametrize(
    ("priority", "message"),
    [
        (ApiPriority(priority_key=-1), "priority key can't be negative"),
        (ApiPriority(fairness_key="k" * 65), "fairness key length exceeds limit"),
        (ApiPriority(fairness_weight=-1.0), "fairness weight can't be negative"),
    ],
)
async def test_a_bad_priority_is_rejected_as_temporal_rejects_it(
    client: Client, task_queue: str, priority: ApiPriority, message: str
) -> None:
    request = raw_calls.start_request(f"bad-{uuid.uuid4().hex[:8]}", task_queue, priority=priority)
    with pytest.raises(RPCError) as caught:
        await client.workflow_service.start_workflow_execution(request)
    assert caught.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert caught.value.message == message


async def test_a_run_continued_as_new_keeps_its_priority(client: Client, task_queue: str) -> None:
    async with one_at_a_time(client, task_queue, [wp.ContinuesOnce]):
        shown = await client.execute_workflow(
            wp.ContinuesOnce.run,
            False,
            id=f"can-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
            priority=Priority(priority_key=2, fairness_key="can"),
        )
    assert shown == "2|can|None"


async def test_a_schedules_start_action_gives_its_workflows_its_priority(
    client: Client, task_queue: str
) -> None:
    action = ScheduleActionStartWorkflow(
        wp.ShowsPriority.run,
        "scheduled",
        id=f"sched-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        priority=Priority(priority_key=4, fairness_key="sched"),
    )
    handle = await client.create_schedule(
        f"sched-{uuid.uuid4().hex[:8]}",
        Schedule(action=action, spec=ScheduleSpec()),
        trigger_immediately=True,
    )

    async def started() -> str | bool:
        """The ID of the workflow the schedule started, False until it started one."""
        actions = (await handle.describe()).info.recent_actions
        if not actions:
            return False
        assert isinstance(actions[0].action, ScheduleActionExecutionStartWorkflow)
        return actions[0].action.workflow_id

    try:
        workflow_id = str(await eventually(started))
        async with one_at_a_time(client, task_queue, [wp.ShowsPriority]):
            shown = await client.get_workflow_handle(workflow_id).result()
    finally:
        await handle.delete()
    assert shown == "4|sched|None"
