"""Differential tests: the same scenarios on Cadenza and on the real Temporal dev server.

Histories must match event for event once values that always differ (times,
IDs, identities, stack traces) are normalized away.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import raw_calls as raw
from tests.acceptance import workflows as w
from tests.acceptance import workflows_messages as wm
from tests.acceptance import workflows_time as wt

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

# Keys whose values differ between any two runs, whichever server runs them.
VOLATILE = {
    "eventTime",
    "taskId",
    "requestId",
    "identity",
    "originalExecutionRunId",
    "firstExecutionRunId",
    "historySizeBytes",
    "workerVersion",
    "stackTrace",
    "newExecutionRunId",
    "workflowId",
}

SCENARIOS: list[tuple[Any, Any]] = [
    (w.OneActivity.run, "World"),
    (w.SequentialActivities.run, 3),
    (w.Retrying.run, "flaky"),
    (w.NonRetryable.run, "doomed"),
    (w.LimitedAttempts.run, "twice"),
    (w.Failing.run, "wf"),
    (wt.Sleeper.run, 1.0),
    (wt.ZeroTimer.run, None),
    (wt.CancelTimerEarly.run, None),
    (wt.CancelsItsActivity.run, None),
    (wt.ResumesFromHeartbeat.run, None),
    (wt.ScheduleToCloseTimeout.run, None),
]


COUNTS_DEPEND_ON_TIMING = {wt.CancelsItsActivity.run, wt.ResumesFromHeartbeat.run}
"""How many of their heartbeats reach the server before the activity is cancelled or times
out depends on timing, and each is a state transition: their counts are not compared."""


def normalize(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: normalize(v) for k, v in value.items() if k not in VOLATILE}
        if "coreUsedFlags" in out:  # the SDK sends a set, in no particular order
            out["coreUsedFlags"] = sorted(out["coreUsedFlags"])
        if out.get("kind") == "TASK_QUEUE_KIND_STICKY":
            out["name"] = "<sticky>"
        return out
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


async def run_scenario(client: Client, run: Any, arg: Any) -> tuple[list[Any], int]:
    """The normalized history of one run of the scenario, and its state transition count."""
    task_queue = f"diff-{uuid.uuid4().hex[:8]}"
    workflow_id = f"diff-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[*w.ALL_WORKFLOWS, *wt.WORKFLOWS],
        activities=[*w.ALL_ACTIVITIES, *wt.ACTIVITIES],
    ):
        args = [] if arg is None else [arg]
        handle = await client.start_workflow(run, args=args, id=workflow_id, task_queue=task_queue)
        try:
            await handle.result()
        except WorkflowFailureError:
            pass
    history = await handle.fetch_history()
    events = [normalize(MessageToDict(e)) for e in history.events]
    for event in events:
        attrs = event.get("workflowExecutionStartedEventAttributes")
        if attrs:
            attrs["taskQueue"]["name"] = "<queue>"
        for key in ("activityTaskScheduledEventAttributes", "workflowTaskScheduledEventAttributes"):
            if key in event and event[key]["taskQueue"]["kind"] == "TASK_QUEUE_KIND_NORMAL":
                event[key]["taskQueue"]["name"] = "<queue>"
            if key in event and "normalName" in event[key]["taskQueue"]:
                event[key]["taskQueue"]["normalName"] = "<queue>"
    return events, (await raw.info(client, workflow_id)).state_transition_count


@pytest.mark.parametrize(("run", "arg"), SCENARIOS, ids=[s[0].__qualname__ for s in SCENARIOS])
async def test_history_matches_real_temporal(
    client: Client, temporal_client: Client, run: Any, arg: Any
) -> None:
    expected, expected_transitions = await run_scenario(temporal_client, run, arg)
    actual, transitions = await run_scenario(client, run, arg)
    assert [e["eventType"] for e in actual] == [e["eventType"] for e in expected]
    for mine, theirs in zip(actual, expected, strict=True):
        assert mine == theirs
    if run not in COUNTS_DEPEND_ON_TIMING:
        assert transitions == expected_transitions


async def visible_fields(client: Client) -> dict[str, Any]:
    """What one scenario of hand-made calls shows in the fields clients read, with the IDs
    it made replaced by names and the values that differ on every run (times, sizes) by
    whether they are there."""
    workflow_id, task_queue = f"diff-{uuid.uuid4().hex[:8]}", f"diff-{uuid.uuid4().hex[:8]}"
    shown: dict[str, Any] = {}
    request = raw.start_request(workflow_id, task_queue, request_id="start-1")
    started = await client.workflow_service.start_workflow_execution(request)
    names = {workflow_id: "<workflow>", started.run_id: "<run>", task_queue: "<queue>"}

    def symbolic(message: Message) -> Any:
        return _symbolic(MessageToDict(message), names)

    shown["start"] = symbolic(started)
    shown["retried start"] = symbolic(await client.workflow_service.start_workflow_execution(request))
    shown["signal"] = symbolic(await raw.signal(client, workflow_id, request_id="signal-1"))
    shown["signal with start"] = symbolic(
        await client.workflow_service.signal_with_start_workflow_execution(
            wsv1.SignalWithStartWorkflowExecutionRequest(
                namespace="default",
                workflow_id=workflow_id,
                workflow_type=request.workflow_type,
                task_queue=request.task_queue,
                request_id="sws-1",
                signal_name="poke",
            )
        )
    )
    task = await raw.poll_workflow_task(client, task_queue)
    await raw.complete_workflow_task(client, task, activity_queue=task_queue)
    activity = await raw.poll_activity_task(client, task_queue, rate_per_second=5.0)
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        queue = await client.workflow_service.describe_task_queue(
            wsv1.DescribeTaskQueueRequest(
                namespace="default", task_queue=request.task_queue, task_queue_type=kind
            )
        )
        shown[f"pollers {kind}"] = [(p.identity, p.rate_per_second) for p in queue.pollers]
    await raw.complete_activity(client, activity)
    await raw.complete_workflow_task(client, await raw.poll_workflow_task(client, task_queue), close=True)
    described = await raw.describe(client, workflow_id)
    names[described.workflow_execution_info.first_run_id] = "<run>"
    info = symbolic(described.workflow_execution_info)
    shown["describe"] = {key: info.get(key) for key in _OWN_INFO_KEYS}
    shown["extended info"] = symbolic(described.workflow_extended_info)
    listed = await _listed_closed(client, workflow_id)
    shown["listed"] = [
        {key: row.get(key) for key in _OWN_INFO_KEYS} for row in map(symbolic, listed.executions)
    ]
    events = await raw.history(client, workflow_id)
    shown["started event has a priority"] = events[0].workflow_execution_started_event_attributes.HasField(
        "priority"
    )
    shown["signal request IDs"] = [
        e.workflow_execution_signaled_event_attributes.request_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    shown["state transitions"] = await raw.transition_counts(
        client, f"diff-{uuid.uuid4().hex[:8]}", f"diff-{uuid.uuid4().hex[:8]}"
    )
    return shown


async def _listed_closed(client: Client, workflow_id: str) -> wsv1.ListWorkflowExecutionsResponse:
    """The listing of a closed run, once it shows the close (Temporal records it after a moment)."""
    request = wsv1.ListWorkflowExecutionsRequest(namespace="default", query=f"WorkflowId = '{workflow_id}'")
    while True:
        listed = await client.workflow_service.list_workflow_executions(request)
        if listed.executions and listed.executions[0].HasField("close_time"):
            return listed
        await asyncio.sleep(0.1)


_OWN_INFO_KEYS = (
    "status",
    "historyLength",
    "stateTransitionCount",
    "historySizeBytes",
    "executionDuration",
    "rootExecution",
    "parentExecution",
    "parentNamespaceId",
    "firstRunId",
    "priority",
)
_CHANGING = {"historySizeBytes", "executionDuration", "originalStartTime"}
"""Keys whose values differ on every run: only whether they are there is compared."""


def _symbolic(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: "<set>" if k in _CHANGING else _symbolic(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_symbolic(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


async def test_answers_fill_the_fields_real_temporal_fills(client: Client, temporal_client: Client) -> None:
    expected = await visible_fields(temporal_client)
    actual = await visible_fields(client)
    assert actual == expected


_CHILD_EVENTS = (
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
)


async def child_fields(client: Client) -> dict[str, Any]:
    """What a parent's child events, and the child's start, description and listing show."""
    task_queue, workflow_id = f"diff-{uuid.uuid4().hex[:8]}", f"diff-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=wm.WORKFLOWS):
        await client.execute_workflow(wm.Parent.run, "x", id=workflow_id, task_queue=task_queue)
    child_id = f"{workflow_id}-child"
    parent = await raw.describe(client, workflow_id)
    child = await raw.describe(client, child_id)
    namespace = await client.workflow_service.describe_namespace(
        wsv1.DescribeNamespaceRequest(namespace="default")
    )
    names = {
        workflow_id: "<parent>",
        child_id: "<child>",
        task_queue: "<queue>",
        parent.workflow_execution_info.execution.run_id: "<parent run>",
        child.workflow_execution_info.execution.run_id: "<child run>",
        namespace.namespace_info.id: "<namespace id>",
    }

    def symbolic(message: Message) -> Any:
        return _symbolic(normalize(MessageToDict(message)), names)

    # Where the child's completion lands among the parent's own events depends on timing.
    parent_events = [
        {k: v for k, v in symbolic(e).items() if k != "eventId"}
        for e in await raw.history(client, workflow_id)
        if e.event_type in _CHILD_EVENTS
    ]
    started = symbolic((await raw.history(client, child_id))[0])
    started["workflowExecutionStartedEventAttributes"].pop("workflowExecutionExpirationTime")
    info = symbolic(child.workflow_execution_info)
    listed = await _listed_closed(client, child_id)
    return {
        "parent's child events": parent_events,
        "child started": started,
        "child described": {key: info.get(key) for key in _OWN_INFO_KEYS},
        "child listed": [
            {key: row.get(key) for key in _OWN_INFO_KEYS} for row in map(symbolic, listed.executions)
        ],
    }


async def test_child_fields_match_real_temporal(client: Client, temporal_client: Client) -> None:
    expected = await child_fields(temporal_client)
    actual = await child_fields(client)
    assert actual == expected
