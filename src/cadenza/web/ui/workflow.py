"""``/namespaces/{namespace}/workflows/{workflow_id}/{run_id}/history``: one run's summary, its
payloads, its events; its history as Temporal's ``history.json``; and the long poll that keeps
the page current while the run goes on."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from temporalio.api.common.v1 import Payloads, WorkflowExecution
from temporalio.api.enums.v1 import EventType, WorkflowExecutionStatus, WorkflowTaskFailedCause
from temporalio.api.history.v1 import History, HistoryEvent
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
    GetWorkflowExecutionHistoryRequest,
    GetWorkflowExecutionHistoryResponse,
)

from cadenza.web.temporal_api.json_encode import encode
from cadenza.web.ui import present
from cadenza.web.ui.rpc import CallFailed, Rpc
from cadenza.web.ui.site import Site

HISTORY_PAGE = 1000
LIVE_POLL_SECONDS = 20.0
"""How long one live-update request waits for a new event before answering "nothing new"."""

_CLOSE_ATTRIBUTES = {
    "workflow_execution_completed_event_attributes": "result",
    "workflow_execution_failed_event_attributes": "failure",
    "workflow_execution_timed_out_event_attributes": "",
    "workflow_execution_canceled_event_attributes": "details",
    "workflow_execution_terminated_event_attributes": "details",
    "workflow_execution_continued_as_new_event_attributes": "",
}


@dataclass(frozen=True)
class Run:
    """The run a URL names."""

    namespace: str
    workflow_id: str
    run_id: str

    @classmethod
    def of(cls, request: Request) -> Run:
        params = request.path_params
        return cls(params["namespace"], params["workflow_id"], params["run_id"])

    @property
    def execution(self) -> WorkflowExecution:
        return WorkflowExecution(workflow_id=self.workflow_id, run_id=self.run_id)

    @property
    def path(self) -> str:
        """The run's URL path, its namespace and workflow ID quoted whole: an ID may hold ``/``,
        ``?``, ``#`` or spaces, and each link and form built on this path must still name it."""
        namespace, workflow_id = quote(self.namespace, safe=""), quote(self.workflow_id, safe="")
        return f"/namespaces/{namespace}/workflows/{workflow_id}/{quote(self.run_id, safe='')}"


async def history_events(rpc: Rpc, run: Run) -> list[HistoryEvent]:
    """Every event of the run, page after page."""
    events: list[HistoryEvent] = []
    token = b""
    while True:
        page = await rpc(
            "GetWorkflowExecutionHistory",
            GetWorkflowExecutionHistoryRequest(
                namespace=run.namespace,
                execution=run.execution,
                maximum_page_size=HISTORY_PAGE,
                next_page_token=token,
            ),
            GetWorkflowExecutionHistoryResponse,
        )
        events.extend(page.history.events)
        token = page.next_page_token
        if not token:
            return events


async def workflow_page(site: Site, request: Request, notice: str = "", status_code: int = 200) -> Response:
    run = Run.of(request)
    try:
        described = await site.rpc(
            "DescribeWorkflowExecution",
            DescribeWorkflowExecutionRequest(namespace=run.namespace, execution=run.execution),
            DescribeWorkflowExecutionResponse,
        )
        events = await history_events(site.rpc, run)
    except CallFailed as failure:
        return site.failed(request, failure)
    info = described.workflow_execution_info
    started = events[0].workflow_execution_started_event_attributes if events else None
    return site.page(
        request,
        "workflow.html",
        status_code=status_code,
        title=f"{run.workflow_id} · {run.namespace}",
        run=run,
        namespace=run.namespace,
        info=info,
        status=present.status_name(info.status),
        running=info.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
        described=described,
        started=started,
        inputs=present.shown_payloads(started.input) if started else [],
        outcome=_outcome(events),
        memo={name: present.shown_payload(value) for name, value in info.memo.fields.items()},
        search_attributes={
            name: present.shown_payload(value)
            for name, value in info.search_attributes.indexed_fields.items()
        },
        events=[_event_row(event) for event in events],
        children=_children(events),
        reset_from=reset_from(events) if described.workflow_extended_info.HasField("last_reset_time") else "",
        last_event_id=events[-1].event_id if events else 0,
        notice=notice or request.query_params.get("done", ""),
    )


