"""What a run is related to: its parent, the children its history started, and its run chain —
the runs before and after it that continue-as-new, a retry or a cron schedule made, followed
through the links each start and close event carries (``continued_execution_run_id`` back,
``new_execution_run_id`` forward), a bounded number of steps each way."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import (
    ContinueAsNewInitiator,
    EventType,
    HistoryEventFilterType,
    WorkflowExecutionStatus,
)
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
    GetWorkflowExecutionHistoryRequest,
    GetWorkflowExecutionHistoryResponse,
    ListWorkflowExecutionsRequest,
    ListWorkflowExecutionsResponse,
)

from cadenza.web.ui import present
from cadenza.web.ui.rpc import CallFailed, Rpc
from cadenza.web.ui.workflow import Run, reset_from

MAX_CHAIN_STEPS = 20
"""Runs followed each way from this one, so a long chain costs a bounded number of calls."""
OTHER_RUNS = 50
"""Runs of the same workflow ID listed beside the chain (a reset's new run among them)."""

_BEGAN = {
    ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW: "continued as new",
    ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY: "retry",
    ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE: "cron",
}
_CHILD_STATES = {
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: "Running",
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: "StartFailed",
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED: "Completed",
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED: "Failed",
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED: "Canceled",
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED: "Terminated",
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT: "TimedOut",
}


@dataclass
class Child:
    """A child workflow the run started (or tried to), as its latest event tells it."""

    namespace: str
    workflow_id: str
    workflow_type: str
    run_id: str = ""
    state: str = "Starting"


@dataclass(frozen=True)
class ChainRun:
    """One run of the chain: how it began (``first run``, ``continued as new``, ``retry``, ``cron``)."""

    run_id: str
    began: str
    here: bool = False


@dataclass
class Relations:
    parent: tuple[str, WorkflowExecution] | None = None
    root: WorkflowExecution | None = None
    children: list[Child] = field(default_factory=list)
    chain: list[ChainRun] = field(default_factory=list)
    chain_cut: str = ""
    """Why the chain shown is not the whole chain, if it is not."""
    first_run_id: str = ""
    reset_from: str = ""
    """The run this run was reset from."""
    reset_to: str = ""
    """The run a reset of this run made."""
    other_runs: list[tuple[str, str]] = field(default_factory=list)
    """(run ID, status) of the other runs of this workflow ID."""


async def relations(
    rpc: Rpc, run: Run, described: DescribeWorkflowExecutionResponse, events: list[HistoryEvent]
) -> Relations:
    info = described.workflow_execution_info
    found = Relations(
        children=children(run.namespace, events), reset_to=described.workflow_extended_info.reset_run_id
    )
    if events and events[0].HasField("workflow_execution_started_event_attributes"):
        start = events[0].workflow_execution_started_event_attributes
        if start.HasField("parent_workflow_execution"):
            found.parent = (start.parent_workflow_namespace or run.namespace, start.parent_workflow_execution)
        found.first_run_id = start.first_execution_run_id
    if info.HasField("root_execution") and info.root_execution.run_id not in (run.run_id, ""):
        found.root = info.root_execution
    found.reset_from = reset_from(events)
    earlier, cut_before = await _earlier(rpc, run, events)
    later, cut_after = await _later(rpc, run, events)
    found.chain = [*earlier, ChainRun(run.run_id, _began(events[0]) if events else "", here=True), *later]
    found.chain_cut = " ".join(reason for reason in (cut_before, cut_after) if reason)
    chained = {link.run_id for link in found.chain}
    found.other_runs = [item for item in await _runs_of(rpc, run) if item[0] not in chained]
    return found


def children(namespace: str, events: list[HistoryEvent]) -> list[Child]:
    """The children in the order they were initiated, each with its run and latest state."""
    by_initiated: dict[int, Child] = {}
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            initiated = event.start_child_workflow_execution_initiated_event_attributes
            by_initiated[event.event_id] = Child(
                initiated.namespace or namespace, initiated.workflow_id, initiated.workflow_type.name
            )
            continue
        state = _CHILD_STATES.get(event.event_type)
        attributes = present.attributes_of(event)
        if state is None or attributes is None:
            continue
        child = by_initiated.get(getattr(attributes, "initiated_event_id", 0))
        if child is None:
            continue
        child.state = state
        if "workflow_execution" in attributes.DESCRIPTOR.fields_by_name:
            child.run_id = getattr(attributes, "workflow_execution").run_id or child.run_id  # noqa: B009 (a Message of any type)
    return list(by_initiated.values())


def _began(start: HistoryEvent) -> str:
    attributes = start.workflow_execution_started_event_attributes
    if not attributes.continued_execution_run_id:
        return "first run"
    return _BEGAN.get(attributes.initiator, "continued")


async def _earlier(rpc: Rpc, run: Run, events: list[HistoryEvent]) -> tuple[list[ChainRun], str]:
    """The runs before this one, oldest first, following each start event's previous run."""
    found: list[ChainRun] = []
    previous = (
        events[0].workflow_execution_started_event_attributes.continued_execution_run_id if events else ""
    )
    for _ in range(MAX_CHAIN_STEPS):
        if not previous:
            return found[::-1], ""
        try:
            first = await _first_event(rpc, run, previous)
        except CallFailed as failure:
            found.append(ChainRun(previous, "no longer kept"))
            return found[::-1], f"Runs before {previous} cannot be read: {failure.status.message}."
        found.append(ChainRun(previous, _began(first)))
        previous = first.workflow_execution_started_event_attributes.continued_execution_run_id
    return found[::-1], f"Only the {MAX_CHAIN_STEPS} runs before this one are shown." if previous else ""


async def _later(rpc: Rpc, run: Run, events: list[HistoryEvent]) -> tuple[list[ChainRun], str]:
    """The runs after this one, following each close event's next run."""
    found: list[ChainRun] = []
    following = _next_run(events[-1]) if events else ""
    for _ in range(MAX_CHAIN_STEPS):
        if not following:
            return found, ""
        try:
            first = await _first_event(rpc, run, following)
            found.append(ChainRun(following, _began(first)))
            following = await _next_of(rpc, run, following)
        except CallFailed as failure:
            return found, f"Runs after {following} cannot be read: {failure.status.message}."
    return found, f"Only the {MAX_CHAIN_STEPS} runs after this one are shown." if following else ""


def _next_run(close: HistoryEvent) -> str:
    """The run a close event names as next (continue-as-new, a retry, a cron's next run)."""
    attributes = present.attributes_of(close)
    if attributes is None or "new_execution_run_id" not in attributes.DESCRIPTOR.fields_by_name:
        return ""
    return str(getattr(attributes, "new_execution_run_id"))  # noqa: B009 (a Message of any type)


async def _first_event(rpc: Rpc, run: Run, run_id: str) -> HistoryEvent:
    page = await rpc(
        "GetWorkflowExecutionHistory",
        GetWorkflowExecutionHistoryRequest(
            namespace=run.namespace,
            execution=WorkflowExecution(workflow_id=run.workflow_id, run_id=run_id),
            maximum_page_size=1,
        ),
        GetWorkflowExecutionHistoryResponse,
    )
    if not page.history.events:
        return HistoryEvent()
    return page.history.events[0]


async def _next_of(rpc: Rpc, run: Run, run_id: str) -> str:
    """The run after ``run_id``: none while it is open (its close event is not written yet)."""
    other = Run(run.namespace, run.workflow_id, run_id)
    if await _is_running(rpc, other):
        return ""
    page = await rpc(
        "GetWorkflowExecutionHistory",
        GetWorkflowExecutionHistoryRequest(
            namespace=run.namespace,
            execution=other.execution,
            history_event_filter_type=HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
        ),
        GetWorkflowExecutionHistoryResponse,
    )
    return _next_run(page.history.events[-1]) if page.history.events else ""


async def _is_running(rpc: Rpc, run: Run) -> bool:
    described = await rpc(
        "DescribeWorkflowExecution",
        DescribeWorkflowExecutionRequest(namespace=run.namespace, execution=run.execution),
        DescribeWorkflowExecutionResponse,
    )
    return (
        described.workflow_execution_info.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
    )


async def _runs_of(rpc: Rpc, run: Run) -> list[tuple[str, str]]:
    return await _list(rpc, run, f"WorkflowId = {_quoted(run.workflow_id)}", OTHER_RUNS)


async def _list(rpc: Rpc, run: Run, query: str, size: int) -> list[tuple[str, str]]:
    listed = await rpc(
        "ListWorkflowExecutions",
        ListWorkflowExecutionsRequest(namespace=run.namespace, query=query, page_size=size),
        ListWorkflowExecutionsResponse,
    )
    return [(info.execution.run_id, present.status_name(info.status)) for info in listed.executions[:size]]


def _quoted(text: str) -> str:
    """A string literal of Temporal's list-filter language, as the list page writes them."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
