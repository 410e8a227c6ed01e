"""``/namespaces/{namespace}/schedules`` and ``/namespaces/{namespace}/schedules/{schedule_id}``:
the schedules with their state, times and next runs; and one schedule's spec, action,
policies, upcoming and recent actions. Both read through ListSchedules and DescribeSchedule."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from temporalio.api.schedule.v1 import ScheduleActionResult
from temporalio.api.workflow.v1 import NewWorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import (
    DescribeScheduleRequest,
    DescribeScheduleResponse,
    ListSchedulesRequest,
    ListSchedulesResponse,
)

from cadenza.web.ui import present, schedule_specs
from cadenza.web.ui.rpc import CallFailed
from cadenza.web.ui.site import Site

PAGE_SIZE = 50
LIST_NEXT_RUNS = 3
"""Next run times shown per schedule in the list (the detail shows all the server gives)."""


def schedule_path(namespace: str, schedule_id: str) -> str:
    return f"/namespaces/{quote(namespace, safe='')}/schedules/{quote(schedule_id, safe='')}"


def run_path(namespace: str, workflow_id: str, run_id: str) -> str:
    return f"/namespaces/{quote(namespace, safe='')}/workflows/{quote(workflow_id, safe='')}/{run_id}/history"


@dataclass(frozen=True)
class ActionRow:
    """One action the schedule took: when it was due, when it ran, the run it started."""

    scheduled: str
    actual: str
    workflow_id: str
    run_path: str
    status: str


def _action_row(namespace: str, action: ScheduleActionResult) -> ActionRow:
    started = action.start_workflow_result
    return ActionRow(
        scheduled=present.when(action.schedule_time),
        actual=present.when(action.actual_time),
        workflow_id=started.workflow_id,
        run_path=run_path(namespace, started.workflow_id, started.run_id) if started.workflow_id else "",
        status=present.status_name(action.start_workflow_status) if action.start_workflow_status else "",
    )


@dataclass(frozen=True)
class ScheduleRow:
    """One schedule of the list."""

    schedule_id: str
    path: str
    paused: bool
    notes: str
    workflow_type: str
    spec: str
    next_runs: list[str]
    last_action: ActionRow | None


async def schedule_list(site: Site, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    query = request.query_params.get("query", "").strip()
    try:
        token = base64.b64decode(
            request.query_params.get("token", "").encode(), altchars=b"-_", validate=True
        )
    except (binascii.Error, ValueError):
        return site.refused(request, 400, "Bad Request", "token: not a page token")
    try:
        listed = await site.rpc(
            "ListSchedules",
            ListSchedulesRequest(
                namespace=namespace, maximum_page_size=PAGE_SIZE, next_page_token=token, query=query
            ),
            ListSchedulesResponse,
        )
    except CallFailed as failure:
        return site.failed(request, failure)
    rows = [
        ScheduleRow(
            schedule_id=entry.schedule_id,
            path=schedule_path(namespace, entry.schedule_id),
            paused=entry.info.paused,
            notes=entry.info.notes,
            workflow_type=entry.info.workflow_type.name,
            spec=schedule_specs.spec_summary(entry.info.spec),
            next_runs=[present.when(t) for t in entry.info.future_action_times[:LIST_NEXT_RUNS]],
            last_action=_action_row(namespace, entry.info.recent_actions[-1])
            if entry.info.recent_actions
            else None,
        )
        for entry in listed.schedules
    ]
    next_token = base64.urlsafe_b64encode(listed.next_page_token).decode() if listed.next_page_token else ""
    return site.page(
        request,
        "schedules.html",
        title=f"Schedules · {namespace}",
        namespace=namespace,
        query=query,
        schedules=rows,
        next_token=next_token,
        notice=request.query_params.get("done", ""),
    )


async def schedule_detail(site: Site, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    schedule_id = request.path_params["schedule_id"]
    try:
        described = await site.rpc(
            "DescribeSchedule",
            DescribeScheduleRequest(namespace=namespace, schedule_id=schedule_id),
            DescribeScheduleResponse,
        )
    except CallFailed as failure:
        return site.failed(request, failure)
    schedule, info = described.schedule, described.info
    start = schedule.action.start_workflow
    return site.page(
        request,
        "schedule.html",
        title=f"{schedule_id} · Schedules · {namespace}",
        namespace=namespace,
        schedule_id=schedule_id,
        path=schedule_path(namespace, schedule_id),
        schedule=schedule,
        info=info,
        start=start,
        inputs=present.shown_payloads(start.input),
        spec_lines=schedule_specs.spec_lines(schedule.spec),
        spec_bounds=schedule_specs.spec_bounds(schedule.spec),
        overlap=schedule_specs.overlap_name(schedule.policies.overlap_policy),
        catchup=schedule_specs.duration(schedule.policies.catchup_window)
        if schedule.policies.HasField("catchup_window")
        else "1y (default)",
        durations=_timeouts(start),
        upcoming=[present.when(t) for t in info.future_action_times],
        recent=[_action_row(namespace, action) for action in reversed(info.recent_actions)],
        running=[
            (run.workflow_id, run_path(namespace, run.workflow_id, run.run_id))
            for run in info.running_workflows
        ],
        overlap_policies=schedule_specs.OVERLAP_POLICIES,
        notice=request.query_params.get("done", ""),
    )


def _timeouts(start: NewWorkflowExecutionInfo) -> list[tuple[str, str]]:
    """The started workflow's timeouts that are set."""
    named = (
        ("Execution timeout", start.workflow_execution_timeout),
        ("Run timeout", start.workflow_run_timeout),
        ("Task timeout", start.workflow_task_timeout),
    )
    return [(label, schedule_specs.duration(value)) for label, value in named if value.ByteSize()]
