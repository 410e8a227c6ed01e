"""StartBatchOperation requests checked as Temporal's frontend checks them, in its words."""

from __future__ import annotations

from temporalio.api.enums.v1 import BatchOperationType, ExecutionType, ResetType
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.exceptions import InvalidArgumentError, UnimplementedError

TERMINATE = BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE_WORKFLOW
CANCEL = BatchOperationType.BATCH_OPERATION_TYPE_CANCEL_WORKFLOW
SIGNAL = BatchOperationType.BATCH_OPERATION_TYPE_SIGNAL_WORKFLOW
DELETE = BatchOperationType.BATCH_OPERATION_TYPE_DELETE_WORKFLOW
RESET = BatchOperationType.BATCH_OPERATION_TYPE_RESET_WORKFLOW
UNPAUSE_ACTIVITIES = BatchOperationType.BATCH_OPERATION_TYPE_UNPAUSE_ACTIVITY
RESET_ACTIVITIES = BatchOperationType.BATCH_OPERATION_TYPE_RESET_ACTIVITY
UPDATE_ACTIVITY_OPTIONS = BatchOperationType.BATCH_OPERATION_TYPE_UPDATE_ACTIVITY_OPTIONS
UPDATE_WORKFLOW_OPTIONS = BatchOperationType.BATCH_OPERATION_TYPE_UPDATE_WORKFLOW_EXECUTION_OPTIONS

OPERATIONS = {
    "termination_operation": TERMINATE,
    "cancellation_operation": CANCEL,
    "signal_operation": SIGNAL,
    "deletion_operation": DELETE,
    "reset_operation": RESET,
    "unpause_activities_operation": UNPAUSE_ACTIVITIES,
    "reset_activities_operation": RESET_ACTIVITIES,
    "update_activity_options_operation": UPDATE_ACTIVITY_OPTIONS,
    "update_workflow_options_operation": UPDATE_WORKFLOW_OPTIONS,
}
"""The operations Cadenza runs, by the request's field, with the type Temporal reports."""

RUNNING_ONLY = frozenset(
    {
        TERMINATE,
        CANCEL,
        SIGNAL,
        UNPAUSE_ACTIVITIES,
        RESET_ACTIVITIES,
        UPDATE_ACTIVITY_OPTIONS,
        UPDATE_WORKFLOW_OPTIONS,
    }
)
"""Operations whose filter Temporal narrows to running workflows (closed ones are skipped)."""

_NEITHER_TYPE_NOR_ALL = "Either activity type must be set, or match all should be set to true"

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
    _check_target_types(request, operation)
    _check_operation(request, operation)
    if operation not in OPERATIONS:
        raise UnimplementedError(f"Batch operation {operation} is not supported by Cadenza.")
    _refuse_restoring(request, operation)
    return OPERATIONS[operation]


_ON_ACTIVITIES = (
    "terminate_activities_operation",
    "delete_activities_operation",
    "cancel_activities_operation",
)
"""The operations on standalone activities; every other one acts on workflow executions."""


def _check_target_types(request: wsv1.StartBatchOperationRequest, operation: str) -> None:
    """Each target execution must be of the kind the operation acts on, in Temporal's (Go's) words."""
    expected = (
        ExecutionType.EXECUTION_TYPE_ACTIVITY
        if operation in _ON_ACTIVITIES
        else ExecutionType.EXECUTION_TYPE_WORKFLOW
    )
    for index, execution in enumerate(request.target_executions):
        if execution.type != expected:
            wrapper = "StartBatchOperationRequest_" + operation.title().replace("_", "")
            raise InvalidArgumentError(
                f"target_executions[{index}] has type {_type_name(execution.type)}, "
                f"but operation *workflowservice.{wrapper} requires {_type_name(expected)}"
            )


_GO_KNOWN_TYPES = (
    ExecutionType.EXECUTION_TYPE_UNSPECIFIED,
    ExecutionType.EXECUTION_TYPE_WORKFLOW,
    ExecutionType.EXECUTION_TYPE_ACTIVITY,
)
"""The execution types Temporal 1.32 names; it shows any other by its number."""


def _type_name(execution_type: int) -> str:
    if execution_type not in _GO_KNOWN_TYPES:
        return str(execution_type)
    name = ExecutionType.Name(execution_type)  # type: ignore[arg-type]
    return name.removeprefix("EXECUTION_TYPE_").title().replace("_", "")


def _check_operation(request: wsv1.StartBatchOperationRequest, operation: str) -> None:
    if operation == "signal_operation" and not request.signal_operation.signal:
        raise InvalidArgumentError("must provide signal name")
    if operation == "update_workflow_options_operation":
        if not request.update_workflow_options_operation.HasField("workflow_execution_options"):
            raise InvalidArgumentError("must provide UpdateOptions")
        if not request.update_workflow_options_operation.HasField("update_mask"):
            raise InvalidArgumentError("must provide UpdateMask")
    if operation in ("unpause_activities_operation", "reset_activities_operation"):
        _check_activity_filter(request, operation)
    if operation == "update_activity_options_operation":
        _check_options_update(request)
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


def _check_activity_filter(request: wsv1.StartBatchOperationRequest, operation: str) -> None:
    """An activity batch names its activities by type or matches them all, in Temporal's words."""
    op = getattr(request, operation)
    chosen = op.WhichOneof("activity")
    if chosen is None:
        raise InvalidArgumentError(
            "activity filter must be set"
            if operation == "unpause_activities_operation"
            else "must provide ActivityType or MatchAll"
        )
    if not getattr(op, chosen):
        raise InvalidArgumentError(_NEITHER_TYPE_NOR_ALL)


def _check_options_update(request: wsv1.StartBatchOperationRequest) -> None:
    op = request.update_activity_options_operation
    if op.HasField("activity_options") and op.restore_original:
        raise InvalidArgumentError("cannot set both activity options and restore original")
    if not op.HasField("activity_options") and not op.restore_original:
        # Temporal's message, though it is about the options, not the type.
        raise InvalidArgumentError(
            "Either activity type must be set, or restore original should be set to true"
        )
    chosen = op.WhichOneof("activity")
    if chosen is not None and not getattr(op, chosen):
        raise InvalidArgumentError(_NEITHER_TYPE_NOR_ALL)


def _refuse_restoring(request: wsv1.StartBatchOperationRequest, operation: str) -> None:
    """Cadenza keeps no activity's original options, so it cannot put them back."""
    restoring = (
        operation == "update_activity_options_operation"
        and request.update_activity_options_operation.restore_original
    ) or (
        operation == "reset_activities_operation"
        and request.reset_activities_operation.restore_original_options
    )
    if restoring:
        raise UnimplementedError("Restoring activities' original options is not supported by Cadenza.")


def identity_of(request: wsv1.StartBatchOperationRequest) -> str:
    """The identity the request's operation carries: the batch acts under it."""
    operation = request.WhichOneof("operation")
    return str(getattr(getattr(request, operation), "identity", "")) if operation else ""
