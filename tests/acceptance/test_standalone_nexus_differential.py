"""Standalone Nexus operations answer what the real Temporal dev server (run with
``nexusoperation.enableStandalone``) answers: the same refusals in the same words, the same
states, outcomes and counts, request by request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import NexusOperationCancellationState, NexusOperationWaitStage
from temporalio.api.nexus.v1 import EndpointSpec, EndpointTarget
from temporalio.api.operatorservice.v1 import CreateNexusEndpointRequest
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import workflows_nexus as wn
from tests.acceptance.test_standalone_differential import answer
from tests.helpers import eventually

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

NS = "default"
SERVICE = "Greeting"


@pytest.fixture(scope="module")
async def nexus_temporal(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    """The real dev server with standalone Nexus operations turned on."""
    workdir = tmp_path_factory.mktemp("temporal-standalone-nexus")
    async with servers.temporal_dev_client(workdir, {"nexusoperation.enableStandalone": "true"}) as client:
        yield client


def start(operation_id: str, endpoint: str, operation: str, value: str, **given: Any) -> Any:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=f'"{value}"'.encode())
    return wsv1.StartNexusOperationExecutionRequest(
        namespace=NS,
        operation_id=operation_id,
        endpoint=endpoint,
        service=SERVICE,
        operation=operation,
        input=payload,
        **given,
    )


def shown(described: wsv1.DescribeNexusOperationExecutionResponse) -> tuple[Any, ...]:
    info = described.info
    return (
        info.status,
        info.state,
        info.attempt,
        bool(info.operation_token),
        len(info.links),
        info.HasField("expiration_time"),
        info.HasField("close_time"),
        info.cancellation_info.state,
        info.state_transition_count,
        described.result.data,
        described.failure.message,
        described.failure.WhichOneof("failure_info"),
    )


async def cancel_delivered(service: Any, describe: wsv1.DescribeNexusOperationExecutionRequest) -> bool:
    """Whether the operation's handler has answered its cancel request."""
    described = await service.describe_nexus_operation_execution(describe)
    state = described.info.cancellation_info.state
    return bool(state == NexusOperationCancellationState.NEXUS_OPERATION_CANCELLATION_STATE_SUCCEEDED)


async def refusals(service: Any) -> dict[str, str]:
    bare = wsv1.StartNexusOperationExecutionRequest
    return {
        "no id": await answer(service.start_nexus_operation_execution(bare(namespace=NS, endpoint="e"))),
        "no endpoint": await answer(
            service.start_nexus_operation_execution(bare(namespace=NS, operation_id="a"))
        ),
        "unknown endpoint": await answer(
            service.start_nexus_operation_execution(start("a", "nope", "hello", "x"))
        ),
        "unknown operation": await answer(
            service.describe_nexus_operation_execution(
                wsv1.DescribeNexusOperationExecutionRequest(namespace=NS, operation_id="missing")
            )
        ),
        "unknown attribute": await answer(
            service.list_nexus_operation_executions(
                wsv1.ListNexusOperationExecutionsRequest(namespace=NS, query="Bogus = 'x'")
            )
        ),
    }


