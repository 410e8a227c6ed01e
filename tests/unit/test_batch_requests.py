"""Batch requests checked as Temporal checks them, and a batch's place saved and read back."""

from __future__ import annotations

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from temporalio.api.batch.v1 import (
    BatchOperationReset,
    BatchOperationSignal,
    BatchOperationTermination,
    BatchOperationUnpauseActivities,
    BatchOperationUpdateActivityOptions,
    BatchOperationUpdateWorkflowExecutionOptions,
)
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import ResetType
from temporalio.api.workflow.v1 import WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.batches import requests
from cadenza.batches.cursor import Cursor
from cadenza.batches.targets import Target
from cadenza.exceptions import InvalidArgumentError, UnimplementedError


def _request(**fields: object) -> wsv1.StartBatchOperationRequest:
    base: dict[str, object] = {
        "namespace": "default",
        "job_id": "j",
        "reason": "r",
        "visibility_query": "a = 1",
    }
    return wsv1.StartBatchOperationRequest(**{**base, **fields})  # type: ignore[arg-type]


def test_a_complete_request_names_its_operation_and_identity() -> None:
    request = _request(termination_operation=BatchOperationTermination(identity="who"))
    assert requests.check(request) == requests.TERMINATE
    assert requests.identity_of(request) == "who"
    reset = BatchOperationReset(reset_type=ResetType.RESET_TYPE_FIRST_WORKFLOW_TASK)
    assert requests.check(_request(reset_operation=reset)) == requests.RESET


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": ""}, "must provide required parameters"),
        ({"job_id": ""}, "JobId is not set on request."),
        ({"executions": [WorkflowExecution(workflow_id="w")]}, "mutually exclusive"),
        ({"signal_operation": BatchOperationSignal()}, "must provide signal name"),
        ({"reset_operation": BatchOperationReset()}, "unknown batch reset type Unspecified"),
    ],
)
def test_malformed_requests_are_refused_in_temporals_words(fields: dict[str, object], message: str) -> None:
    operation = (
        {}
        if set(fields) & {"signal_operation", "reset_operation"}
        else {"termination_operation": BatchOperationTermination()}
    )
    with pytest.raises(InvalidArgumentError, match=message):
        requests.check(_request(**fields, **operation))


def test_activity_and_workflow_options_operations_are_run_but_restoring_original_options_is_not() -> None:
    unpause = BatchOperationUnpauseActivities(type="x")
    assert requests.check(_request(unpause_activities_operation=unpause)) == requests.UNPAUSE_ACTIVITIES
    restore = BatchOperationUpdateActivityOptions(match_all=True, restore_original=True)
    with pytest.raises(UnimplementedError):
        requests.check(_request(update_activity_options_operation=restore))
    options = _request(update_workflow_options_operation=_workflow_options())
    assert requests.check(options) == requests.UPDATE_WORKFLOW_OPTIONS


def _workflow_options() -> BatchOperationUpdateWorkflowExecutionOptions:
    return BatchOperationUpdateWorkflowExecutionOptions(
        workflow_execution_options=WorkflowExecutionOptions(), update_mask=FieldMask(paths=["priority"])
    )


def test_a_cursor_reads_back_as_saved() -> None:
    cursor = Cursor().with_page([Target("a", "r1"), Target("b", "")], b"next").advanced()
    again = Cursor.decode(cursor.encode())
    assert again == cursor
    assert again.next_targets(5) == (Target("b", ""),)
    assert not again.listed and again.started
    assert Cursor().with_page([], b"").listed
