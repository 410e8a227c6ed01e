"""More actions, each confirmed and each an ordinary RPC: update a run (its outcome shown), reset
it to a workflow task (the new run opened), and start a new workflow from the list page. Refused
as the other actions are (``actions.confirmed_form``)."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from temporalio.api.common.v1 import WorkflowType
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.update.v1 import Input, Meta, WaitPolicy
from temporalio.api.update.v1 import Request as UpdateRequest
from temporalio.api.workflowservice.v1 import (
    ResetWorkflowExecutionRequest,
    ResetWorkflowExecutionResponse,
    StartWorkflowExecutionRequest,
    StartWorkflowExecutionResponse,
    UpdateWorkflowExecutionRequest,
    UpdateWorkflowExecutionResponse,
)

from cadenza.web.ui import present
from cadenza.web.ui.actions import IDENTITY, BadForm, confirmed_form, form_payloads, form_text
from cadenza.web.ui.rpc import CallFailed
from cadenza.web.ui.site import Site
from cadenza.web.ui.workflow import Run, workflow_page

UPDATE_SECONDS = 30.0
"""How long the page waits for an update to complete before saying it is still under way."""
_COMPLETED = UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED


async def update(site: Site, request: Request) -> Response:
    form = await confirmed_form(site, request)
    if isinstance(form, Response):
        return form
    run = Run.of(request)
    try:
        notice = await _update(site, run, form)
    except BadForm as error:
        return site.refused(request, 400, "Bad Request", str(error))
    except CallFailed as failure:
        return site.failed(request, failure)
    return await workflow_page(site, request, notice=notice)


async def _update(site: Site, run: Run, form: dict[str, str]) -> str:
    name = form_text(form, "name")
    if not name:
        raise BadForm("name the update to send")
    update_input = Input(name=name)
    payloads = form_payloads(form)
    if payloads is not None:
        update_input.args.CopyFrom(payloads)
    answer = await site.rpc(
        "UpdateWorkflowExecution",
        UpdateWorkflowExecutionRequest(
            namespace=run.namespace,
            workflow_execution=run.execution,
            wait_policy=WaitPolicy(lifecycle_stage=_COMPLETED),
            request=UpdateRequest(
                meta=Meta(update_id=str(uuid.uuid4()), identity=IDENTITY), input=update_input
            ),
        ),
        UpdateWorkflowExecutionResponse,
        timeout=UPDATE_SECONDS,
    )
    outcome = answer.outcome
    if outcome.HasField("failure"):
        return f"update {name} failed: {outcome.failure.message}"
    if outcome.HasField("success"):
        result = "\n".join(item.decoded for item in present.shown_payloads(outcome.success))
        return f"update {name} completed: {result or '(no result)'}"
    return f"update {name} accepted; it has not completed yet"


async def reset(site: Site, request: Request) -> Response:
    form = await confirmed_form(site, request)
    if isinstance(form, Response):
        return form
    run = Run.of(request)
    try:
        event_id = _event_id(form)
        answer = await site.rpc(
            "ResetWorkflowExecution",
            ResetWorkflowExecutionRequest(
                namespace=run.namespace,
                workflow_execution=run.execution,
                reason=form_text(form, "reason") or "reset from the web UI",
                workflow_task_finish_event_id=event_id,
                request_id=str(uuid.uuid4()),
                identity=IDENTITY,
            ),
            ResetWorkflowExecutionResponse,
        )
    except BadForm as error:
        return site.refused(request, 400, "Bad Request", str(error))
    except CallFailed as failure:
        return site.failed(request, failure)
    new_run = Run(run.namespace, run.workflow_id, answer.run_id)
    done = f"reset run {run.run_id} to event {event_id}: this is the new run"
    return RedirectResponse(f"{new_run.path}/history?{urlencode({'done': done})}", status_code=303)


def _event_id(form: dict[str, str]) -> int:
    text = form_text(form, "event_id")
    try:
        event_id = int(text)
    except ValueError:
        raise BadForm(f"choose the workflow task to reset to (an event ID), not {text!r}") from None
    if event_id < 1:
        raise BadForm("choose the workflow task to reset to (an event ID)")
    return event_id


async def start(site: Site, request: Request) -> Response:
    """``POST /namespaces/{namespace}/start-workflow``: a new workflow from the list page's form."""
    form = await confirmed_form(site, request)
    if isinstance(form, Response):
        return form
    namespace = request.path_params["namespace"]
    try:
        started = _start_request(namespace, form)
        answer = await site.rpc("StartWorkflowExecution", started, StartWorkflowExecutionResponse)
    except BadForm as error:
        return site.refused(request, 400, "Bad Request", str(error))
    except CallFailed as failure:
        return site.failed(request, failure)
    new_run = Run(namespace, started.workflow_id, answer.run_id)
    done = f"started {started.workflow_type.name}"
    return RedirectResponse(f"{new_run.path}/history?{urlencode({'done': done})}", status_code=303)


def _start_request(namespace: str, form: dict[str, str]) -> StartWorkflowExecutionRequest:
    missing = [
        label for label in ("workflow_type", "workflow_id", "task_queue") if not form_text(form, label)
    ]
    if missing:
        raise BadForm(f"fill in {', '.join(name.replace('_', ' ') for name in missing)}")
    started = StartWorkflowExecutionRequest(
        namespace=namespace,
        workflow_id=form_text(form, "workflow_id"),
        workflow_type=WorkflowType(name=form_text(form, "workflow_type")),
        task_queue=TaskQueue(name=form_text(form, "task_queue")),
        identity=IDENTITY,
        request_id=str(uuid.uuid4()),
    )
    payloads = form_payloads(form)
    if payloads is not None:
        started.input.CopyFrom(payloads)
    return started
