"""Reading executions: history pages, long polls for new events, and descriptions."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf.internal.containers import MessageMap
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Memo, Payload, SearchAttributes, WorkflowExecution, WorkflowType
from temporalio.api.enums.v1 import (
    EventType,
    HistoryEventFilterType,
    PendingActivityState,
    PendingWorkflowTaskState,
)
from temporalio.api.history.v1 import History, HistoryEvent, WorkflowExecutionStartedEventAttributes
from temporalio.api.workflow.v1 import (
    PendingActivityInfo,
    PendingWorkflowTaskInfo,
    WorkflowExecutionConfig,
    WorkflowExecutionExtendedInfo,
    WorkflowExecutionInfo,
)
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionResponse,
    GetWorkflowExecutionHistoryResponse,
)

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import activity_ops, priorities, versioning, visibility_fields
from cadenza.history.machine import events as ev
from cadenza.history.machine.encoded import decode_blob
from cadenza.history.machine.state import Activity, MutableState
from cadenza.history.service import HistoryService, nexus_descriptions, wire
from cadenza.history.service.cache import Entry
from cadenza.history.service.event_log import EventLog
from cadenza.persistence.records import NO_PRIORITY, ExecutionKey

DEFAULT_PAGE_SIZE = 1000
GO_ZERO_TIME_SECONDS = -62135596800
"""0001-01-01T00:00:00Z, the time Temporal shows where a deadline is unset."""
MAX_PAGE_BYTES = 2 * 1024 * 1024
_HISTORY_FIELD = GetWorkflowExecutionHistoryResponse.DESCRIPTOR.fields_by_name["history"].number


@dataclass(frozen=True)
class HistoryPage:
    entries: list[bytes]
    """The page's events as stored, each an entry of a serialized ``History``."""
    next_page_token: bytes

    @property
    def events(self) -> list[HistoryEvent]:
        return list(History.FromString(b"".join(self.entries)).events)

    def response_bytes(self) -> bytes:
        """The serialized GetWorkflowExecutionHistoryResponse carrying this page."""
        response = GetWorkflowExecutionHistoryResponse(next_page_token=self.next_page_token)
        return wire.with_field(response.SerializeToString(), _HISTORY_FIELD, self.entries)


class HistoryReader:
    """Serves GetWorkflowExecutionHistory and DescribeWorkflowExecution."""

    def __init__(self, history: HistoryService, long_poll_seconds: float) -> None:
        self._history = history
        self._long_poll = long_poll_seconds

    async def page(
        self,
        key: ExecutionKey,
        *,
        page_size: int,
        token: bytes,
        wait_new_event: bool,
        filter_type: int,
        deadline: float,
    ) -> HistoryPage:
        """One page of history from the token's position, waiting for news if asked."""
        entry = await self._history.load_committed(key)
        first = _token_position(token, entry.state.run_id)
        wait_until = min(time.monotonic() + self._long_poll, deadline)
        close_only = filter_type == HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT
        while True:
            if close_only and (entry.state.paused or not entry.state.running):
                # Temporal takes a paused run for a closed one here: its last event is answered.
                last = entry.state.close_event_id or entry.state.next_event_id - 1
                close = await self._history.cache.event_entry(entry, last)
                return HistoryPage([close], b"")
            if not close_only:
                history = await self._history.cache.history(entry)
                if len(history) >= first or not wait_new_event or not entry.state.running:
                    return _slice(
                        history,
                        first,
                        page_size or DEFAULT_PAGE_SIZE,
                        follow=wait_new_event and entry.state.running,
                        run_id=entry.state.run_id,
                    )
            remaining = wait_until - time.monotonic()
            if remaining <= 0 or not await entry.wait_changed(remaining):
                return HistoryPage([], _make_token(first, entry.state.run_id))
            entry = await self._history.load_committed(key)

    async def describe(self, key: ExecutionKey) -> DescribeWorkflowExecutionResponse:
        while True:
            entry = await self._history.load_committed(key)
            if entry.events is not None:  # so describing it awaits nothing a change could use
                return await self._describe(entry)
            await self._history.cache.history(entry)

    async def _describe(self, entry: Entry) -> DescribeWorkflowExecutionResponse:
        s = entry.state
        history = await self._history.cache.history(entry)
        memo = current_memo(history)
        # The state's: typed as given, and with the attributes the server sets (BuildIds).
        search_attributes = visibility_fields.current_search_attributes(s)
        response = DescribeWorkflowExecutionResponse(
            execution_config=WorkflowExecutionConfig(
                task_queue=ev.task_queue(s.task_queue),
                default_workflow_task_timeout=ev.duration(s.workflow_task_timeout),
            ),
            workflow_execution_info=_execution_info(s, memo, search_attributes),
            workflow_extended_info=_extended_info(s, history[0]),
        )
        started = history[0].workflow_execution_started_event_attributes
        if started.HasField("priority") or s.priority != NO_PRIORITY:  # the start's, or as updated since
            priorities.to_proto(s.priority, response.workflow_execution_info.priority)
        if s.versioning:
            response.workflow_execution_info.versioning_info.CopyFrom(versioning.info(s))
        if history[0].HasField("user_metadata"):  # the start's static summary and details
            response.execution_config.user_metadata.CopyFrom(history[0].user_metadata)
        if s.execution_timeout:
            response.execution_config.workflow_execution_timeout.CopyFrom(ev.duration(s.execution_timeout))
        if s.run_timeout:
            response.execution_config.workflow_run_timeout.CopyFrom(ev.duration(s.run_timeout))
        for activity in s.activities.values():
            response.pending_activities.append(_pending_activity(activity))
        for child in s.children.values():  # run ID empty until the child has started
            response.pending_children.add(
                workflow_id=child.workflow_id,
                run_id=child.run_id,
                workflow_type_name=child.workflow_type,
                initiated_id=child.initiated_event_id,
                parent_close_policy=child.parent_close_policy,
            )
        if s.workflow_task is not None:
            response.pending_workflow_task.CopyFrom(_pending_workflow_task(s))
        for operation in s.nexus_operations.values():
            response.pending_nexus_operations.append(nexus_descriptions.pending_operation(operation, history))
        response.callbacks.extend(nexus_descriptions.callbacks(s))
        return response


