"""Standalone activity RPCs: StartActivityExecution, Describe/Poll (long polls), List, Count,
RequestCancel, Terminate and Delete of activities that run without a workflow."""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.api.activity.v1 import ActivityExecutionListInfo
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api import standalone_calls as calls
from cadenza.api.errors import translated
from cadenza.api.lookups import search_attribute_rules
from cadenza.api.requests import check_blob
from cadenza.config import ServerConfig
from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import events as ev
from cadenza.history.machine import priorities, retry
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.standalone_sql import ACTIVITY_COLUMNS
from cadenza.standalone.activities import StandaloneActivities
from cadenza.standalone.machine import Run
from cadenza.visibility import attributes as attrs
from cadenza.visibility import filters, validation
from cadenza.visibility.query import parse


class StandaloneActivityRpcs:
    """Standalone activities, from start to delete."""

    def __init__(
        self, *, config: ServerConfig, namespaces: NamespaceRegistry, activities: StandaloneActivities
    ) -> None:
        self._config = config
        self._namespaces = namespaces
        self._activities = activities

    @translated
    async def StartActivityExecution(
        self, request: wsv1.StartActivityExecutionRequest, context: Any
    ) -> wsv1.StartActivityExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _check_start(request)
        priorities.validate(request.priority)
        check_blob(request.input.ByteSize(), self._config)
        validation.check(request.search_attributes, search_attribute_rules(namespace, self._config.limits))
        types = NamespaceRegistry.search_attribute_types(namespace)
        run_id, started = await self._activities.start(
            namespace.id,
            _new_run(request),
            request.request_id or str(uuid.uuid4()),
            request.id_reuse_policy,
            request.id_conflict_policy,
            calls.search_json(request.search_attributes, types),
            ev.seconds(request.start_delay),
        )
        response = wsv1.StartActivityExecutionResponse(run_id=run_id, started=started)
        link = response.link.activity
        link.namespace, link.activity_id, link.run_id = namespace.name, request.activity_id, run_id
        return response

    @translated
    async def DescribeActivityExecution(
        self, request: wsv1.DescribeActivityExecutionRequest, context: Any
    ) -> wsv1.DescribeActivityExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _require_run(request)
        wait = calls.wait_seconds(context, calls.DESCRIBE_LONG_POLL_SECONDS)
        run, token, transitions = await self._activities.describe(
            namespace.id, request.activity_id, request.run_id, request.long_poll_token, wait
        )
        response = wsv1.DescribeActivityExecutionResponse()
        response.CopyFrom(run)
        response.long_poll_token = token
        response.info.state_transition_count = transitions
        response.info.state_size_bytes = run.ByteSize()
        if not request.include_input:
            response.ClearField("input")
        if not request.include_outcome:
            response.ClearField("outcome")
        if not request.include_heartbeat_details:
            response.info.ClearField("heartbeat_details")
        if not request.include_last_failure:
            response.info.ClearField("last_failure")
        return response

    @translated
    async def PollActivityExecution(
        self, request: wsv1.PollActivityExecutionRequest, context: Any
    ) -> wsv1.PollActivityExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _require_run(request)
        wait = calls.wait_seconds(context, self._config.long_poll_seconds)
        run = await self._activities.outcome(namespace.id, request.activity_id, request.run_id, wait)
        response = wsv1.PollActivityExecutionResponse(run_id=run.run_id)
        if run.HasField("outcome"):
            response.outcome.CopyFrom(run.outcome)
        return response

    @translated
    async def ListActivityExecutions(
        self, request: wsv1.ListActivityExecutionsRequest, context: Any
    ) -> wsv1.ListActivityExecutionsResponse:
        namespace = await self._namespaces.get(request.namespace)
        types = NamespaceRegistry.search_attribute_types(namespace)
        query = filters.check(parse(request.query), types, built_in=ACTIVITY_COLUMNS, orderable=())
        limit = calls.page_limit(request.page_size)
        after = calls.page_after(request.next_page_token)
        runs = await self._activities.list_runs(namespace.id, query, types, limit, after)
        response = wsv1.ListActivityExecutionsResponse(
            executions=[_listed(run, transitions) for run, transitions, _ in runs]
        )
        if len(runs) == limit:  # the next page starts after this one's last run
            response.next_page_token = calls.page_token(runs[-1][2])
        return response

    @translated
    async def CountActivityExecutions(
        self, request: wsv1.CountActivityExecutionsRequest, context: Any
    ) -> wsv1.CountActivityExecutionsResponse:
        namespace = await self._namespaces.get(request.namespace)
        types = NamespaceRegistry.search_attribute_types(namespace)
        query = filters.check(parse(request.query), types, counting=True, built_in=ACTIVITY_COLUMNS)
        rows = await self._activities.count_runs(namespace.id, query, types)
        response = wsv1.CountActivityExecutionsResponse(count=sum(count for _, count in rows))
        if query.group_by:
            calls.add_groups(response.groups, calls.status_counts(rows, attrs.STATUS_BY_NUMBER))
        return response

    @translated
    async def RequestCancelActivityExecution(
        self, request: wsv1.RequestCancelActivityExecutionRequest, context: Any
    ) -> wsv1.RequestCancelActivityExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _require_run(request)
        await self._activities.request_cancel(
            namespace.id,
            request.activity_id,
            request.run_id,
            request.reason,
            request.identity,
            request.request_id or str(uuid.uuid4()),
        )
        return wsv1.RequestCancelActivityExecutionResponse()

    @translated
    async def TerminateActivityExecution(
        self, request: wsv1.TerminateActivityExecutionRequest, context: Any
    ) -> wsv1.TerminateActivityExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _require_run(request)
        await self._activities.terminate(
            namespace.id, request.activity_id, request.run_id, request.reason, request.identity
        )
        return wsv1.TerminateActivityExecutionResponse()

    @translated
    async def DeleteActivityExecution(
        self, request: wsv1.DeleteActivityExecutionRequest, context: Any
    ) -> wsv1.DeleteActivityExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _require_run(request)
        await self._activities.delete(namespace.id, request.activity_id, request.run_id)
        return wsv1.DeleteActivityExecutionResponse()


