"""Nexus-task RPCs: Nexus operation requests to handler workers, and the workers' control queues.

A poll of an ordinary Nexus queue takes the start and cancel requests of operations that
caller workflows scheduled (``cadenza.matching.nexus_tasks``); a poll of a worker's control
queue takes the commands pushed to that worker (``cadenza.matching.control``). The task token
says which of the two an answer is for.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import TaskQueueKind
from temporalio.api.nexus.v1 import Request
from temporalio.api.nexusservices.workerservice.v1 import ExecuteCommandsRequest
from temporalio.api.worker.v1 import CancelActivityCommand, WorkerCommand
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.api.lookups import check_token_namespace
from cadenza.api.requests import poll_deadline, queue_name
from cadenza.api.rpc_workers import record_heartbeats
from cadenza.config import ServerConfig
from cadenza.exceptions import InvalidArgumentError, NotFoundError
from cadenza.matching.control import (
    CONTROL_KIND,
    REQUEST_TIMEOUT,
    ControlQueues,
    ControlTask,
    ControlTaskToken,
)
from cadenza.matching.nexus_tasks import NexusTask, NexusTaskQueues, NexusTaskToken
from cadenza.matching.workers import WorkerRegistry
from cadenza.namespaces import NamespaceRegistry

logger = logging.getLogger(__name__)

WORKER_SERVICE = "temporal.api.nexusservices.workerservice.v1.WorkerService"
EXECUTE_COMMANDS = "ExecuteCommands"


class NexusRpcs:
    """PollNexusTaskQueue and the answers to the tasks it hands out."""

    def __init__(
        self,
        *,
        config: ServerConfig,
        namespaces: NamespaceRegistry,
        control: ControlQueues,
        nexus_tasks: NexusTaskQueues,
        workers: WorkerRegistry,
    ) -> None:
        self._config = config
        self._namespaces = namespaces
        self._control = control
        self._nexus_tasks = nexus_tasks
        self._workers = workers

    @translated
    async def PollNexusTaskQueue(
        self, request: wsv1.PollNexusTaskQueueRequest, context: Any
    ) -> wsv1.PollNexusTaskQueueResponse:
        namespace = await self._namespaces.get(request.namespace)
        name = queue_name(request.task_queue)
        kind = request.task_queue.kind or TaskQueueKind.TASK_QUEUE_KIND_NORMAL
        record_heartbeats(self._workers, namespace.id, request.worker_heartbeat)
        deadline = poll_deadline(context, self._config.long_poll_seconds)
        if kind != CONTROL_KIND:
            operation = await self._nexus_tasks.poll(
                namespace.id, name, deadline - time.monotonic(), request.worker_instance_key, request.identity
            )
            if operation is None:
                return wsv1.PollNexusTaskQueueResponse()
            return operation_task_response(operation, name)
        task = await self._control.poll(
            namespace.id, name, kind, deadline - time.monotonic(), request.worker_instance_key
        )
        if task is None:
            return wsv1.PollNexusTaskQueueResponse()
        return control_task_response(task)

    @translated
    async def RespondNexusTaskCompleted(
        self, request: wsv1.RespondNexusTaskCompletedRequest, context: Any
    ) -> wsv1.RespondNexusTaskCompletedResponse:
        if await self._answered_operation(request):
            return wsv1.RespondNexusTaskCompletedResponse()
        token = await self._control_token(request.task_token, request.namespace)
        self._finish(token)
        return wsv1.RespondNexusTaskCompletedResponse()

    @translated
    async def RespondNexusTaskFailed(
        self, request: wsv1.RespondNexusTaskFailedRequest, context: Any
    ) -> wsv1.RespondNexusTaskFailedResponse:
        if not request.HasField("error") and not request.HasField("failure"):
            raise InvalidArgumentError("request must contain error or failure")
        if request.HasField("failure") and not request.failure.HasField("nexus_handler_failure_info"):
            raise InvalidArgumentError(
                "request Failure must contain error or failure with NexusHandlerFailureInfo"
            )
        if await self._answered_operation(request):
            return wsv1.RespondNexusTaskFailedResponse()
        token = await self._control_token(request.task_token, request.namespace)
        task = self._finish(token)
        # As in Temporal, a worker's refusal is final: the commands are best effort anyway.
        message = request.failure.message or request.error.failure.message
        logger.warning(
            "worker %s failed control task %s on %s: %s",
            request.identity,
            task.task_id,
            token.task_queue,
            message,
        )
        return wsv1.RespondNexusTaskFailedResponse()

    async def _answered_operation(self, request: Any) -> bool:
        """Hand the answer to the Nexus operation request it is for; False if the token is a
        control task's."""
        if not request.task_token:
            raise InvalidArgumentError("Invalid TaskToken.")
        token = NexusTaskToken.decode(request.task_token)
        if token is None:
            return False
        await check_token_namespace(self._namespaces, request.namespace, token.namespace_id)
        if not self._nexus_tasks.answer(token.namespace_id, token.task_id, request):
            raise NotFoundError("Nexus task not found or already expired")
        return True

    async def _control_token(self, data: bytes, namespace_name: str) -> ControlTaskToken:
        if not data:
            raise InvalidArgumentError("Invalid TaskToken.")
        token = ControlTaskToken.decode(data)
        await check_token_namespace(self._namespaces, namespace_name, token.namespace_id)
        return token

    def _finish(self, token: ControlTaskToken) -> ControlTask:
        task = self._control.finish(token.namespace_id, token.task_id)
        if task is None:
            raise NotFoundError("Nexus task not found or already expired")
        return task


def control_task_response(task: ControlTask) -> wsv1.PollNexusTaskQueueResponse:
    """The Nexus task a worker's SDK runs as the WorkerService's ExecuteCommands operation.

    The request travels as ``binary/protobuf``, as Temporal sends it: the SDK's
    core decodes it itself rather than through the language SDK's converters.
    """
    commands = task.commands
    execute = ExecuteCommandsRequest(
        commands=[
            WorkerCommand(cancel_activity=CancelActivityCommand(task_token=token))
            for token in commands.cancel_activities
        ]
    )
    timeout = f"{int(REQUEST_TIMEOUT * 1000)}ms"
    nexus_request = Request(header={"request-timeout": timeout, "Request-Timeout": timeout})
    start = nexus_request.start_operation
    start.service = WORKER_SERVICE
    start.operation = EXECUTE_COMMANDS
    start.request_id = task.task_id
    start.payload.CopyFrom(
        Payload(metadata={"encoding": b"binary/protobuf"}, data=execute.SerializeToString())
    )
    token = ControlTaskToken(commands.namespace_id, commands.control_queue, task.task_id)
    return wsv1.PollNexusTaskQueueResponse(task_token=token.encode(), request=nexus_request)


def operation_task_response(task: NexusTask, task_queue: str) -> wsv1.PollNexusTaskQueueResponse:
    """A Nexus operation request as its handler worker gets it, with the time it has left."""
    request = Request()
    request.CopyFrom(task.request)
    left = f"{max(0.0, task.expires_at - time.monotonic()):.3f}s"
    request.header["request-timeout"] = request.header["Request-Timeout"] = left
    token = NexusTaskToken(task.namespace_id, task_queue, task.task_id)
    return wsv1.PollNexusTaskQueueResponse(task_token=token.encode(), request=request)
