"""Activity-task RPCs: polling, completing, failing, cancelling, heartbeats, and their ById forms."""

from __future__ import annotations

import time
from typing import Any

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.api.long_poll import LongPolls
from cadenza.api.lookups import Runs, task_token
from cadenza.api.requests import (
    check_blob,
    oversize_failure,
    queue_name,
)
from cadenza.api.rpc_deployments import polled_queue
from cadenza.api.rpc_standalone_activities import sdk_of
from cadenza.config import ServerConfig
from cadenza.deployments.registry import WorkerDeployments
from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine.tokens import TaskToken
from cadenza.history.service import HistoryService
from cadenza.history.service.activity_task_rpcs import HeartbeatAnswer
from cadenza.matching import MatchingService
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import TaskKind, TaskRecord
from cadenza.protoutil import present
from cadenza.standalone.activities import StandaloneActivities, is_standalone_task, is_standalone_token


class ActivityRpcs:
    """Activity-task RPCs: polling, completing, failing, cancelling, heartbeats, and their ById forms."""

    def __init__(
        self,
        *,
        config: ServerConfig,
        namespaces: NamespaceRegistry,
        history: HistoryService,
        matching: MatchingService,
        standalone: StandaloneActivities,
        deployments: WorkerDeployments,
    ) -> None:
        self._deployments = deployments
        self._config = config
        self._standalone = standalone
        self._namespaces = namespaces
        self._history = history
        self._polls = LongPolls(matching, config.long_poll_seconds)
        self._runs = Runs(namespaces, history)

    @translated
    async def PollActivityTaskQueue(
        self, request: wsv1.PollActivityTaskQueueRequest, context: Any
    ) -> wsv1.PollActivityTaskQueueResponse:
        namespace = await self._namespaces.get(request.namespace)
        name = queue_name(request.task_queue)

        async def deliver(task: TaskRecord) -> wsv1.PollActivityTaskQueueResponse | None:
            if is_standalone_task(task):
                started = self._standalone.record_started(
                    task, namespace.name, request.identity, sdk_of(context)
                )
                return await self._polls.delivered(task, started)
            return await self._polls.delivered(
                task,
                self._history.record_activity_task_started(
                    task, request.identity, request.worker_control_task_queue
                ),
            )

        name = await polled_queue(
            self._deployments,
            namespace.id,
            request,
            name,
            TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            time.time(),
        )
        response = await self._polls.poll(namespace.id, name, TaskKind.ACTIVITY, request, context, deliver)
        return response or wsv1.PollActivityTaskQueueResponse()

    @translated
    async def RespondActivityTaskCompleted(
        self, request: wsv1.RespondActivityTaskCompletedRequest, context: Any
    ) -> wsv1.RespondActivityTaskCompletedResponse:
        token = await task_token(self._namespaces, request)
        await self._complete_activity(token, request)
        return wsv1.RespondActivityTaskCompletedResponse()

    @translated
    async def RespondActivityTaskFailed(
        self, request: wsv1.RespondActivityTaskFailedRequest, context: Any
    ) -> wsv1.RespondActivityTaskFailedResponse:
        token = await task_token(self._namespaces, request)
        await self._fail_activity(token, request)
        return wsv1.RespondActivityTaskFailedResponse()

    @translated
    async def RespondActivityTaskCanceled(
        self, request: wsv1.RespondActivityTaskCanceledRequest, context: Any
    ) -> wsv1.RespondActivityTaskCanceledResponse:
        token = await task_token(self._namespaces, request)
        await self._cancel_activity(token, request)
        return wsv1.RespondActivityTaskCanceledResponse()

    @translated
    async def RecordActivityTaskHeartbeat(
        self, request: wsv1.RecordActivityTaskHeartbeatRequest, context: Any
    ) -> wsv1.RecordActivityTaskHeartbeatResponse:
        token = await task_token(self._namespaces, request)
        answer = await self._heartbeat(token, request)
        return wsv1.RecordActivityTaskHeartbeatResponse(
            cancel_requested=answer.cancel_requested,
            activity_paused=answer.paused,
            activity_reset=answer.reset,
        )

    @translated
    async def RecordActivityTaskHeartbeatById(
        self, request: wsv1.RecordActivityTaskHeartbeatByIdRequest, context: Any
    ) -> wsv1.RecordActivityTaskHeartbeatByIdResponse:
        token = await self._token_by_id(request)
        answer = await self._heartbeat(token, request)
        return wsv1.RecordActivityTaskHeartbeatByIdResponse(
            cancel_requested=answer.cancel_requested,
            activity_paused=answer.paused,
            activity_reset=answer.reset,
        )

    @translated
    async def RespondActivityTaskCompletedById(
        self, request: wsv1.RespondActivityTaskCompletedByIdRequest, context: Any
    ) -> wsv1.RespondActivityTaskCompletedByIdResponse:
        token = await self._token_by_id(request)
        await self._complete_activity(token, request)
        return wsv1.RespondActivityTaskCompletedByIdResponse()

    @translated
    async def RespondActivityTaskFailedById(
        self, request: wsv1.RespondActivityTaskFailedByIdRequest, context: Any
    ) -> wsv1.RespondActivityTaskFailedByIdResponse:
        token = await self._token_by_id(request)
        await self._fail_activity(token, request)
        return wsv1.RespondActivityTaskFailedByIdResponse()

    @translated
    async def RespondActivityTaskCanceledById(
        self, request: wsv1.RespondActivityTaskCanceledByIdRequest, context: Any
    ) -> wsv1.RespondActivityTaskCanceledByIdResponse:
        token = await self._token_by_id(request)
        await self._cancel_activity(token, request)
        return wsv1.RespondActivityTaskCanceledByIdResponse()

    async def _cancel_activity(self, token: TaskToken, request: Any) -> None:
        details = present(request, "details")
        if is_standalone_token(token):
            await self._standalone.canceled(token, details, request.identity)
        else:
            await self._history.cancel_activity(token, details, request.identity)

    async def _complete_activity(self, token: TaskToken, request: Any) -> None:
        """Complete, unless the result is over the limit: then, as Temporal, the activity fails."""
        if request.result.ByteSize() > self._config.limits.blob_size_error:
            await self._failed(
                token, oversize_failure("Complete result exceeds size limit."), request.identity
            )
            return
        result = present(request, "result")
        if is_standalone_token(token):
            await self._standalone.complete(token, result, request.identity)
        else:
            await self._history.complete_activity(token, result, request.identity)

    async def _fail_activity(self, token: TaskToken, request: Any) -> None:
        check_blob(request.failure.ByteSize(), self._config)
        if is_standalone_token(token) and not request.failure.HasField("application_failure_info"):
            raise InvalidArgumentError("Failure must have ApplicationFailureInfo.")
        details = present(request, "last_heartbeat_details")
        await self._failed(token, request.failure, request.identity, details)

    async def _failed(
        self, token: TaskToken, failure: Failure, identity: str, details: Payloads | None = None
    ) -> None:
        if is_standalone_token(token):
            await self._standalone.fail(token, failure, identity, details)
        else:
            await self._history.fail_activity(token, failure, identity, details)

    async def _heartbeat(self, token: TaskToken, request: Any) -> HeartbeatAnswer:
        if request.details.ByteSize() > self._config.limits.blob_size_error:
            await self._failed(
                token, oversize_failure("Heartbeat details exceed size limit."), request.identity
            )
            return HeartbeatAnswer()
        details = present(request, "details")
        if is_standalone_token(token):
            return HeartbeatAnswer(cancel_requested=await self._standalone.heartbeat(token, details))
        return await self._history.heartbeat_activity(token, details)

    async def _token_by_id(self, request: Any) -> TaskToken:
        if not request.activity_id:
            raise InvalidArgumentError("ActivityId is not set on request.")
        if not request.workflow_id:  # an activity started without a workflow: its ID and run
            namespace = await self._namespaces.get(request.namespace)
            return await self._standalone.token(namespace.id, request.activity_id, request.run_id)
        # A ById request names the run in its own workflow_id and run_id fields.
        key = await self._runs.key(request.namespace, request)
        return await self._history.activity_token(key, request.activity_id)