def sdk_of(context: Any) -> tuple[str, str]:
    """The SDK a worker's call names in its ``client-name`` and ``client-version`` metadata."""
    metadata = {
        key.lower(): value
        for key, value in (context.invocation_metadata() or ())
        if isinstance(value, str) and key.lower() in ("client-name", "client-version")
    }
    return metadata.get("client-name", ""), metadata.get("client-version", "")


def _require_id(activity_id: str) -> None:
    if not activity_id:
        raise InvalidArgumentError("activity ID is required")


def _require_run(request: Any) -> None:
    """The activity a request names: its ID, and its run's ID if it gives one."""
    _require_id(request.activity_id)
    calls.check_run_id(request.run_id)


def _check_start(request: wsv1.StartActivityExecutionRequest) -> None:
    _require_id(request.activity_id)
    if not request.task_queue.name:
        raise InvalidArgumentError("taskQueue is not set")
    if not request.activity_type.name:
        raise InvalidArgumentError("activityType is not set")
    for name in (
        "schedule_to_close_timeout",
        "schedule_to_start_timeout",
        "start_to_close_timeout",
        "heartbeat_timeout",
        "start_delay",
    ):
        if ev.seconds(getattr(request, name)) < 0:
            raise InvalidArgumentError(f"invalid {_camel(name)}: negative duration")
    if ev.seconds(request.schedule_to_close_timeout) <= 0 and ev.seconds(request.start_to_close_timeout) <= 0:
        raise InvalidArgumentError(
            "a valid StartToCloseTimeout or ScheduleToCloseTimeout must be set on the activity. "
            f"ActivityId={request.activity_id} ActivityType={request.activity_type.name}"
        )


def _camel(field: str) -> str:
    """A request field as Temporal's messages name it: ``StartDelay`` for ``start_delay``."""
    return "".join(word.capitalize() for word in field.split("_"))


def _new_run(request: wsv1.StartActivityExecutionRequest) -> Run:
    """The new run as the request asks for it, its timeouts filled in and capped as Temporal's are."""
    run = Run()
    info = run.info
    info.activity_id = request.activity_id
    info.activity_type.CopyFrom(request.activity_type)
    info.task_queue = request.task_queue.name
    to_close = ev.seconds(request.schedule_to_close_timeout)
    to_start = ev.seconds(request.schedule_to_start_timeout)
    start_to_close = ev.seconds(request.start_to_close_timeout)
    heartbeat = ev.seconds(request.heartbeat_timeout)
    if to_close > 0:
        to_start = min(to_start, to_close) if to_start > 0 else to_close
        start_to_close = min(start_to_close, to_close) if start_to_close > 0 else to_close
    heartbeat = min(heartbeat, start_to_close)
    for name, seconds in (
        ("schedule_to_close_timeout", to_close),
        ("schedule_to_start_timeout", to_start),
        ("start_to_close_timeout", start_to_close),
        ("heartbeat_timeout", heartbeat),
    ):
        if seconds > 0:
            getattr(info, name).CopyFrom(ev.duration(seconds))
        else:
            getattr(info, name).SetInParent()  # shown even when unset, as zero
    retry.to_proto(retry.from_proto(request.retry_policy), info.retry_policy)
    info.search_attributes.SetInParent()
    calls.copy_set_fields(
        request, info, ("header", "user_metadata", "priority", "search_attributes", "start_delay")
    )
    if request.HasField("input"):
        run.input.CopyFrom(request.input)
    info.links.extend(request.links)
    for callback in request.completion_callbacks:
        added = run.callbacks.add()
        added.trigger.activity_closed.SetInParent()
        added.info.callback.CopyFrom(callback)
        added.info.registration_time.GetCurrentTime()
        added.info.request_id = request.request_id
    return run


def _listed(run: Run, transitions: int) -> ActivityExecutionListInfo:
    info = run.info
    listed = ActivityExecutionListInfo(
        activity_id=info.activity_id,
        run_id=info.run_id,
        activity_type=info.activity_type,
        status=info.status,
        task_queue=info.task_queue,
        state_transition_count=transitions if info.HasField("close_time") else 0,
    )
    calls.copy_set_fields(
        info,
        listed,
        ("schedule_time", "close_time", "search_attributes", "execution_duration", "execution_time"),
    )
    return listed