@dataclass(frozen=True)
class Outcome:
    """How the run ended: the close event's result or failure, decoded."""

    event_type: str
    results: list[present.Shown]
    failure: str


def _outcome(events: list[HistoryEvent]) -> Outcome | None:
    if not events:
        return None
    last = events[-1]
    which = last.WhichOneof("attributes")
    if which not in _CLOSE_ATTRIBUTES:
        return None
    attributes = getattr(last, which)
    field = _CLOSE_ATTRIBUTES[which]
    results: list[present.Shown] = []
    failure = ""
    if field == "failure":
        failure = present.as_json(attributes.failure)
    elif field:
        value = getattr(attributes, field)
        if isinstance(value, Payloads):
            results = present.shown_payloads(value)
    if which == "workflow_execution_terminated_event_attributes" and attributes.reason:
        failure = f"terminated: {attributes.reason}"
    return Outcome(present.event_type_name(last.event_type), results, failure)


def _children(events: list[HistoryEvent]) -> list[tuple[WorkflowExecution, str]]:
    """The child runs this run started, with their types, in the order they started."""
    return [
        (started.workflow_execution, started.workflow_type.name)
        for event in events
        if event.HasField("child_workflow_execution_started_event_attributes")
        for started in (event.child_workflow_execution_started_event_attributes,)
    ]


def reset_from(events: list[HistoryEvent]) -> str:
    """The run a reset made this run from: the base run its reset's failed workflow task names."""
    for event in events:
        failed = event.workflow_task_failed_event_attributes
        if (
            event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            and failed.cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
        ):
            return failed.base_run_id
    return ""


@dataclass(frozen=True)
class EventRow:
    event_id: int
    time: str
    event_type: str
    summary: str
    detail: str


def _event_row(event: HistoryEvent) -> EventRow:
    return EventRow(
        event_id=event.event_id,
        time=present.when(event.event_time),
        event_type=present.event_type_name(event.event_type),
        summary=present.summary(event),
        detail=present.as_json(event),
    )


async def history_json(site: Site, request: Request) -> Response:
    """The history as ``temporal workflow show --output json`` writes it, which replayers read."""
    run = Run.of(request)
    try:
        events = await history_events(site.rpc, run)
    except CallFailed as failure:
        return site.failed(request, failure)
    body = encode(History(events=events), present.FULL_PRETTY)
    filename = f"{run.workflow_id}_{run.run_id}_history.json"
    return Response(
        body, media_type="application/json", headers={"Content-Disposition": attachment(filename)}
    )


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` naming a download: a header is Latin-1 and a workflow ID need not
    be, nor free of quotes and slashes, so the plain name keeps only safe ASCII and the full name
    goes in ``filename*`` (RFC 6266), which browsers prefer."""
    plain = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def wait_for_news(site: Site, request: Request) -> Response:
    """Answers once the run has an event after ``?after=`` (or has none within the long poll):
    ``{"lastEventId": N, "running": bool}``. The page's script reloads its content on news."""
    run = Run.of(request)
    try:
        after = int(request.query_params.get("after", "0"))
    except ValueError:
        return JSONResponse({"message": "after: expected an event ID"}, status_code=400)
    try:
        last, running = await _long_poll(site.rpc, run, after)
    except CallFailed as failure:
        return JSONResponse({"message": failure.status.message}, status_code=404)
    return Response(orjson.dumps({"lastEventId": last, "running": running}), media_type="application/json")


async def _long_poll(rpc: Rpc, run: Run, after: int) -> tuple[int, bool]:
    """The last event ID once past ``after``, following the history with ``wait_new_event``."""
    token, last = b"", 0
    while True:
        page = await rpc(
            "GetWorkflowExecutionHistory",
            GetWorkflowExecutionHistoryRequest(
                namespace=run.namespace,
                execution=run.execution,
                maximum_page_size=HISTORY_PAGE,
                next_page_token=token,
                wait_new_event=True,
            ),
            GetWorkflowExecutionHistoryResponse,
            timeout=LIVE_POLL_SECONDS + 5,
        )
        if page.history.events:
            last = page.history.events[-1].event_id
        token = page.next_page_token
        if not token:  # the run has closed: everything it will ever have is read
            return last, False
        if last > after or (not page.history.events and last):
            return last, True
