"""One batch operation applied to one execution, through the engine calls its RPC makes.

As on Temporal, an execution that is gone or already closed (``NotFoundError``) counts as
done: a batch terminating a workflow that ended meanwhile has nothing left to do. Every
operation may be repeated safely, since a batch resumed after a crash repeats the few it
did after its last saved position: terminating or deleting again finds the run closed or
gone, a second cancellation request is not recorded, and a signal carries a request ID
derived from the batch and the target, so it is recorded once; options set a second time are
the options the run has, so nothing is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from temporalio.api.batch.v1 import (
    BatchOperationResetActivities,
    BatchOperationUnpauseActivities,
    BatchOperationUpdateActivityOptions,
)
from temporalio.api.enums.v1 import EventType, ResetReapplyType, ResetType
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.batches import requests
from cadenza.exceptions import InvalidArgumentError, NotFoundError
from cadenza.history.machine import events as ev
from cadenza.history.machine import execution_options
from cadenza.history.machine.activity_ops import Selection
from cadenza.history.machine.signals import Signal
from cadenza.history.service import HistoryService, Restart
from cadenza.persistence.records import ExecutionKey
from cadenza.protoutil import present

_NIL = uuid.UUID(int=0)


@dataclass(frozen=True)
class Target:
    """An execution a batch acts on: a workflow ID and, when known, its run."""

    workflow_id: str
    run_id: str


def _selection(
    op: BatchOperationUnpauseActivities | BatchOperationResetActivities | BatchOperationUpdateActivityOptions,
) -> Selection:
    """The activities an activity batch names in each run: those of one type, or all of them."""
    return Selection(activity_type=op.type, every=op.match_all)


def request_id(job_id: str, *parts: str) -> str:
    """A request ID for one call of one batch, the same each time it is made (as Temporal
    derives it), so the engine recognizes a repeated call."""
    return str(uuid.uuid5(_NIL, ":".join((job_id, *parts))))


class Acting:
    """Applies one batch's operation to its targets."""

    def __init__(
        self, history: HistoryService, namespace_id: str, request: wsv1.StartBatchOperationRequest
    ) -> None:
        self._history = history
        self._namespace_id = namespace_id
        self._request = request
        self._identity = requests.identity_of(request)
        self._operation = requests.OPERATIONS[request.WhichOneof("operation") or ""]

    async def act(self, target: Target) -> None:
        """Apply the operation; a run that is gone or closed counts as done."""
        if self._operation == requests.UPDATE_WORKFLOW_OPTIONS:
            # Temporal's batch calls the RPC, whose frontend refuses these before it looks
            # for the run: each target then fails, even one that is gone.
            op = self._request.update_workflow_options_operation
            execution_options.check_request(op.workflow_execution_options, list(op.update_mask.paths))
        try:
            key = await self._history.resolve_run(self._namespace_id, target.workflow_id, target.run_id)
            await self._apply(key, target)
        except NotFoundError:
            return

    async def _apply(self, key: ExecutionKey, target: Target) -> None:
        r, history = self._request, self._history
        if self._operation == requests.TERMINATE:
            details = present(r.termination_operation, "details")
            await history.terminate_workflow(key, r.reason, details, self._identity)
        elif self._operation == requests.CANCEL:
            # Temporal's batch cancels without a reason, as the SDK's client does.
            await history.request_cancel_workflow(key, "", self._identity)
        elif self._operation == requests.SIGNAL:
            await history.signal_workflow(key, self._signal(target))
        elif self._operation == requests.DELETE:
            await history.delete_workflow(key)
        elif self._operation == requests.RESET:
            await self._reset(key)
        elif self._operation == requests.UPDATE_WORKFLOW_OPTIONS:
            op = r.update_workflow_options_operation
            paths = list(op.update_mask.paths)
            await history.update_execution_options(key, op.workflow_execution_options, paths, self._identity)
        else:
            await self._act_on_activities(key)

    async def _act_on_activities(self, key: ExecutionKey) -> None:
        """Unpause, reset or change the options of the run's activities the batch names, as
        the RPC of the same name would; a run without such activities is left as it is."""
        r, history = self._request, self._history
        if self._operation == requests.UNPAUSE_ACTIVITIES:
            op = r.unpause_activities_operation
            restart = Restart(
                reset_attempts=op.reset_attempts,
                reset_heartbeat=op.reset_heartbeat,
                jitter=ev.seconds(op.jitter),
            )
            await history.unpause_activities(key, _selection(op), restart)
        elif self._operation == requests.RESET_ACTIVITIES:
            reset = r.reset_activities_operation
            restart = Restart(
                reset_heartbeat=reset.reset_heartbeat,
                keep_paused=reset.keep_paused,
                jitter=ev.seconds(reset.jitter),
            )
            await history.reset_activities(key, _selection(reset), restart)
        else:
            update = r.update_activity_options_operation
            if not update.update_mask.paths:
                raise InvalidArgumentError("UpdateMask is not provided")
            await history.update_activity_options(
                key, _selection(update), update.activity_options, list(update.update_mask.paths)
            )

    def _signal(self, target: Target) -> Signal:
        op = self._request.signal_operation
        return Signal(
            op.signal,
            present(op, "input"),
            self._identity,
            present(op, "header"),
            request_id(self._request.job_id, "signal", target.workflow_id, target.run_id, op.signal),
        )

    async def _reset(self, key: ExecutionKey) -> None:
        op = self._request.reset_operation
        finish_event_id = await self._reset_point(key)
        reapply = op.options.reset_reapply_type if op.HasField("options") else op.reset_reapply_type
        await self._history.reset_workflow(
            key,
            finish_event_id,
            self._request.reason,
            self._identity,
            reapply_signals=reapply != ResetReapplyType.RESET_REAPPLY_TYPE_NONE,
        )

    async def _reset_point(self, key: ExecutionKey) -> int:
        """The workflow task the reset goes back to, by the type or target the batch names."""
        op = self._request.reset_operation
        if op.HasField("options") and op.options.WhichOneof("target") == "workflow_task_id":
            return int(op.options.workflow_task_id)
        if op.HasField("options") and op.options.WhichOneof("target") == "build_id":
            raise InvalidArgumentError("Resetting to a build ID is not supported by Cadenza.")
        last = (op.HasField("options") and op.options.WhichOneof("target") == "last_workflow_task") or (
            not op.HasField("options") and op.reset_type == ResetType.RESET_TYPE_LAST_WORKFLOW_TASK
        )
        entry = await self._history.load(key)
        completed = [
            e.event_id
            for e in await self._history.cache.history(entry)
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        ]
        if not completed:
            raise InvalidArgumentError("Unable to find any workflow task completed event to reset to.")
        return completed[-1] if last else completed[0]
