"""RPCs of Temporal's Schedule API: create, describe, update, patch, delete, list, count, matching times."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.api.common.v1 import SearchAttributes
from temporalio.api.schedule.v1 import (
    Schedule,
    ScheduleListEntry,
    ScheduleListInfo,
    SchedulePatch,
)
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.api.lookups import search_attribute_rules
from cadenza.api.page_tokens import offset_of, token_for
from cadenza.api.requests import check_blob
from cadenza.config import ServerConfig
from cadenza.exceptions import InvalidArgumentError
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import NamespaceRecord
from cadenza.protoutil import present, seconds
from cadenza.schedules import scheduler
from cadenza.schedules.cron import SpecError
from cadenza.schedules.record import ScheduleRecord
from cadenza.schedules.service import ScheduleService
from cadenza.validation import timestamp_problem
from cadenza.visibility import attributes as attrs
from cadenza.visibility import filters, validation
from cadenza.visibility import query as q

DEFAULT_PAGE_SIZE = 1000
LIST_ACTIONS = 5
_FILTERABLE_SYSTEM = {"ScheduleId", "TemporalSchedulePaused"}


class ScheduleRpcs:
    """Schedules, served natively by ``cadenza.schedules``."""

    def __init__(
        self, *, config: ServerConfig, namespaces: NamespaceRegistry, schedules: ScheduleService
    ) -> None:
        self._config = config
        self._namespaces = namespaces
        self._schedules = schedules

    @translated
    async def CreateSchedule(
        self, request: wsv1.CreateScheduleRequest, context: Any
    ) -> wsv1.CreateScheduleResponse:
        namespace = await self._namespaces.get(request.namespace)
        if not request.schedule_id:
            raise InvalidArgumentError("Can't load workflow execution.  WorkflowId not set.")
        self._check_schedule(namespace, request.schedule, request.search_attributes)
        if request.memo.ByteSize() > self._config.limits.memo_size_error:
            raise InvalidArgumentError("Memo size exceeds limit.")
        _check_patch_times(request.initial_patch)
        check_blob(request.schedule.ByteSize() + request.initial_patch.ByteSize(), self._config)
        with _spec_errors():
            token = await self._schedules.create(
                namespace,
                request.schedule_id,
                request.schedule,
                present(request, "initial_patch"),
                request.memo,
                request.search_attributes,
                request.request_id,
            )
        return wsv1.CreateScheduleResponse(conflict_token=_token(token))

    @translated
    async def DescribeSchedule(
        self, request: wsv1.DescribeScheduleRequest, context: Any
    ) -> wsv1.DescribeScheduleResponse:
        namespace = await self._namespaces.get(request.namespace)
        loaded = await self._schedules.describe(namespace, request.schedule_id)
        record = loaded.record
        response = wsv1.DescribeScheduleResponse(
            schedule=record.schedule,
            info=record.info,
            memo=record.memo,
            search_attributes=record.search_attributes,
            conflict_token=_token(record.conflict_token),
        )
        response.info.buffer_size = len(record.buffer)
        for t in self._schedules.future_times(record, scheduler.FUTURE_ACTIONS):
            response.info.future_action_times.append(scheduler.timestamp(t))
        return response

    @translated
    async def UpdateSchedule(
        self, request: wsv1.UpdateScheduleRequest, context: Any
    ) -> wsv1.UpdateScheduleResponse:
        namespace = await self._namespaces.get(request.namespace)
        search = present(request, "search_attributes")
        self._check_schedule(namespace, request.schedule, search)
        check_blob(request.schedule.ByteSize(), self._config)
        with _spec_errors():
            await self._schedules.update(
                namespace, request.schedule_id, request.schedule, _token_value(request.conflict_token), search
            )
        return wsv1.UpdateScheduleResponse()

    @translated
    async def PatchSchedule(
        self, request: wsv1.PatchScheduleRequest, context: Any
    ) -> wsv1.PatchScheduleResponse:
        namespace = await self._namespaces.get(request.namespace)
        if not request.HasField("patch"):
            raise InvalidArgumentError("Patch is not set on request.")
        _check_patch_times(request.patch)
        await self._schedules.patch(namespace, request.schedule_id, request.patch)
        return wsv1.PatchScheduleResponse()

    @translated
    async def DeleteSchedule(
        self, request: wsv1.DeleteScheduleRequest, context: Any
    ) -> wsv1.DeleteScheduleResponse:
        namespace = await self._namespaces.get(request.namespace)
        await self._schedules.delete(namespace, request.schedule_id)
        return wsv1.DeleteScheduleResponse()

    @translated
    async def ListSchedules(
        self, request: wsv1.ListSchedulesRequest, context: Any
    ) -> wsv1.ListSchedulesResponse:
        namespace = await self._namespaces.get(request.namespace)
        parsed = _schedule_query(namespace, request.query)
        limit = request.maximum_page_size or DEFAULT_PAGE_SIZE
        offset = offset_of(request.next_page_token)
        rows = await self._schedules.search(namespace, parsed, limit, offset)
        response = wsv1.ListSchedulesResponse()
        for record in rows:
            response.schedules.append(self._list_entry(record))
            # Each entry's future times cost up to a spec's candidate budget: let other
            # requests in between, so a page of heavy specs never stalls the server.
            await asyncio.sleep(0)
        if len(rows) == limit:
            response.next_page_token = token_for(offset + limit)
        return response

    @translated
    async def CountSchedules(
        self, request: wsv1.CountSchedulesRequest, context: Any
    ) -> wsv1.CountSchedulesResponse:
        namespace = await self._namespaces.get(request.namespace)
        parsed = _schedule_query(namespace, request.query)
        return wsv1.CountSchedulesResponse(count=await self._schedules.count(namespace, parsed))

    @translated
    async def ListScheduleMatchingTimes(
        self, request: wsv1.ListScheduleMatchingTimesRequest, context: Any
    ) -> wsv1.ListScheduleMatchingTimesResponse:
        namespace = await self._namespaces.get(request.namespace)
        if not request.HasField("start_time") or not request.HasField("end_time"):
            raise InvalidArgumentError("missing or invalid query")
        loaded = await self._schedules.describe(namespace, request.schedule_id)
        # Up to a thousand calendar walks: done off the event loop, which keeps serving.
        times = await asyncio.to_thread(
            self._schedules.matching_times,
            loaded.record,
            seconds(request.start_time),
            seconds(request.end_time),
        )
        response = wsv1.ListScheduleMatchingTimesResponse()
        response.start_time.extend(scheduler.timestamp(t) for t in times)
        return response

    def _check_schedule(
        self, namespace: NamespaceRecord, schedule: Schedule, search: SearchAttributes | None
    ) -> None:
        """The schedule's own search attributes and its action's, as a start checks them."""
        rules = search_attribute_rules(namespace, self._config.limits)
        action = schedule.action.start_workflow
        validation.check(action.search_attributes, rules)
        # Temporal checks the action's memo as one more payload of the start it will make.
        if action.memo.ByteSize() > self._config.limits.blob_size_error:
            raise InvalidArgumentError("Blob data size exceeds limit.")
        if search is not None:
            validation.check(search, rules)

    def _list_entry(self, record: ScheduleRecord) -> ScheduleListEntry:
        spec = record.schedule.spec
        info = ScheduleListInfo(
            workflow_type=record.schedule.action.start_workflow.workflow_type,
            notes=record.schedule.state.notes,
            paused=record.schedule.state.paused,
        )
        info.spec.CopyFrom(spec)
        info.spec.ClearField("timezone_data")
        info.recent_actions.extend(record.info.recent_actions[-LIST_ACTIONS:])
        info.future_action_times.extend(
            scheduler.timestamp(t) for t in self._schedules.future_times(record, LIST_ACTIONS)
        )
        return ScheduleListEntry(
            schedule_id=record.schedule_id,
            memo=record.memo,
            search_attributes=record.search_attributes,
            info=info,
        )


class _spec_errors:
    """Turns a spec Temporal would refuse into its InvalidArgument message."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        if isinstance(error, SpecError):
            raise InvalidArgumentError(f"Invalid schedule spec: {error}") from error


