"""The UI's routes on the HTTP port, at the paths of Temporal's UI.

``/namespaces/{namespace}/workflows`` is also a path of Temporal's HTTP API
(ListWorkflowExecutions' second binding): a browser, which asks for HTML, gets the
page; any other client gets the API's JSON as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from cadenza.api.audit_calls import AuditCalls
from cadenza.api.http_calls import HttpCalls
from cadenza.web.ui import (
    actions,
    login,
    namespaces,
    run_actions,
    run_tabs,
    saved_views,
    schedule_actions,
    schedules,
    task_queues,
    workflow,
    workflows,
)
from cadenza.web.ui.audit import audit_page
from cadenza.web.ui.rpc import Rpc
from cadenza.web.ui.site import STATIC_DIR, Site, UiOptions
from cadenza.web.ui.view_store import SavedViews

Page = Callable[[Site, Request], Awaitable[Response]]

RUN = "/namespaces/{namespace}/workflows/{workflow_id:path}/{run_id}"
"""A run's pages; a workflow ID may hold slashes, so it is matched up to the last two segments."""
BARE_RUN = "/namespaces/{namespace}/workflows/{workflow_id:path}/{run_id:uuid}"
"""A run's URL without a tab. Its run ID must look like one (run IDs are UUIDs) so that it never
takes a tab's URL, whose last segment is the tab's name, for a run's."""
SCHEDULES = "/namespaces/{namespace}/schedules"


def ui_routes(
    calls: HttpCalls, api: ASGIApp, options: UiOptions, views: SavedViews, audit: AuditCalls | None = None
) -> list[BaseRoute]:
    """The pages, their actions and static files; ``api`` answers non-browser requests on the
    paths the UI shares with Temporal's HTTP API; ``views`` keeps the list's saved views;
    ``audit`` reads the audit log's page."""
    site = Site(Rpc(calls), options, views)

    def page(handler: Page) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await handler(site, request)

        return endpoint

    async def home(request: Request) -> Response:
        return RedirectResponse(f"/namespaces/{options.default_namespace}/workflows", status_code=302)

    return [
        Route("/", home),
        Route("/login", page(login.show_sign_in), methods=["GET"]),
        Route("/login", page(login.sign_in), methods=["POST"]),
        Route("/logout", page(login.sign_out), methods=["POST"]),
        Route("/namespaces", page(namespaces.namespace_list)),
        Route("/namespaces/{namespace}", page(namespaces.namespace_detail)),
        Route("/namespaces/{namespace}/workflows", _ForBrowsers(page(workflows.workflow_list), api)),
        Route("/namespaces/{namespace}/workflows.{kind}", page(workflows.workflow_export)),
        Route(BARE_RUN, _ForBrowsers(_to_history_tab, api)),
        Route(f"{RUN}/history", page(workflow.workflow_page)),
        Route(f"{RUN}/history.json", page(workflow.history_json)),
        Route(f"{RUN}/wait", page(workflow.wait_for_news)),
        Route(f"{RUN}/pending-activities", page(run_tabs.pending_activities_page)),
        Route(f"{RUN}/call-stack", page(run_tabs.call_stack_page)),
        Route(f"{RUN}/relationships", page(run_tabs.relationships_page)),
        Route(f"{RUN}/actions/update", page(run_actions.update), methods=["POST"]),
        Route(f"{RUN}/actions/reset", page(run_actions.reset), methods=["POST"]),
        Route(f"{RUN}/actions/{{action}}", page(actions.act), methods=["POST"]),
        Route("/namespaces/{namespace}/saved-views", page(saved_views.save), methods=["POST"]),
        Route(
            "/namespaces/{namespace}/saved-views/{name:path}/delete",
            page(saved_views.delete),
            methods=["POST"],
        ),
        Route("/namespaces/{namespace}/start-workflow", page(run_actions.start), methods=["POST"]),
        Route(SCHEDULES, _ForBrowsers(page(schedules.schedule_list), api)),
        Route(f"{SCHEDULES}/{{schedule_id}}", _ForBrowsers(page(schedules.schedule_detail), api)),
        Route(
            f"{SCHEDULES}/{{schedule_id}}/actions/{{action}}",
            page(schedule_actions.act_on_schedule),
            methods=["POST"],
        ),
        Route(
            "/namespaces/{namespace}/task-queues/{task_queue}",
            _ForBrowsers(page(task_queues.task_queue_page), api),
        ),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        *([Route("/namespaces/{namespace}/audit", _audit_page(site, audit))] if audit is not None else []),
    ]


async def _to_history_tab(request: Request) -> Response:
    """A run's bare URL opens its history, as Temporal's UI does; the path is kept as the browser
    sent it (still percent-encoded), so a workflow ID with odd characters survives the trip."""
    sent = request.scope.get("raw_path") or request.url.path.encode()
    return RedirectResponse(f"{sent.decode('latin-1')}/history", status_code=302)


def _audit_page(site: Site, audit: AuditCalls) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await audit_page(site, audit, request)

    return endpoint


class _ForBrowsers:
    """The page for a request that accepts HTML, ``api`` for every other."""

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]], api: ASGIApp) -> None:
        self._endpoint = endpoint
        self._api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        wants_page = request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")
        if not wants_page:
            await self._api(scope, receive, send)
            return
        response = await self._endpoint(request)
        await response(scope, receive, send)
