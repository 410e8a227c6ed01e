"""The workflow page's actions, each confirmed on the page and each an ordinary RPC: signal,
query, cancel, terminate. Refused (403) in read-only mode, and from pages of other sites."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.query.v1 import WorkflowQuery
from temporalio.api.workflowservice.v1 import (
    QueryWorkflowRequest,
    QueryWorkflowResponse,
    RequestCancelWorkflowExecutionRequest,
    RequestCancelWorkflowExecutionResponse,
    SignalWorkflowExecutionRequest,
    SignalWorkflowExecutionResponse,
    TerminateWorkflowExecutionRequest,
    TerminateWorkflowExecutionResponse,
)

from cadenza.web.ui import present
from cadenza.web.ui.rpc import CallFailed
from cadenza.web.ui.site import Site
from cadenza.web.ui.workflow import Run, workflow_page

IDENTITY = "cadenza-ui"
MAX_FORM_BYTES = 2 * 1024 * 1024


class BadForm(ValueError):
    """The form cannot be made into a request; nothing was called."""


async def confirmed_form(site: Site, request: Request) -> dict[str, str] | Response:
    """The posted form of an action that may be taken, or the page refusing it: read-only mode,
    another site's page, a form too large or not confirmed."""
    if site.options.read_only:
        return site.refused(request, 403, "Read-only", "this UI is read-only: actions are turned off")
    if not _same_origin(request):
        return site.refused(request, 403, "Forbidden", "actions are taken only from this server's pages")
    form = await _form(request)
    if form is None:
        return site.refused(request, 413, "Too Large", "the form is over 2 MB")
    if form.get("confirm") != "yes":
        return site.refused(request, 400, "Not Confirmed", "tick the box that confirms the action")
    return form


async def act(site: Site, request: Request) -> Response:
    action = request.path_params["action"]
    form = await confirmed_form(site, request)
    if isinstance(form, Response):
        return form
    run = Run.of(request)
    try:
        if action == "query":
            return await _query(site, request, run, form)
        done = await _act(site, run, action, form)
    except BadForm as error:
        return site.refused(request, 400, "Bad Request", str(error))
    except CallFailed as failure:
        return site.failed(request, failure)
    return RedirectResponse(f"{run.path}/history?{urlencode({'done': done})}", status_code=303)


def _same_origin(request: Request) -> bool:
    """Whether the browser says the form came from this server (a page of another site cannot
    post actions here); a client that sends no Origin (curl) is taken at its word."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def _form(request: Request) -> dict[str, str] | None:
    """The URL-encoded form the page posts (its fields, the first value of each); None when
    it is larger than ``MAX_FORM_BYTES``."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body.decode(errors="replace"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


def form_text(form: dict[str, str], name: str) -> str:
    return form.get(name, "").strip()


def form_payloads(form: dict[str, str]) -> Payloads | None:
    """The ``input`` field's JSON as one ``json/plain`` payload, as the SDKs' converters read it;
    None when the field is empty."""
    text = form_text(form, "input")
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise BadForm(f"input is not JSON: {error}") from error
    data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return Payloads(payloads=[Payload(metadata={"encoding": b"json/plain"}, data=data)])


async def _act(site: Site, run: Run, action: str, form: dict[str, str]) -> str:
    request_id = str(uuid.uuid4())
    if action == "signal":
        name = form_text(form, "name")
        if not name:
            raise BadForm("name the signal to send")
        signal = SignalWorkflowExecutionRequest(
            namespace=run.namespace,
            workflow_execution=run.execution,
            signal_name=name,
            identity=IDENTITY,
            request_id=request_id,
        )
        payloads = form_payloads(form)
        if payloads is not None:
            signal.input.CopyFrom(payloads)
        await site.rpc("SignalWorkflowExecution", signal, SignalWorkflowExecutionResponse)
        return f"signal {name} sent"
    if action == "cancel":
        cancel = RequestCancelWorkflowExecutionRequest(
            namespace=run.namespace,
            workflow_execution=run.execution,
            identity=IDENTITY,
            request_id=request_id,
        )
        await site.rpc("RequestCancelWorkflowExecution", cancel, RequestCancelWorkflowExecutionResponse)
        return "cancellation requested"
    if action == "terminate":
        terminate = TerminateWorkflowExecutionRequest(
            namespace=run.namespace,
            workflow_execution=run.execution,
            reason=form_text(form, "reason"),
            identity=IDENTITY,
        )
        await site.rpc("TerminateWorkflowExecution", terminate, TerminateWorkflowExecutionResponse)
        return "terminated"
    raise BadForm(f"no action {action!r}: expected signal, query, update, reset, cancel or terminate")


async def _query(site: Site, request: Request, run: Run, form: dict[str, str]) -> Response:
    name = form_text(form, "name")
    if not name:
        raise BadForm("name the query to run")
    query = WorkflowQuery(query_type=name)
    payloads = form_payloads(form)
    if payloads is not None:
        query.query_args.CopyFrom(payloads)
    answer = await site.rpc(
        "QueryWorkflow",
        QueryWorkflowRequest(namespace=run.namespace, execution=run.execution, query=query),
        QueryWorkflowResponse,
    )
    if answer.HasField("query_rejected"):
        return await workflow_page(site, request, notice=f"query {name} rejected")
    shown = present.shown_payloads(answer.query_result)
    result = "\n".join(item.decoded for item in shown) or "(no result)"
    return await workflow_page(site, request, notice=f"query {name} answered: {result}")
