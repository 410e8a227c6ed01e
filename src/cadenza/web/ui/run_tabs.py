"""The tabs beside a run's history, at Temporal UI's paths: ``/pending-activities`` (from
DescribeWorkflowExecution), ``/call-stack`` (the ``__stack_trace`` query a worker answers) and
``/relationships`` (parent, children and the run chain)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from google.rpc import code_pb2
from starlette.requests import Request
from starlette.responses import Response
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.query.v1 import WorkflowQuery
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
    QueryWorkflowRequest,
    QueryWorkflowResponse,
)

from cadenza.web.ui import present, run_chain
from cadenza.web.ui.rpc import CallFailed, Rpc
from cadenza.web.ui.site import Site
from cadenza.web.ui.workflow import Run, history_events

STACK_TRACE_QUERY = "__stack_trace"
STACK_TRACE_SECONDS = 10.0
"""How long the call-stack tab waits for a worker to answer, so a run nobody polls says so soon."""
_NO_WORKER = frozenset({code_pb2.DEADLINE_EXCEEDED, code_pb2.UNAVAILABLE, code_pb2.FAILED_PRECONDITION})


async def describe(rpc: Rpc, run: Run) -> DescribeWorkflowExecutionResponse:
    return await rpc(
        "DescribeWorkflowExecution",
        DescribeWorkflowExecutionRequest(namespace=run.namespace, execution=run.execution),
        DescribeWorkflowExecutionResponse,
    )


def _tab(
    site: Site,
    request: Request,
    tab: str,
    run: Run,
    described: DescribeWorkflowExecutionResponse,
    **context: Any,
) -> Response:
    info = described.workflow_execution_info
    return site.page(
        request,
        f"run_{tab.replace('-', '_')}.html",
        title=f"{run.workflow_id} · {tab.replace('-', ' ')} · {run.namespace}",
        run=run,
        namespace=run.namespace,
        tab=tab,
        info=info,
        status=present.status_name(info.status),
        running=info.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
        **context,
    )


@dataclass(frozen=True)
class PendingActivity:
    """One pending activity as the tab shows it: its times readable, its payloads decoded."""

    activity_id: str
    activity_type: str
    state: str
    attempt: int
    maximum_attempts: str
    last_failure: str
    last_heartbeat: str
    heartbeat_details: list[present.Shown]
    scheduled: str
    started: str
    next_attempt: str
    last_worker: str

    @classmethod
    def of(cls, info: PendingActivityInfo) -> PendingActivity:
        return cls(
            activity_id=info.activity_id,
            activity_type=info.activity_type.name,
            state=present.activity_state(info.state),
            attempt=info.attempt,
            maximum_attempts=str(info.maximum_attempts) if info.maximum_attempts else "unlimited",
            last_failure=info.last_failure.message if info.HasField("last_failure") else "",
            last_heartbeat=present.when(info.last_heartbeat_time),
            heartbeat_details=present.shown_payloads(info.heartbeat_details),
            scheduled=present.when(info.scheduled_time),
            started=present.when(info.last_started_time),
            next_attempt=present.when(info.next_attempt_schedule_time),
            last_worker=info.last_worker_identity,
        )


async def pending_activities_page(site: Site, request: Request) -> Response:
    run = Run.of(request)
    try:
        described = await describe(site.rpc, run)
    except CallFailed as failure:
        return site.failed(request, failure)
    activities = [PendingActivity.of(info) for info in described.pending_activities]
    return _tab(site, request, "pending-activities", run, described, activities=activities)


async def call_stack_page(site: Site, request: Request) -> Response:
    run = Run.of(request)
    try:
        described = await describe(site.rpc, run)
    except CallFailed as failure:
        return site.failed(request, failure)
    stack, why_not = "", ""
    if described.workflow_execution_info.status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING:
        why_not = "This run is closed: no worker holds it, so it has no call stack."
    else:
        stack, why_not = await _stack_trace(site.rpc, run)
    return _tab(site, request, "call-stack", run, described, stack=stack, why_not=why_not)


async def _stack_trace(rpc: Rpc, run: Run) -> tuple[str, str]:
    """The worker's answer to ``__stack_trace`` (the SDKs answer it with the workflow's
    coroutines), or why there is none."""
    request = QueryWorkflowRequest(
        namespace=run.namespace, execution=run.execution, query=WorkflowQuery(query_type=STACK_TRACE_QUERY)
    )
    try:
        answer = await rpc("QueryWorkflow", request, QueryWorkflowResponse, timeout=STACK_TRACE_SECONDS)
    except CallFailed as failure:
        if failure.status.code in _NO_WORKER:
            return "", f"No worker answered within {STACK_TRACE_SECONDS:.0f} s: {failure.status.message}"
        return "", f"The worker could not tell its call stack: {failure.status.message}"
    if answer.HasField("query_rejected"):
        return "", "The query was rejected."
    texts = []
    for item in present.shown_payloads(answer.query_result):
        texts.append(_unquoted(item.decoded))
    return "\n".join(texts) or "(the worker sent an empty call stack)", ""


def _unquoted(decoded: str) -> str:
    """A JSON string shown as its text (the stack trace is one string with its own newlines)."""
    try:
        value = json.loads(decoded)
    except ValueError:
        return decoded
    return value if isinstance(value, str) else decoded


async def relationships_page(site: Site, request: Request) -> Response:
    run = Run.of(request)
    try:
        described = await describe(site.rpc, run)
        events = await history_events(site.rpc, run)
        relations = await run_chain.relations(site.rpc, run, described, events)
    except CallFailed as failure:
        return site.failed(request, failure)
    return _tab(site, request, "relationships", run, described, relations=relations)
