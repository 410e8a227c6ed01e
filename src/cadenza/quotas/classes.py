"""Which calls each limit counts, and how important each is, as Temporal's frontend has it.

Temporal limits a namespace's calls in two classes with a rate each: the execution
APIs (starting, signalling, completing tasks, polling...) under
``frontend.namespaceRPS``, and the visibility APIs (list and count) under
``frontend.namespaceRPS.visibility``. Within a class each RPC has a priority; when a
namespace runs over its rate the least important (polls) are refused first. An RPC
in neither class (OperatorService, namespace registration) is never rate limited.
Long-running calls (polls, and calls that wait for a worker) are also counted while
they wait, per namespace and RPC, under ``frontend.namespaceCount``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class RateClass(enum.Enum):
    EXECUTION = "execution"
    VISIBILITY = "visibility"


OPERATOR_PRIORITY = 0
"""The priority of a call marked ``caller-type: operator`` (Temporal's UI and CLI), held to
``system.operatorRPSRatio`` of the rate."""

HISTORY_LONG_POLL = "PollWorkflowExecutionHistory"
"""Temporal's name for GetWorkflowExecutionHistory with ``wait_new_event``: a long poll of its own."""

_EXECUTION_PRIORITIES = {
    0: "GetClusterInfo GetSystemInfo GetSearchAttributes DescribeNamespace ListNamespaces DeprecateNamespace",
    1: "SignalWorkflowExecution SignalWithStartWorkflowExecution StartWorkflowExecution "
    "UpdateWorkflowExecution ExecuteMultiOperation CreateSchedule StartBatchOperation "
    "StartActivityExecution RecordActivityTaskHeartbeat RecordActivityTaskHeartbeatById "
    "RespondActivityTaskCompleted RespondActivityTaskCompletedById RespondWorkflowTaskCompleted "
    "RespondQueryTaskCompleted RespondNexusTaskCompleted",
    2: "RequestCancelWorkflowExecution TerminateWorkflowExecution ResetWorkflowExecution "
    "DeleteWorkflowExecution GetWorkflowExecutionHistory UpdateSchedule PatchSchedule DeleteSchedule "
    "StopBatchOperation UpdateActivityOptions PauseActivity UnpauseActivity ResetActivity "
    "UpdateWorkflowExecutionOptions PauseWorkflowExecution UnpauseWorkflowExecution "
    "RequestCancelActivityExecution TerminateActivityExecution DeleteActivityExecution "
    "UpdateTaskQueueConfig",
    3: "DescribeWorkflowExecution DescribeActivityExecution DescribeTaskQueue GetWorkerBuildIdCompatibility "
    "GetWorkerVersioningRules ListTaskQueuePartitions QueryWorkflow DescribeSchedule "
    "ListScheduleMatchingTimes DescribeBatchOperation ListWorkers DescribeWorker CountWorkers "
    "RespondActivityTaskCanceled RespondActivityTaskCanceledById RespondActivityTaskFailed "
    "RespondActivityTaskFailedById RespondWorkflowTaskFailed RespondNexusTaskFailed",
    4: "PollWorkflowTaskQueue PollActivityTaskQueue PollWorkflowExecutionUpdate PollNexusTaskQueue "
    "PollActivityExecution ResetStickyTaskQueue ShutdownWorker GetWorkflowExecutionHistoryReverse "
    "RecordWorkerHeartbeat FetchWorkerConfig UpdateWorkerConfig",
    5: HISTORY_LONG_POLL,
}
_VISIBILITY_PRIORITIES = {
    1: "CountWorkflowExecutions ScanWorkflowExecutions ListOpenWorkflowExecutions "
    "ListClosedWorkflowExecutions ListWorkflowExecutions ListArchivedWorkflowExecutions "
    "CountActivityExecutions ListActivityExecutions GetWorkerTaskReachability ListSchedules "
    "CountSchedules ListBatchOperations ListDeployments GetDeploymentReachability ListWorkerDeployments",
}

PRIORITIES = {
    RateClass.EXECUTION: (OPERATOR_PRIORITY, *sorted(_EXECUTION_PRIORITIES)),
    RateClass.VISIBILITY: (OPERATOR_PRIORITY, *sorted(_VISIBILITY_PRIORITIES)),
}
"""Each class's priority levels, most important first (a level may hold no RPC but the operator's)."""

LONG_RUNNING = frozenset(
    (
        "PollActivityTaskQueue PollWorkflowTaskQueue PollWorkflowExecutionUpdate QueryWorkflow "
        "UpdateWorkflowExecution PollNexusTaskQueue ExecuteMultiOperation GetActivityExecutionResult "
        + HISTORY_LONG_POLL
    ).split()
)
"""The RPCs ``frontend.namespaceCount`` counts while they wait (Temporal's list)."""


@dataclass(frozen=True)
class Limited:
    """How the limits see one RPC."""

    rate_class: RateClass
    priority: int


def _table() -> dict[str, Limited]:
    table = {}
    for rate_class, priorities in (
        (RateClass.EXECUTION, _EXECUTION_PRIORITIES),
        (RateClass.VISIBILITY, _VISIBILITY_PRIORITIES),
    ):
        for priority, names in priorities.items():
            table.update({name: Limited(rate_class, priority) for name in names.split()})
    return table


RPCS = _table()
"""Every rate-limited RPC of WorkflowService by name; an RPC not here is not rate limited."""


def ever_limited(rpc: str) -> bool:
    """Whether any limit counts ``rpc`` (by its method name): a rate, or the long polls waiting.
    One that none counts (RegisterNamespace, the worker deployment RPCs...) is never refused,
    whatever the settings say."""
    return rpc in RPCS or rpc in LONG_RUNNING
