"""Fields the real Temporal server fills in its answers, which other SDKs and the CLI read."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.api.common.v1 import (
    Link,
    Memo,
    Payload,
    Payloads,
    Priority,
    SearchAttributes,
    WorkflowExecution,
)
from temporalio.api.enums.v1 import (
    EventType,
    ParentClosePolicy,
    TaskQueueType,
    WorkflowExecutionStatus,
    WorkflowIdConflictPolicy,
)
from temporalio.api.filter.v1 import WorkflowExecutionFilter
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client
from temporalio.worker import Worker

from tests.acceptance import raw_calls as raw
from tests.acceptance import workflows_messages as wm

RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
STARTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
YEAR_ONE = -62135596800
"""0001-01-01T00:00:00Z in Unix seconds: Temporal's answer for a deadline that is not set."""


def event_link(link: Link) -> tuple[str, str, str]:
    target = link.workflow_event
    return target.namespace, target.workflow_id, target.run_id


async def test_start_answers_with_status_first_run_and_a_link_to_its_started_event(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    request = raw.start_request(workflow_id, task_queue)
    started = await client.workflow_service.start_workflow_execution(request)
    assert started.started and started.status == RUNNING
    assert started.first_execution_run_id == started.run_id
    assert event_link(started.link) == ("default", workflow_id, started.run_id)
    assert started.link.workflow_event.event_ref.event_id == 1
    assert started.link.workflow_event.event_ref.event_type == STARTED

    # A retried request is answered as the first was; another start that finds
    # the run and uses it is told it started nothing.
    retried = await client.workflow_service.start_workflow_execution(request)
    assert retried == started
    request.request_id = str(uuid.uuid4())
    request.workflow_id_conflict_policy = WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
    reused = await client.workflow_service.start_workflow_execution(request)
    assert not reused.started and reused.status == RUNNING and reused.run_id == started.run_id
    assert reused.link == started.link


async def test_signal_answers_with_a_link_and_its_event_keeps_the_request_id(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    run_id = (await raw.start(client, workflow_id, task_queue)).run_id
    answer = await raw.signal(client, workflow_id, request_id="signal-request-1")
    assert event_link(answer.link) == ("default", workflow_id, run_id)
    assert answer.link.workflow_event.request_id_ref.request_id == "signal-request-1"
    assert answer.link.workflow_event.request_id_ref.event_type == SIGNALED
    signaled = [e for e in await raw.history(client, workflow_id) if e.event_type == SIGNALED]
    assert [e.workflow_execution_signaled_event_attributes.request_id for e in signaled] == [
        "signal-request-1"
    ]


async def test_signal_with_start_answers_with_the_first_run_and_a_signal_link(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    async def signal_with_start(request_id: str) -> wsv1.SignalWithStartWorkflowExecutionResponse:
        start = raw.start_request(workflow_id, task_queue)
        return await client.workflow_service.signal_with_start_workflow_execution(
            wsv1.SignalWithStartWorkflowExecutionRequest(
                namespace="default",
                workflow_id=workflow_id,
                workflow_type=start.workflow_type,
                task_queue=start.task_queue,
                identity=raw.IDENTITY,
                request_id=request_id,
                signal_name="poke",
            )
        )

    first = await signal_with_start("sws-1")
    second = await signal_with_start("sws-2")
    assert first.started and not second.started
    for answer, request_id in ((first, "sws-1"), (second, "sws-2")):
        assert answer.run_id == answer.first_execution_run_id == first.run_id
        assert event_link(answer.signal_link) == ("default", workflow_id, first.run_id)
        assert answer.signal_link.workflow_event.request_id_ref.request_id == request_id
        assert answer.signal_link.workflow_event.request_id_ref.event_type == SIGNALED
    signaled = [e for e in await raw.history(client, workflow_id) if e.event_type == SIGNALED]
    assert [e.workflow_execution_signaled_event_attributes.request_id for e in signaled] == ["sws-1", "sws-2"]


async def test_update_answers_link_its_accepted_event_or_the_workflow_when_rejected(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    run_id = (await raw.start(client, workflow_id, task_queue)).run_id
    await raw.complete_workflow_task(client, await raw.poll_workflow_task(client, task_queue))

    updating = asyncio.create_task(raw.update(client, workflow_id, "u-1", request_id="upd-req"))
    task = await raw.poll_workflow_task(client, task_queue)
    await raw.complete_workflow_task(client, task, messages=raw.accept_and_complete_updates(task))
    accepted = await updating
    assert event_link(accepted.link) == ("default", workflow_id, run_id)
    assert accepted.link.workflow_event.request_id_ref.request_id == "upd-req"
    assert (
        accepted.link.workflow_event.request_id_ref.event_type
        == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    )

    updating = asyncio.create_task(raw.update(client, workflow_id, "u-2"))
    task = await raw.poll_workflow_task(client, task_queue)
    await raw.complete_workflow_task(client, task, rejections=raw.reject_updates(task))
    rejected = await updating
    assert rejected.outcome.HasField("failure")
    assert rejected.link.workflow.workflow_id == workflow_id
    assert rejected.link.workflow.run_id == run_id
    assert rejected.link.workflow.reason == "Update rejected"


async def test_state_transitions_count_the_changes_temporal_persists(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    # Start, signal, workflow task started, completed; an update's admission and its
    # speculative task are not persisted until the task completes; a rejected update's
    # task is, as it came after the accepted update's events; a signal; then the last
    # task, started and completed with the run.
    assert await raw.transition_counts(client, workflow_id, task_queue) == [1, 2, 3, 4, 4, 5, 6, 7, 9]


async def test_describe_names_a_childs_parent_and_a_closed_runs_duration(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    parent = await client.execute_workflow(wm.Parent.run, "x", id=workflow_id, task_queue=task_queue)
    assert parent == "parent got child x"
    namespace = await client.workflow_service.describe_namespace(
        wsv1.DescribeNamespaceRequest(namespace="default")
    )
    parent_run = (await raw.info(client, workflow_id)).execution.run_id
    child = await raw.info(client, f"{workflow_id}-child")
    assert child.parent_execution == WorkflowExecution(workflow_id=workflow_id, run_id=parent_run)
    assert child.parent_namespace_id == namespace.namespace_info.id
    # Created, first workflow task scheduled, started, completed with the run.
    assert child.state_transition_count == 4
    assert child.HasField("execution_duration")
    assert (
        child.execution_duration.ToNanoseconds()
        == child.close_time.ToNanoseconds() - child.execution_time.ToNanoseconds()
    )
    assert not (await raw.info(client, workflow_id)).HasField("parent_execution")


async def test_describe_has_the_extended_info(client: Client, task_queue: str, workflow_id: str) -> None:
    request = raw.start_request(workflow_id, task_queue)
    request.workflow_execution_timeout.FromSeconds(600)
    request.workflow_run_timeout.FromSeconds(300)
    await client.workflow_service.start_workflow_execution(request)
    described = await raw.describe(client, workflow_id)
    extended = described.workflow_extended_info
    start = described.workflow_execution_info.start_time.ToNanoseconds()
    assert extended.original_start_time.ToNanoseconds() == start
    assert extended.execution_expiration_time.ToSeconds() == (start // 10**9) + 600
    assert extended.run_expiration_time.ToSeconds() == (start // 10**9) + 300
    assert not extended.cancel_requested
    recorded = extended.request_id_infos[request.request_id]
    assert (recorded.event_type, recorded.event_id) == (STARTED, 1)

    await client.workflow_service.request_cancel_workflow_execution(
        wsv1.RequestCancelWorkflowExecutionRequest(
            namespace="default", workflow_execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    assert (await raw.describe(client, workflow_id)).workflow_extended_info.cancel_requested

    untimed = (await raw.describe(client, (await _started(client, task_queue)))).workflow_extended_info
    assert not untimed.HasField("execution_expiration_time")
    assert untimed.run_expiration_time.seconds == YEAR_ONE


async def _started(client: Client, task_queue: str) -> str:
    workflow_id = f"wf-{uuid.uuid4().hex[:12]}"
    await raw.start(client, workflow_id, task_queue)
    return workflow_id


async def test_listings_show_duration_size_transitions_root_and_parent(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    await client.execute_workflow(wm.Parent.run, "x", id=workflow_id, task_queue=task_queue)
    open_id = f"{workflow_id}-open"
    await client.start_workflow(wm.Mailbox.run, id=open_id, task_queue=task_queue)
    child_id = f"{workflow_id}-child"
    parent_info = await raw.info(client, workflow_id)
    listed = await client.workflow_service.list_workflow_executions(
        wsv1.ListWorkflowExecutionsRequest(namespace="default", query=f"TaskQueue = '{task_queue}'")
    )
    by_id = {e.execution.workflow_id: e for e in listed.executions}
    assert set(by_id) == {workflow_id, child_id, open_id}
    for closed_id in (workflow_id, child_id):
        closed = by_id[closed_id]
        described = await raw.info(client, closed_id)
        assert closed.execution_duration == described.execution_duration
        assert closed.history_size_bytes == described.history_size_bytes > 0
        assert closed.state_transition_count == described.state_transition_count > 0
        assert closed.root_execution == parent_info.execution
    assert by_id[child_id].parent_execution == parent_info.execution
    assert not by_id[workflow_id].HasField("parent_execution")
    # An open run's counters are recorded only when it closes, as on Temporal.
    still_open = by_id[open_id]
    assert still_open.root_execution.workflow_id == open_id
    assert not still_open.HasField("execution_duration")
    assert still_open.history_size_bytes == still_open.state_transition_count == 0

    closed_listing = await client.workflow_service.list_closed_workflow_executions(
        wsv1.ListClosedWorkflowExecutionsRequest(
            namespace="default", execution_filter=WorkflowExecutionFilter(workflow_id=child_id)
        )
    )
    assert [e.parent_execution for e in closed_listing.executions] == [parent_info.execution]
    assert closed_listing.executions[0].history_size_bytes > 0
    open_listing = await client.workflow_service.list_open_workflow_executions(
        wsv1.ListOpenWorkflowExecutionsRequest(
            namespace="default", execution_filter=WorkflowExecutionFilter(workflow_id=open_id)
        )
    )
    assert [e.root_execution.workflow_id for e in open_listing.executions] == [open_id]

    rooted = await client.workflow_service.list_workflow_executions(
        wsv1.ListWorkflowExecutionsRequest(namespace="default", query=f"RootWorkflowId = '{workflow_id}'")
    )
    assert {e.execution.workflow_id for e in rooted.executions} == {workflow_id, child_id}


async def test_task_queue_pollers_report_their_rate(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    await raw.start(client, workflow_id, task_queue)
    task = await raw.poll_workflow_task(client, task_queue)
    await raw.complete_workflow_task(client, task, activity_queue=task_queue)
    await raw.poll_activity_task(client, task_queue, rate_per_second=5.0)

    async def pollers(kind: int) -> list[tuple[str, float]]:
        described = await client.workflow_service.describe_task_queue(
            wsv1.DescribeTaskQueueRequest(
                namespace="default",
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=kind,  # type: ignore[arg-type]
            )
        )
        return [(p.identity, p.rate_per_second) for p in described.pollers]

    # A workflow poller names no rate: Temporal reports its default dispatch rate.
    assert await pollers(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW) == [(raw.IDENTITY, 100000.0)]
    assert await pollers(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY) == [(raw.IDENTITY, 5.0)]


async def test_started_event_and_describe_carry_a_priority_only_when_asked(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    await raw.start(client, workflow_id, task_queue)
    prioritized = f"{workflow_id}-p"
    await raw.start(client, prioritized, task_queue, priority=Priority(priority_key=2))

    plain = (await raw.history(client, workflow_id))[0]
    assert not plain.workflow_execution_started_event_attributes.HasField("priority")
    assert not (await raw.info(client, workflow_id)).HasField("priority")
    asked = (await raw.history(client, prioritized))[0]
    assert asked.workflow_execution_started_event_attributes.priority.priority_key == 2
    assert (await raw.info(client, prioritized)).priority.priority_key == 2


async def test_started_event_leaves_out_memo_and_search_attribute_values_that_are_none(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    memo = Memo(
        fields={
            "gone": Payload(metadata={"encoding": b"binary/null"}),
            "null": Payload(metadata={"encoding": b"json/plain"}, data=b"null"),
            "kept": Payload(metadata={"encoding": b"json/plain"}, data=b"1"),
        }
    )
    await raw.start(client, workflow_id, task_queue, memo=memo, search_attributes=SearchAttributes())
    started = (await raw.history(client, workflow_id))[0].workflow_execution_started_event_attributes
    assert list(started.memo.fields) == ["kept"]
    assert not started.HasField("search_attributes")


async def test_child_events_carry_the_timeouts_and_header_temporal_writes(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    await client.execute_workflow(wm.Parent.run, "x", id=workflow_id, task_queue=task_queue)
    events = {e.event_type: e for e in await raw.history(client, workflow_id)}
    initiated = events[EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED]
    attrs = initiated.start_child_workflow_execution_initiated_event_attributes
    # The child's run timeout is its execution timeout (30 s); its task timeout the default.
    assert (attrs.workflow_run_timeout.ToSeconds(), attrs.workflow_task_timeout.ToSeconds()) == (30, 10)
    assert not attrs.HasField("memo")  # the SDK sends an empty one; Temporal leaves it out
    started = events[EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED]
    assert started.child_workflow_execution_started_event_attributes.HasField("header")


async def test_describe_shows_a_pending_activitys_heartbeat_and_options(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    await raw.start(client, workflow_id, task_queue)
    task = await raw.poll_workflow_task(client, task_queue)
    await raw.complete_workflow_task(client, task, activity_queue=task_queue)
    activity = await raw.poll_activity_task(client, task_queue, rate_per_second=5.0)
    # The command set no header or priority: the task, like Temporal's, carries none.
    assert not activity.HasField("header") and not activity.HasField("priority")
    details = Payloads(payloads=[Payload(data=b"1")])
    await client.workflow_service.record_activity_task_heartbeat(
        wsv1.RecordActivityTaskHeartbeatRequest(
            namespace="default", task_token=activity.task_token, details=details
        )
    )
    [pending] = (await raw.describe(client, workflow_id)).pending_activities
    assert pending.heartbeat_details == details
    assert pending.HasField("last_heartbeat_time")
    options = pending.activity_options
    assert (options.task_queue.name, options.task_queue.normal_name) == (task_queue, task_queue)
    assert options.start_to_close_timeout.ToSeconds() == 60
    assert options.HasField("schedule_to_close_timeout") and options.HasField("heartbeat_timeout")
    assert (
        options.retry_policy.initial_interval.ToSeconds(),
        options.retry_policy.backoff_coefficient,
        options.retry_policy.maximum_interval.ToSeconds(),
    ) == (1, 2.0, 100)


async def test_update_with_start_answers_with_status_and_a_link_to_the_started_event(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    answers = []
    for update_id in ("first", "second"):  # the first starts the run, the second finds it
        updating = asyncio.create_task(raw.update_with_start(client, workflow_id, task_queue, update_id))
        task = await raw.poll_workflow_task(client, task_queue)
        await raw.complete_workflow_task(client, task, messages=raw.accept_and_complete_updates(task))
        answers.append((await updating).responses[0].start_workflow)
    started, found = answers
    assert started.started and started.first_execution_run_id == started.run_id
    assert not found.started and not found.first_execution_run_id
    for answer in answers:
        assert answer.status == RUNNING
        assert event_link(answer.link) == ("default", workflow_id, started.run_id)
        assert answer.link.workflow_event.event_ref.event_id == 1


async def test_describe_lists_pending_children_and_names_the_chains_first_run(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    first_run = (await raw.start(client, workflow_id, task_queue)).run_id
    child_id = f"{workflow_id}-child"
    await raw.complete_workflow_task(
        client,
        await raw.poll_workflow_task(client, task_queue),
        commands=[raw.start_child(child_id, f"{task_queue}-child")],
    )
    # The child's start brings the parent a new task; once it is there, the child has started.
    task = await raw.poll_workflow_task(client, task_queue)
    [child] = (await raw.describe(client, workflow_id)).pending_children
    assert (child.workflow_id, child.workflow_type_name, child.initiated_id) == (child_id, "Raw", 5)
    assert child.run_id == (await raw.info(client, child_id)).execution.run_id
    assert child.parent_close_policy == ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE

    await raw.complete_workflow_task(client, task, commands=[raw.continue_as_new()])
    continued = await raw.info(client, workflow_id)
    assert continued.execution.run_id != first_run
    assert continued.first_run_id == first_run


async def test_an_activity_retry_is_not_a_state_transition_of_its_own(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    await raw.start(client, workflow_id, task_queue)
    task = await raw.poll_workflow_task(client, task_queue)
    await raw.complete_workflow_task(client, task, activity_queue=task_queue)
    await raw.fail_activity(client, await raw.poll_activity_task(client, task_queue, 5.0))
    # Started, task started, completed scheduling the activity, attempt started, failed.
    assert (await raw.info(client, workflow_id)).state_transition_count == 5
    await raw.poll_activity_task(client, task_queue, 5.0)
    # The retry reached the worker from its timer; only the second attempt's start counts.
    assert (await raw.info(client, workflow_id)).state_transition_count == 6
