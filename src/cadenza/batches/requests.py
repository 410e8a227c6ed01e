"""StartBatchOperation requests checked as Temporal's frontend checks them, in its words."""

from __future__ import annotations

from temporalio.api.enums.v1 import BatchOperationType, ResetType
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.exceptions import InvalidArgumentError, UnimplementedError

TERMINATE = BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE_WORKFLOW
CANCEL = BatchOperationType.BATCH_OPERATION_TYPE_CANCEL_WORKFLOW
SIGNAL = BatchOperationType.BATCH_OPERATION_TYPE_SIGNAL_WORKFLOW
DELETE = BatchOperationType.BATCH_OPERATION_TYPE_DELETE_WORKFLOW
RESET = BatchOperationType.BATCH_OPERATION_TYPE_RESET_WORKFLOW

OPERATIONS = {
    "termination_operation": TERMINATE,
    "cancellation_operation": CANCEL,
    "signal_operation": SIGNAL,
    "deletion_operation": DELETE,
    "reset_operation": RESET,
}
"""The operations Cadenza runs, by the request's field, with the type Temporal reports."""

RUNNING_ONLY = frozenset({TERMINATE, CANCEL, SIGNAL})
"""Operations whose filter Temporal narrows to running workflows (closed ones are skipped)."""

_MISSING = (
    "must provide required parameters: BatchType,Reason,Namespace, AND one of "
    "(Query OR Executions OR TargetExecutions)"
)


def check(request: wsv1.StartBatchOperationRequest) -> int:
    """Refuse a malformed request as Temporal does; the operation type it asks for."""
    targets = sum(bool(t) for t in (request.visibility_query, request.executions, request.target_executions))
    operation = request.WhichOneof("operation")
    if operation is None or not request.reason or not request.namespace or targets == 0:
        raise InvalidArgumentError(_MISSING)
    if not request.job_id:
        raise InvalidArgumentError("JobId is not set on request.")
    if targets > 1:
        raise InvalidArgumentError(
            "visibility query, executions, and target executions are mutually exclusive"
        )
    _check_operation(request, operation)
    if operation not in OPERATIONS:
        raise UnimplementedError(f"Batch operation {operation} is not supported by Cadenza.")
    if request.target_executions:
        raise UnimplementedError("Batch operations by target_executions are not supported by Cadenza.")
    return OPERATIONS[operation]


def _check_operation(request: wsv1.StartBatchOperationRequest, operation: str) -> None:
    if operation == "signal_operation" and not request.signal_operation.signal:
        raise InvalidArgumentError("must provide signal name")
    if operation == "update_workflow_options_operation":
        if not request.update_workflow_options_operation.HasField("workflow_execution_options"):
            raise InvalidArgumentError("must provide UpdateOptions")
        if not request.update_workflow_options_operation.HasField("update_mask"):
            raise InvalidArgumentError("must provide UpdateMask")
    if operation == "reset_operation":
        reset = request.reset_operation
        if reset.HasField("options"):
            if reset.options.WhichOneof("target") is None:
                raise InvalidArgumentError("batch reset missing target")
        elif reset.reset_type not in (
            ResetType.RESET_TYPE_FIRST_WORKFLOW_TASK,
            ResetType.RESET_TYPE_LAST_WORKFLOW_TASK,
        ):
            name = ResetType.Name(reset.reset_type) if reset.reset_type in ResetType.values() else ""
            shown = name.removeprefix("RESET_TYPE_").title().replace("_", "") or str(reset.reset_type)
            raise InvalidArgumentError(f"unknown batch reset type {shown}")


def identity_of(request: wsv1.StartBatchOperationRequest) -> str:
    """The identity the request's operation carries: the batch acts under it."""
    operation = request.WhichOneof("operation")
    return str(getattr(getattr(request, operation), "identity", "")) if operation else ""
