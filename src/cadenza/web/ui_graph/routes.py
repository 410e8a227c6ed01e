"""The graph and timeline pages of a run: its history read through the same call as
``GET /api/v1/.../history`` (the servicer's GetWorkflowExecutionHistory), drawn on the server."""

from __future__ import annotations

from collections.abc import Callable

import jinja2
from google.rpc import code_pb2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import request_response_pb2, service_pb2

from cadenza.api.http_calls import CallFailed, HttpCallContext, HttpCalls
from cadenza.web.ui_graph.graph_svg import graph_svg
from cadenza.web.ui_graph.timeline_svg import timeline_svg

MAX_PAGES = 100
"""History pages read for one drawing: past Temporal's 51,200-event limit at the server's page size."""

_HISTORY = service_pb2.DESCRIPTOR.services_by_name["WorkflowService"].methods_by_name[
    "GetWorkflowExecutionHistory"
]
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("cadenza.web.ui_graph", "templates"), autoescape=True
)
_HTTP_STATUS = {
    code_pb2.NOT_FOUND: 404,
    code_pb2.INVALID_ARGUMENT: 400,
    code_pb2.PERMISSION_DENIED: 403,
    code_pb2.UNAUTHENTICATED: 401,
    code_pb2.UNAVAILABLE: 503,
    code_pb2.DEADLINE_EXCEEDED: 504,
}
"""The HTTP status of a page whose call failed, by gRPC code (500 for any other)."""
_DESCRIBE = service_pb2.DESCRIPTOR.services_by_name["WorkflowService"].methods_by_name[
    "DescribeWorkflowExecution"
]
_CLOSES = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)
_Draw = Callable[[list[HistoryEvent], str, list[PendingActivityInfo]], str]
_VIEWS: dict[str, tuple[str, _Draw]] = {
    "graph": ("Graph", graph_svg),
    "timeline": ("Timeline", timeline_svg),
}


def drawing_routes(calls: HttpCalls) -> list[Route]:
    """``/namespaces/{ns}/workflows/{workflow_id}/{run_id}/graph`` and ``.../timeline``.

    A workflow ID may hold slashes, so it is matched as a path up to the last two segments."""

    async def page(request: Request) -> HTMLResponse:
        params = request.path_params
        view = request.url.path.rsplit("/", 1)[-1]
        title, draw = _VIEWS[view]
        context = {
            "title": title,
            "view": view,
            "namespace": params["namespace"],
            "workflow_id": params["workflow_id"],
            "run_id": params["run_id"],
            "drawing": "",
            "error": None,
        }
        status = 200
        try:
            execution = WorkflowExecution(workflow_id=params["workflow_id"], run_id=params["run_id"])
            events = await history(calls, params["namespace"], execution)
            pending = await pending_activities(calls, params["namespace"], execution, events)
            context["drawing"] = draw(events, params["namespace"], pending)
        except CallFailed as failed:
            status = _HTTP_STATUS.get(failed.status.code, 500)
            context["error"] = failed.status.message
        body = _TEMPLATES.get_template("drawing.html").render(context)
        return HTMLResponse(body, status_code=status)

    base = "/namespaces/{namespace}/workflows/{workflow_id:path}/{run_id}"
    return [Route(f"{base}/{view}", page, methods=["GET"], name=f"workflow-{view}") for view in _VIEWS]


async def history(calls: HttpCalls, namespace: str, execution: WorkflowExecution) -> list[HistoryEvent]:
    """Every event of the run, page after page; ``CallFailed`` as the RPC answers it."""
    events: list[HistoryEvent] = []
    token = b""
    for _ in range(MAX_PAGES):
        request = request_response_pb2.GetWorkflowExecutionHistoryRequest(
            namespace=namespace, execution=execution, next_page_token=token
        )
        response = await calls.call(_HISTORY, request, HttpCallContext(timeout=30.0))
        assert isinstance(response, request_response_pb2.GetWorkflowExecutionHistoryResponse)
        events.extend(response.history.events)
        token = response.next_page_token
        if not token:
            break
    return events


async def pending_activities(
    calls: HttpCalls, namespace: str, execution: WorkflowExecution, events: list[HistoryEvent]
) -> list[PendingActivityInfo]:
    """The open run's pending activities, as DescribeWorkflowExecution tells them; none once closed."""
    if not events or events[-1].event_type in _CLOSES:
        return []
    request = request_response_pb2.DescribeWorkflowExecutionRequest(namespace=namespace, execution=execution)
    response = await calls.call(_DESCRIBE, request, HttpCallContext(timeout=30.0))
    assert isinstance(response, request_response_pb2.DescribeWorkflowExecutionResponse)
    return list(response.pending_activities)