def _check_patch_times(patch: SchedulePatch) -> None:
    """Refuse times no Timestamp can hold: they could be neither computed with nor shown."""
    stamps = [("trigger_immediately.scheduled_time", patch.trigger_immediately.scheduled_time)]
    for request in patch.backfill_request:
        stamps += [
            ("backfill_request.start_time", request.start_time),
            ("backfill_request.end_time", request.end_time),
        ]
    for name, stamp in stamps:
        problem = timestamp_problem(stamp)
        if problem:
            raise InvalidArgumentError(f"Invalid schedule patch: {name} is not valid: {problem}")


def _schedule_query(namespace: NamespaceRecord, text: str) -> q.Query:
    parsed = q.parse(text)
    custom = NamespaceRegistry.search_attribute_types(namespace)
    for name in _names(parsed.where):
        if name not in _FILTERABLE_SYSTEM and name not in custom:
            raise InvalidArgumentError(f'invalid query filter for schedules: cannot filter on "{name}"')
    if parsed.order_by or parsed.group_by:
        raise InvalidArgumentError(
            "invalid query filter for schedules: ORDER BY and GROUP BY are not supported"
        )
    return filters.check(parsed, custom, built_in=attrs.SCHEDULE_BUILT_IN)


def _names(node: q.Expr | None) -> list[str]:
    if node is None:
        return []
    if isinstance(node, q.BoolOp):
        return [name for operand in node.operands for name in _names(operand)]
    if isinstance(node, q.Not):
        return _names(node.operand)
    return [node.name]


def _token(value: int) -> bytes:
    return value.to_bytes(8, "big")


def _token_value(data: bytes) -> int:
    return int.from_bytes(data, "big") if len(data) == 8 else 0