def current_memo(history: Sequence[HistoryEvent]) -> Memo:
    """The start's memo with every later upsert applied.

    An upserted value encoded as ``binary/null`` removes the key, as in Temporal.
    """
    memo = Memo()
    memo.CopyFrom(history[0].workflow_execution_started_event_attributes.memo)
    for event in history:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
            _merge(memo.fields, event.workflow_properties_modified_event_attributes.upserted_memo.fields)
    return memo


def _merge(target: MessageMap[str, Payload], upsert: MessageMap[str, Payload]) -> None:
    for key, payload in upsert.items():
        if payload.metadata.get("encoding") == b"binary/null":
            target.pop(key, None)
        else:
            target[key].CopyFrom(payload)


def _execution_info(
    state: MutableState, memo: Memo, search_attributes: SearchAttributes
) -> WorkflowExecutionInfo:
    info = WorkflowExecutionInfo(
        execution=WorkflowExecution(workflow_id=state.workflow_id, run_id=state.run_id),
        type=WorkflowType(name=state.workflow_type),
        status=visibility_fields.shown_status(state),  # type: ignore[arg-type]
        history_length=state.next_event_id - 1,
        task_queue=state.task_queue,
        history_size_bytes=state.history_size,
        first_run_id=state.first_execution_run_id or state.run_id,
        memo=memo,
        search_attributes=search_attributes,
        state_transition_count=state.state_transitions,
    )
    info.start_time.CopyFrom(ev.timestamp(state.start_time))
    info.execution_time.CopyFrom(ev.timestamp(state.execution_time or state.start_time))
    if state.close_time:
        info.close_time.CopyFrom(ev.timestamp(state.close_time))
        # From when the run could first execute (after any start delay), as Temporal counts.
        info.execution_duration.CopyFrom(
            ev.between(state.execution_time or state.start_time, state.close_time)
        )
    info.root_execution.workflow_id, info.root_execution.run_id = state.root
    if state.parent is not None:
        info.parent_execution.workflow_id = state.parent.workflow_id
        info.parent_execution.run_id = state.parent.run_id
        info.parent_namespace_id = state.parent.namespace_id
    return info


def _extended_info(state: MutableState, started: HistoryEvent) -> WorkflowExecutionExtendedInfo:
    """Deadlines, the original start, cancellation, resets and the requests recorded in the run."""
    attrs = started.workflow_execution_started_event_attributes
    info = WorkflowExecutionExtendedInfo(cancel_requested=state.cancel_requested)
    if state.last_reset_time and state.execution_deadline:  # from the reset, not the copied start
        info.execution_expiration_time.CopyFrom(ev.timestamp(state.execution_deadline))
    elif attrs.HasField("workflow_execution_expiration_time"):
        info.execution_expiration_time.CopyFrom(attrs.workflow_execution_expiration_time)
    info.run_expiration_time.CopyFrom(_run_expiration(state, attrs))
    info.original_start_time.CopyFrom(started.event_time)
    info.reset_run_id = state.reset_run_id
    if state.last_reset_time:
        info.last_reset_time.CopyFrom(ev.timestamp(state.last_reset_time))
    if state.paused_time:  # shown once it closes too, as Temporal does
        info.pause_info.identity = state.pause.get("identity", "")
        info.pause_info.reason = state.pause.get("reason", "")
        info.pause_info.paused_time.CopyFrom(ev.timestamp(state.paused_time))
    if state.start_request_id:
        recorded = info.request_id_infos[state.start_request_id]
        recorded.event_type = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
        recorded.event_id = started.event_id
    return info


