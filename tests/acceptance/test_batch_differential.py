"""Batch operation RPCs on Cadenza and on the real Temporal dev server: the same refusals of
bad requests in the same words, and the same descriptions, lists and events of batches run
the same way."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from google.protobuf import text_format
from google.protobuf.message import Message
from temporalio.api.batch.v1 import (
    BatchOperationCancellation,
    BatchOperationReset,
    BatchOperationSignal,
    BatchOperationTermination,
    BatchOperationUpdateWorkflowExecutionOptions,
)
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client
from temporalio.service import RPCError

from cadenza.batches.targets import request_id
from tests import servers
from tests.acceptance import batch_calls as calls

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

QUERY = "WorkflowType = 'Anything'"
TERMINATE = BatchOperationTermination(identity="differ")


def _start(**fields: Any) -> wsv1.StartBatchOperationRequest:
    return wsv1.StartBatchOperationRequest(**{"namespace": "default", **fields})


BAD_STARTS = [
    _start(visibility_query=QUERY, reason="r", termination_operation=TERMINATE),
    _start(visibility_query=QUERY, job_id="j", termination_operation=TERMINATE),
    _start(job_id="j", reason="r", termination_operation=TERMINATE),
    _start(visibility_query=QUERY, job_id="j", reason="r"),
    _start(
        visibility_query=QUERY,
        executions=[WorkflowExecution(workflow_id="x")],
        job_id="j",
        reason="r",
        termination_operation=TERMINATE,
    ),
    _start(namespace="", visibility_query=QUERY, job_id="j", reason="r", termination_operation=TERMINATE),
    _start(
        namespace="missing-ns",
        visibility_query=QUERY,
        job_id="j",
        reason="r",
        termination_operation=TERMINATE,
    ),
    _start(visibility_query=QUERY, job_id="j", reason="r", signal_operation=BatchOperationSignal()),
    _start(visibility_query=QUERY, job_id="j" * 1001, reason="r", termination_operation=TERMINATE),
    _start(visibility_query=QUERY, job_id="j", reason="r", reset_operation=BatchOperationReset()),
    _start(
        visibility_query=QUERY,
        job_id="j",
        reason="r",
        update_workflow_options_operation=BatchOperationUpdateWorkflowExecutionOptions(),
    ),
]
BAD_CALLS: list[tuple[str, Message]] = [
    *(("start_batch_operation", request) for request in BAD_STARTS),
    ("describe_batch_operation", wsv1.DescribeBatchOperationRequest(namespace="default")),
    ("describe_batch_operation", wsv1.DescribeBatchOperationRequest(namespace="default", job_id="none")),
    ("describe_batch_operation", wsv1.DescribeBatchOperationRequest(job_id="none")),
    ("stop_batch_operation", wsv1.StopBatchOperationRequest(namespace="default", job_id="none", reason="r")),
    ("stop_batch_operation", wsv1.StopBatchOperationRequest(namespace="default", job_id="none")),
    ("stop_batch_operation", wsv1.StopBatchOperationRequest(namespace="default", reason="r")),
    ("list_batch_operations", wsv1.ListBatchOperationsRequest()),
    ("list_batch_operations", wsv1.ListBatchOperationsRequest(namespace="missing-ns")),
]


async def refusal(client: Client, method: str, request: Message) -> tuple[str, str, list[str]]:
    with pytest.raises(RPCError) as refused:
        await getattr(client.workflow_service, method)(request)
    details = [d.type_url for d in refused.value.grpc_status.details]
    return refused.value.status.name, refused.value.message, details


async def test_bad_requests_are_refused_alike(in_process_client: Client, temporal_client: Client) -> None:
    for method, request in BAD_CALLS:
        ours = await refusal(in_process_client, method, request)
        theirs = await refusal(temporal_client, method, request)
        assert ours == theirs, (method, request)


async def test_a_malformed_filter_is_refused_alike(
    in_process_client: Client, temporal_client: Client
) -> None:
    request = _start(
        visibility_query="WorkflowType = ", job_id="j", reason="r", termination_operation=TERMINATE
    )
    ours = await refusal(in_process_client, "start_batch_operation", request)
    theirs = await refusal(temporal_client, "start_batch_operation", request)
    assert ours[0] == theirs[0] == "INVALID_ARGUMENT"
    assert ours[1].startswith("invalid visibility query: ") and theirs[1].startswith(
        "invalid visibility query: "
    )


def _described(described: wsv1.DescribeBatchOperationResponse, tag: str) -> str:
    """The description without what differs by run: the times (checked present), the tag
    in its IDs."""
    assert described.HasField("start_time") and described.HasField("close_time")
    shown = wsv1.DescribeBatchOperationResponse()
    shown.CopyFrom(described)
    shown.ClearField("start_time")
    shown.ClearField("close_time")
    return text_format.MessageToString(shown).replace(tag, "T")


async def _run_scenario(client: Client) -> list[object]:
    """Batches run one after the other (the real server runs one per namespace at a time);
    what each shows, and the errors of using a job ID again or stopping a finished job."""
    tag = uuid.uuid4().hex[:8]
    kind = f"Differ{tag}"
    ids = [f"{kind}-{i}" for i in range(3)]
    await calls.start_idle(client, kind, ids)
    await client.get_workflow_handle(ids[2]).terminate("closed before")
    await calls.eventually_counted(client, f"WorkflowType = '{kind}' AND ExecutionStatus = 'Running'", 2)
    seen: list[object] = []
    signal = BatchOperationSignal(signal="poke", identity="signaller")
    executions = [WorkflowExecution(workflow_id=i) for i in [*ids, f"missing-{tag}"]]
    jobs = [
        (f"signal-{tag}", _start(executions=executions, reason="by list", signal_operation=signal)),
        (
            f"cancel-{tag}",
            _start(
                visibility_query=f"WorkflowType = '{kind}'",
                reason="by filter",
                cancellation_operation=BatchOperationCancellation(identity="canceller"),
            ),
        ),
        (
            f"term-{tag}",
            _start(
                visibility_query=f"WorkflowType = '{kind}'", reason="end", termination_operation=TERMINATE
            ),
        ),
    ]
    for job_id, request in jobs:
        request.job_id = job_id
        await client.workflow_service.start_batch_operation(request)
        seen.append(_described(await calls.finished(client, job_id), tag))
    again = await refusal(client, "start_batch_operation", jobs[0][1])
    seen.append((again[0], re.sub(r"RunId: [0-9a-f-]+", "RunId: R", again[1].replace(tag, "T")), again[2]))
    stop = wsv1.StopBatchOperationRequest(namespace="default", job_id=jobs[0][0], reason="late")
    seen.append(await refusal(client, "stop_batch_operation", stop))
    listed = await client.workflow_service.list_batch_operations(
        wsv1.ListBatchOperationsRequest(namespace="default")
    )
    mine = [
        (o.job_id.replace(tag, "T"), o.state, o.operation_type)
        for o in listed.operation_info
        if tag in o.job_id
    ]
    seen.append(mine)
    history = await client.get_workflow_handle(ids[0]).fetch_history()
    signaled = [
        e.workflow_execution_signaled_event_attributes
        for e in history.events
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    # The signal's request ID is derived from the job and the target, as the real server derives it.
    derived = request_id(jobs[0][0], "signal", ids[0], "", "poke")
    seen.append([(s.signal_name, s.identity, s.request_id == derived) for s in signaled])
    terminated = history.events[-1].workflow_execution_terminated_event_attributes
    seen.append(terminated.reason)
    return seen


async def test_batches_run_alike(in_process_client: Client, temporal_client: Client) -> None:
    ours = await _run_scenario(in_process_client)
    theirs = await _run_scenario(temporal_client)
    for step, (mine, real) in enumerate(zip(ours, theirs, strict=True)):
        assert mine == real, step


async def _unknown_attribute(client: Client) -> str:
    job_id = f"unknown-{uuid.uuid4().hex[:8]}"
    request = _start(
        job_id=job_id, visibility_query="NoSuchAttribute = 'x'", reason="r", termination_operation=TERMINATE
    )
    await client.workflow_service.start_batch_operation(request)
    return _described(await calls.finished(client, job_id), job_id)


async def test_a_filter_naming_an_unknown_attribute_fails_the_batch_alike(
    in_process_client: Client, temporal_client: Client
) -> None:
    ours = await _unknown_attribute(in_process_client)
    assert ours == await _unknown_attribute(temporal_client)
    assert "BATCH_OPERATION_STATE_FAILED" in ours
