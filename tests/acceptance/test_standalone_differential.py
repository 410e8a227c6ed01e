"""Standalone activities answer what the real Temporal dev server (run with
``activity.enableStandalone``) answers: the same refusals in the same words, the same
states, outcomes and counts, request by request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from google.protobuf import text_format
from google.protobuf.duration_pb2 import Duration
from temporalio.api.common.v1 import ActivityType, Payload, Payloads, RetryPolicy
from temporalio.api.failure.v1 import Failure
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client
from temporalio.service import RPCError

from tests import servers

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

NS = "default"
DETAILS = Payloads(payloads=[Payload(metadata={"encoding": b"json/plain"}, data=b'"bye"')])


@pytest.fixture(scope="module")
async def standalone_temporal(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    """The real dev server with standalone activities turned on."""
    workdir = tmp_path_factory.mktemp("temporal-standalone")
    async with servers.temporal_dev_client(workdir, {"activity.enableStandalone": "true"}) as client:
        yield client


async def answer(call: Awaitable[Any]) -> str:
    """A call's answer as compared: the refusal's code and words, or the reply without IDs."""
    try:
        reply = await call
    except RPCError as err:
        return f"{err.status.name}: {err.message}"
    return text_format.MessageToString(reply, as_one_line=True) if reply is not None else "ok"


def start(activity_id: str, queue: str, request_id: str, **given: Any) -> wsv1.StartActivityExecutionRequest:
    return wsv1.StartActivityExecutionRequest(
        namespace=NS,
        activity_id=activity_id,
        activity_type=ActivityType(name="Probe"),
        task_queue=TaskQueue(name=queue),
        request_id=request_id,
        identity="client",
        **given,
    )


def shown(described: wsv1.DescribeActivityExecutionResponse) -> tuple[Any, ...]:
    info = described.info
    return (
        info.status,
        info.run_state,
        info.attempt,
        [
            (name, info.HasField(name), getattr(info, name).seconds)
            for name in (
                "schedule_to_close_timeout",
                "schedule_to_start_timeout",
                "start_to_close_timeout",
                "heartbeat_timeout",
            )
        ],
        text_format.MessageToString(info.retry_policy, as_one_line=True),
        info.canceled_reason,
        info.last_worker_identity,
        info.sdk_name,
        text_format.MessageToString(described.outcome, as_one_line=True),
    )


async def observe(client: Client) -> dict[str, Any]:
    service = client.workflow_service
    suffix = uuid.uuid4().hex[:8]
    queue, worked, waiting = f"q-{suffix}", f"worked-{suffix}", f"waiting-{suffix}"
    five = Duration(seconds=5)
    seen: dict[str, Any] = {
        "no timeout": await answer(service.start_activity_execution(start("x", queue, "r0"))),
        "no type": await answer(
            service.start_activity_execution(
                wsv1.StartActivityExecutionRequest(namespace=NS, activity_id="x", start_to_close_timeout=five)
            )
        ),
        "negative delay": await answer(
            service.start_activity_execution(
                start("x", queue, "r0", start_to_close_timeout=five, start_delay=Duration(seconds=-1))
            )
        ),
    }
    first = await service.start_activity_execution(
        start(worked, queue, "r1", start_to_close_timeout=five, heartbeat_timeout=Duration(seconds=30))
    )
    again = await service.start_activity_execution(start(worked, queue, "r1", start_to_close_timeout=five))
    seen["again"] = (again.run_id == first.run_id, again.started)
    seen["taken"] = await answer(
        service.start_activity_execution(start(worked, queue, "r2", start_to_close_timeout=five))
    )
    describe = wsv1.DescribeActivityExecutionRequest(namespace=NS, activity_id=worked, include_outcome=True)
    seen["scheduled"] = shown(await service.describe_activity_execution(describe))
    task = await service.poll_activity_task_queue(
        wsv1.PollActivityTaskQueueRequest(namespace=NS, task_queue=TaskQueue(name=queue), identity="worker")
    )
    seen["task"] = (task.activity_run_id == first.run_id, task.attempt, task.HasField("workflow_execution"))
    by_token = wsv1.RespondActivityTaskCanceledRequest(
        namespace=NS, task_token=task.task_token, details=DETAILS
    )
    seen["canceled unasked"] = await answer(service.respond_activity_task_canceled(by_token))
    cancel = wsv1.RequestCancelActivityExecutionRequest(
        namespace=NS, activity_id=worked, reason="enough", identity="operator", request_id="c1"
    )
    seen["cancel"] = await answer(service.request_cancel_activity_execution(cancel))
    cancel.request_id = "c2"
    seen["cancel again"] = await answer(service.request_cancel_activity_execution(cancel))
    heartbeat = wsv1.RecordActivityTaskHeartbeatRequest(namespace=NS, task_token=task.task_token)
    seen["heartbeat"] = await answer(service.record_activity_task_heartbeat(heartbeat))
    seen["canceling"] = shown(await service.describe_activity_execution(describe))
    seen["canceled"] = await answer(service.respond_activity_task_canceled(by_token))
    seen["closed"] = shown(await service.describe_activity_execution(describe))
    seen["terminate closed"] = await answer(
        service.terminate_activity_execution(
            wsv1.TerminateActivityExecutionRequest(namespace=NS, activity_id=worked)
        )
    )
    seen["stale answer"] = await answer(
        service.respond_activity_task_completed(
            wsv1.RespondActivityTaskCompletedRequest(namespace=NS, task_token=task.task_token)
        )
    )

    await service.start_activity_execution(
        start(waiting, queue, "w1", schedule_to_close_timeout=Duration(seconds=60))
    )
    cancel = wsv1.RequestCancelActivityExecutionRequest(
        namespace=NS, activity_id=waiting, reason="never mind", identity="operator"
    )
    await service.request_cancel_activity_execution(cancel)
    describe.activity_id = waiting
    seen["canceled waiting"] = shown(await service.describe_activity_execution(describe))
    seen["cancel closed"] = await answer(service.request_cancel_activity_execution(cancel))

    seen["unknown"] = await answer(
        service.poll_activity_execution(wsv1.PollActivityExecutionRequest(namespace=NS, activity_id="nope"))
    )
    seen["bad run"] = await answer(
        service.describe_activity_execution(
            wsv1.DescribeActivityExecutionRequest(namespace=NS, activity_id=worked, run_id="garbage")
        )
    )
    seen["ordered count"] = await answer(
        service.count_activity_executions(
            wsv1.CountActivityExecutionsRequest(
                namespace=NS, query="ActivityType = 'Probe' ORDER BY StartTime"
            )
        )
    )
    seen["count"] = await answer(
        service.count_activity_executions(
            wsv1.CountActivityExecutionsRequest(
                namespace=NS, query=f"TaskQueue = '{queue}' GROUP BY ExecutionStatus"
            )
        )
    )
    return {
        name: value.replace(suffix, "*") if isinstance(value, str) else value for name, value in seen.items()
    }


async def test_standalone_activities_answer_as_real_temporal(
    client: Client, standalone_temporal: Client
) -> None:
    cadenza, temporal = await observe(client), await observe(standalone_temporal)
    assert cadenza == temporal


async def outcomes(client: Client) -> dict[str, Any]:
    """How attempts that fail or time out end a run: its outcome and last failure."""
    service = client.workflow_service
    suffix = uuid.uuid4().hex[:8]
    queue = f"q-{suffix}"
    retry = RetryPolicy(initial_interval=Duration(seconds=1), maximum_attempts=2)
    seen: dict[str, Any] = {}
    for name, timeouts in (
        ("failed", {"start_to_close_timeout": Duration(seconds=10)}),
        ("timed out", {"start_to_close_timeout": Duration(seconds=1)}),
        ("never taken", {"schedule_to_close_timeout": Duration(seconds=1)}),
    ):
        activity_id = f"{name.replace(' ', '-')}-{suffix}"
        given = {"retry_policy": retry, **timeouts}
        await service.start_activity_execution(start(activity_id, f"{queue}-{name[0]}", activity_id, **given))
        if name != "never taken":
            for attempt in (1, 2):
                task = await service.poll_activity_task_queue(
                    wsv1.PollActivityTaskQueueRequest(
                        namespace=NS, task_queue=TaskQueue(name=f"{queue}-{name[0]}"), identity="worker"
                    )
                )
                seen[f"{name} attempt {attempt}"] = task.attempt
                if name == "failed":
                    failure = Failure(message=f"boom {attempt}")
                    failure.application_failure_info.type = "Boom"
                    await service.respond_activity_task_failed(
                        wsv1.RespondActivityTaskFailedRequest(
                            namespace=NS,
                            task_token=task.task_token,
                            failure=failure,
                            last_heartbeat_details=DETAILS,
                        )
                    )
        request = wsv1.PollActivityExecutionRequest(namespace=NS, activity_id=activity_id)
        while not (polled := await service.poll_activity_execution(request)).HasField("outcome"):
            pass
        seen[name] = text_format.MessageToString(polled.outcome, as_one_line=True)
        described = await service.describe_activity_execution(
            wsv1.DescribeActivityExecutionRequest(
                namespace=NS,
                activity_id=activity_id,
                include_last_failure=True,
                include_heartbeat_details=True,
            )
        )
        seen[f"{name} shown"] = (
            *shown(described),
            text_format.MessageToString(described.info.last_failure, as_one_line=True),
            text_format.MessageToString(described.info.heartbeat_details, as_one_line=True),
        )
    return seen


async def test_failed_and_timed_out_runs_end_as_on_real_temporal(
    client: Client, standalone_temporal: Client
) -> None:
    cadenza, temporal = await outcomes(client), await outcomes(standalone_temporal)
    assert cadenza == temporal