async def observe(client: Client) -> dict[str, Any]:
    service = client.workflow_service
    suffix = uuid.uuid4().hex[:8]
    queue, endpoint = f"q-{suffix}", f"ep-{suffix}"
    target = EndpointTarget(worker=EndpointTarget.Worker(namespace=NS, task_queue=queue))
    await client.operator_service.create_nexus_endpoint(
        CreateNexusEndpointRequest(spec=EndpointSpec(name=endpoint, target=target))
    )
    seen: dict[str, Any] = await refusals(service)
    minute = Duration(seconds=60)
    async with Worker(
        client,
        task_queue=queue,
        workflows=wn.HANDLER_WORKFLOWS,
        nexus_service_handlers=[wn.GreetingHandler()],
    ):
        first = await service.start_nexus_operation_execution(
            start("sync", endpoint, "hello", "ada", request_id="r1", schedule_to_close_timeout=minute)
        )
        again = await service.start_nexus_operation_execution(
            start("sync", endpoint, "hello", "ada", request_id="r1")
        )
        seen["again"] = (again.run_id == first.run_id, again.started)
        poll = wsv1.PollNexusOperationExecutionRequest(namespace=NS, operation_id="sync")
        seen["poll"] = (await service.poll_nexus_operation_execution(poll)).result.data
        describe = wsv1.DescribeNexusOperationExecutionRequest(
            namespace=NS, operation_id="sync", include_outcome=True
        )
        seen["sync"] = shown(await service.describe_nexus_operation_execution(describe))
        terminate = wsv1.TerminateNexusOperationExecutionRequest(
            namespace=NS, operation_id="sync", request_id="t1"
        )
        seen["terminate closed"] = await answer(service.terminate_nexus_operation_execution(terminate))

        later = f"later-{suffix}"
        await service.start_nexus_operation_execution(
            start(later, endpoint, "hello_later_held", later, schedule_to_close_timeout=minute)
        )
        poll.operation_id, poll.wait_stage = later, NexusOperationWaitStage.NEXUS_OPERATION_WAIT_STAGE_STARTED
        polled = await service.poll_nexus_operation_execution(poll)
        seen["started"] = (polled.wait_stage, bool(polled.operation_token), polled.WhichOneof("outcome"))
        cancel = wsv1.RequestCancelNexusOperationExecutionRequest(
            namespace=NS, operation_id=later, request_id="c1"
        )
        seen["cancel"] = await answer(service.request_cancel_nexus_operation_execution(cancel))
        cancel.request_id = "c2"
        seen["cancel again"] = await answer(service.request_cancel_nexus_operation_execution(cancel))
        # The handler's answer to the cancel is recorded before its workflow may end, so both
        # servers make the same transitions in the same order.
        describe.operation_id = later
        await eventually(lambda: cancel_delivered(service, describe), timeout=30)
        await client.get_workflow_handle(later).signal(wn.CanceledWhenReleased.release)
        poll.wait_stage = NexusOperationWaitStage.NEXUS_OPERATION_WAIT_STAGE_CLOSED
        closed = await service.poll_nexus_operation_execution(poll, timeout=timedelta(seconds=30))
        seen["canceled"] = (closed.failure.message, closed.failure.WhichOneof("failure_info"))
        seen["canceled shown"] = shown(await service.describe_nexus_operation_execution(describe))

        ended = f"ended-{suffix}"
        await service.start_nexus_operation_execution(start(ended, endpoint, "hello_later", ended))
        # Terminated once started, so both servers have made the same transitions by then.
        poll.operation_id, poll.wait_stage = ended, NexusOperationWaitStage.NEXUS_OPERATION_WAIT_STAGE_STARTED
        await service.poll_nexus_operation_execution(poll)
        terminate = wsv1.TerminateNexusOperationExecutionRequest(
            namespace=NS, operation_id=ended, reason="bye", request_id="t1"
        )
        seen["terminate"] = await answer(service.terminate_nexus_operation_execution(terminate))
        seen["terminate same"] = await answer(service.terminate_nexus_operation_execution(terminate))
        terminate.request_id = "t2"
        seen["terminate other"] = await answer(service.terminate_nexus_operation_execution(terminate))
        describe.operation_id = ended
        seen["terminated"] = shown(await service.describe_nexus_operation_execution(describe))
    seen["count"] = await answer(
        service.count_nexus_operation_executions(
            wsv1.CountNexusOperationExecutionsRequest(
                namespace=NS, query=f"Endpoint = '{endpoint}' GROUP BY ExecutionStatus"
            )
        )
    )
    return {
        name: value.replace(suffix, "*") if isinstance(value, str) else value for name, value in seen.items()
    }


async def test_standalone_nexus_operations_answer_as_real_temporal(
    client: Client, nexus_temporal: Client
) -> None:
    cadenza, temporal = await observe(client), await observe(nexus_temporal)
    assert cadenza == temporal
