"""Operator RPCs on a run's pending activities: PauseActivity, UnpauseActivity,
ResetActivity and UpdateActivityOptions, each naming activities by ID or by type."""

from __future__ import annotations

from typing import Any

from temporalio.api.activity.v1 import ActivityOptions
from temporalio.api.enums.v1 import TaskQueueKind
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.api.lookups import Runs
from cadenza.exceptions import InvalidArgumentError, NotFoundError
from cadenza.history.machine import events as ev
from cadenza.history.machine.activity_ops import Selection
from cadenza.history.service import HistoryService, Restart
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import ExecutionKey


class ActivityOpsRpcs:
    """Pause, unpause, reset and change the options of pending activities."""

    def __init__(self, *, namespaces: NamespaceRegistry, history: HistoryService) -> None:
        self._history = history
        self._runs = Runs(namespaces, history)

    @translated
    async def PauseActivity(
        self, request: wsv1.PauseActivityRequest, context: Any
    ) -> wsv1.PauseActivityResponse:
        key = await self._key(request)
        selection = Selection(activity_id=request.id, activity_type=request.type)
        await self._history.pause_activities(key, selection, request.identity, request.reason)
        return wsv1.PauseActivityResponse()

    @translated
    async def UnpauseActivity(
        self, request: wsv1.UnpauseActivityRequest, context: Any
    ) -> wsv1.UnpauseActivityResponse:
        key = await self._key(request)
        selection = Selection(activity_id=request.id, activity_type=request.type, every=request.unpause_all)
        restart = Restart(
            reset_attempts=request.reset_attempts,
            reset_heartbeat=request.reset_heartbeat,
            jitter=ev.seconds(request.jitter),
        )
        await self._history.unpause_activities(key, selection, restart)
        return wsv1.UnpauseActivityResponse()

    @translated
    async def ResetActivity(
        self, request: wsv1.ResetActivityRequest, context: Any
    ) -> wsv1.ResetActivityResponse:
        key = await self._key(request)
        selection = Selection(activity_id=request.id, activity_type=request.type, every=request.match_all)
        restart = Restart(
            reset_heartbeat=request.reset_heartbeat,
            keep_paused=request.keep_paused,
            jitter=ev.seconds(request.jitter),
        )
        await self._history.reset_activities(key, selection, restart)
        return wsv1.ResetActivityResponse()

    @translated
    async def UpdateActivityOptions(
        self, request: wsv1.UpdateActivityOptionsRequest, context: Any
    ) -> wsv1.UpdateActivityOptionsResponse:
        key = await self._key(request)
        selection = Selection(activity_id=request.id, activity_type=request.type, every=request.match_all)
        options = await self._update_options(key, selection, request)
        return wsv1.UpdateActivityOptionsResponse(activity_options=options)

    # The ...ActivityExecution forms the `temporal activity` commands send: one activity
    # by ID, in the run that workflow_id and run_id name. Cadenza has no standalone activities.

    @translated
    async def PauseActivityExecution(
        self, request: wsv1.PauseActivityExecutionRequest, context: Any
    ) -> wsv1.PauseActivityExecutionResponse:
        key, selection = await self._one_activity(request)
        await self._history.pause_activities(key, selection, request.identity, request.reason)
        return wsv1.PauseActivityExecutionResponse()

    @translated
    async def UnpauseActivityExecution(
        self, request: wsv1.UnpauseActivityExecutionRequest, context: Any
    ) -> wsv1.UnpauseActivityExecutionResponse:
        key, selection = await self._one_activity(request)
        await self._history.unpause_activities(key, selection, Restart(jitter=ev.seconds(request.jitter)))
        return wsv1.UnpauseActivityExecutionResponse()

    @translated
    async def ResetActivityExecution(
        self, request: wsv1.ResetActivityExecutionRequest, context: Any
    ) -> wsv1.ResetActivityExecutionResponse:
        key, selection = await self._one_activity(request)
        restart = Restart(
            reset_heartbeat=request.reset_heartbeat,
            keep_paused=request.keep_paused,
            jitter=ev.seconds(request.jitter),
        )
        await self._history.reset_activities(key, selection, restart)
        return wsv1.ResetActivityExecutionResponse()

    @translated
    async def UpdateActivityExecutionOptions(
        self, request: wsv1.UpdateActivityExecutionOptionsRequest, context: Any
    ) -> wsv1.UpdateActivityExecutionOptionsResponse:
        key, selection = await self._one_activity(request)
        options = await self._update_options(key, selection, request)
        return wsv1.UpdateActivityExecutionOptionsResponse(activity_options=options)

    async def _key(self, request: Any) -> ExecutionKey:
        return await self._runs.key(request.namespace, request.execution)

    async def _one_activity(self, request: Any) -> tuple[ExecutionKey, Selection]:
        if not request.workflow_id:  # a standalone activity, as Temporal reads it: none exists here
            raise NotFoundError(f"activity not found for ID: {request.activity_id}")
        key = await self._runs.key(request.namespace, request)
        return key, Selection(activity_id=request.activity_id)

    async def _update_options(self, key: ExecutionKey, selection: Selection, request: Any) -> ActivityOptions:
        if not request.HasField("activity_options"):
            raise InvalidArgumentError("ActivityOptions are not provided")
        if not request.update_mask.paths:
            raise InvalidArgumentError("UpdateMask is not provided")
        options = await self._history.update_activity_options(
            key, selection, request.activity_options, list(request.update_mask.paths)
        )
        # Temporal answers with the queue's kind where Describe gives its normal name.
        options.task_queue.ClearField("normal_name")
        options.task_queue.kind = TaskQueueKind.TASK_QUEUE_KIND_NORMAL
        options.priority.SetInParent()
        return options