def _run_expiration(state: MutableState, attrs: WorkflowExecutionStartedEventAttributes) -> Timestamp:
    """When the run times out: its run timeout after any start delay, capped by the execution's.

    A run without a timeout has Go's zero time here (year 1), as Temporal answers.
    """
    if not state.run_timeout:
        return Timestamp(seconds=GO_ZERO_TIME_SECONDS)
    # A reset's run starts at once: the start delay its copied start event names has passed.
    backoff = 0.0 if state.last_reset_time else ev.seconds(attrs.first_workflow_task_backoff)
    expires = state.start_time + state.run_timeout + backoff
    if state.execution_deadline:
        expires = min(expires, state.execution_deadline)
    return ev.timestamp(expires)


def _pending_activity(activity: Activity) -> PendingActivityInfo:
    info = PendingActivityInfo(
        activity_id=activity.activity_id,
        attempt=1 if activity.reset_requested else activity.attempt,  # as Temporal shows a reset
        maximum_attempts=activity.retry.maximum_attempts,
        state=_activity_state(activity),
        last_worker_identity=activity.identity,
        paused=activity.paused,
    )
    if activity.paused:
        info.pause_info.pause_time.CopyFrom(ev.timestamp(activity.pause_time))
        info.pause_info.manual.identity = activity.pause_identity
        info.pause_info.manual.reason = activity.pause_reason
    info.activity_type.name = activity.activity_type
    info.scheduled_time.CopyFrom(ev.timestamp(activity.attempt_scheduled_time))
    if activity.started:
        info.last_started_time.CopyFrom(ev.timestamp(activity.started_time))
    elif activity.retry_timer_id:  # waiting out a retry backoff
        info.next_attempt_schedule_time.CopyFrom(ev.timestamp(activity.attempt_scheduled_time))
    if activity.last_heartbeat_time:
        info.last_heartbeat_time.CopyFrom(ev.timestamp(activity.last_heartbeat_time))
        if activity.heartbeat_details:
            info.heartbeat_details.ParseFromString(decode_blob(activity.heartbeat_details))
    if activity.last_failure:
        info.last_failure.ParseFromString(decode_blob(activity.last_failure))
    if activity.schedule_to_close:
        info.expiration_time.CopyFrom(ev.timestamp(activity.scheduled_time + activity.schedule_to_close))
    info.activity_options.CopyFrom(activity_ops.options_of(activity))
    return info


def _activity_state(activity: Activity) -> PendingActivityState.ValueType:
    if activity.started:
        if activity.paused:
            return PendingActivityState.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED
        return PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
    if activity.paused:
        return PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED
    return PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED


def _pending_workflow_task(state: MutableState) -> PendingWorkflowTaskInfo:
    wft = state.workflow_task
    assert wft is not None
    info = PendingWorkflowTaskInfo(
        state=(
            PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
            if wft.started_event_id
            else PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED
        ),
        attempt=wft.attempt,
    )
    info.scheduled_time.CopyFrom(ev.timestamp(wft.scheduled_time))
    info.original_scheduled_time.CopyFrom(ev.timestamp(wft.scheduled_time))
    if wft.started_event_id:
        info.started_time.CopyFrom(ev.timestamp(wft.started_time))
    return info


def _slice(history: EventLog, first: int, page_size: int, *, follow: bool, run_id: str) -> HistoryPage:
    """Events from ``first`` on, at most ``page_size`` of them and about 2 MB.

    With ``follow`` (a long poll on a running workflow) a token is returned even
    at the end, so the caller can wait for what comes next.
    """
    events = history.entries(first - 1, first - 1 + page_size)
    if sum(map(len, events)) > MAX_PAGE_BYTES:  # entries are a little larger than their events
        events = _within_page_bytes(events)
    following = first + len(events)
    more = following <= len(history) or follow
    return HistoryPage(events, _make_token(following, run_id) if more else b"")


def _within_page_bytes(entries: list[bytes]) -> list[bytes]:
    """The first entries whose events add up to at most 2 MB (and at least one)."""
    size = 0
    for count, entry in enumerate(entries):
        size += wire.event_size(entry)
        if count and size > MAX_PAGE_BYTES:
            return entries[:count]
    return entries


def _make_token(next_event_id: int, run_id: str) -> bytes:
    return json.dumps({"next": next_event_id, "run": run_id}).encode()


def _token_position(token: bytes, run_id: str) -> int:
    if not token:
        return 1
    try:
        raw = json.loads(token)
        if raw["run"] != run_id:
            raise ValueError("token for another run")
        return int(raw["next"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgumentError("Invalid NextPageToken.") from exc
