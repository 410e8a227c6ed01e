"""The fuzzer's own parts: what it sends is what it says it sends."""

from __future__ import annotations

from temporalio.api.enums.v1 import CommandType
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from tests.fuzz import values
from tests.fuzz.rpcs import rpc_named
from tests.fuzz.strategies import Known, fresh, targeted_cases

KNOWN = Known(
    {
        "namespace": ["default"],
        "workflow_id": ["seeded", fresh("new")],
        "task_token": [b"token"],
        "TaskQueue.name": ["queue"],
    }
)


def test_a_targeted_case_changes_one_field_of_a_valid_request() -> None:
    cases = targeted_cases(rpc_named("StartWorkflowExecution"), KNOWN)
    delayed = next(c for c in cases if c.changed == "workflow_start_delay" and "seeded" in c.aimed_at)
    request = wsv1.StartWorkflowExecutionRequest.FromString(delayed.body)
    assert (request.namespace, request.workflow_id, request.task_queue.name) == ("default", "seeded", "queue")
    assert request.workflow_start_delay.seconds == 10**12


def test_names_that_stand_for_something_new_are_new_each_time() -> None:
    cases = targeted_cases(rpc_named("StartWorkflowExecution"), KNOWN)
    fresh = [
        wsv1.StartWorkflowExecutionRequest.FromString(c.body).workflow_id
        for c in cases
        if c.changed != "body" and "seeded" not in c.aimed_at
    ]
    assert fresh and len(set(fresh)) == len(fresh)


def test_a_new_command_carries_the_type_of_its_attributes() -> None:
    cases = targeted_cases(rpc_named("RespondWorkflowTaskCompleted"), KNOWN)
    timer = next(c for c in cases if c.changed.startswith("commands.start_timer_command_attributes."))
    request = wsv1.RespondWorkflowTaskCompletedRequest.FromString(timer.body)
    assert request.commands[-1].command_type == CommandType.COMMAND_TYPE_START_TIMER


def test_a_failure_chain_too_deep_for_protobuf_is_reported_as_undecodable() -> None:
    cases = targeted_cases(rpc_named("RespondActivityTaskFailed"), KNOWN)
    deep = next(c for c in cases if "failure chain 150" in c.value)
    assert deep.changed == "body"
    assert (
        len(
            values.failure_chain(
                wsv1.RespondActivityTaskFailedRequest.DESCRIPTOR.fields_by_name["failure"].message_type, 150
            )
        )
        > 150
    )
