"""Workflow-task RPCs: polling, completing, failing, sticky queues, task queue descriptions."""

from __future__ import annotations

import time
from typing import Any

from temporalio.api.enums.v1 import (
    CommandType,
    DescribeTaskQueueMode,
    TaskQueueType,
    WorkerVersioningMode,
)
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.api.long_poll import LongPolls
from cadenza.api.lookups import Runs, search_attribute_rules, task_token
from cadenza.api.requests import queue_name
from cadenza.api.rpc_deployments import polled_queue
from cadenza.api.rpc_task_queue_config import describe_config
from cadenza.config import ServerConfig
from cadenza.deployments.registry import WorkerDeployments
from cadenza.history.machine import events as ev
from cadenza.history.service import HistoryService
from cadenza.history.service.queries import Queries
from cadenza.matching import MatchingService
from cadenza.matching.queue import PollerSeen
from cadenza.matching.queue_configs import QueueConfigs
from cadenza.namespaces import NamespaceRegistry
from cadenza.nexus import system as nexus_system
from cadenza.nexus.endpoints import NexusEndpoints
from cadenza.observability.hooks import eager_dispatching
from cadenza.persistence.records import TaskKind, TaskRecord
from cadenza.visibility import validation

_TARGETING = {
    CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION: "start_child_workflow_execution_command_attributes",
    CommandType.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION: "signal_external_workflow_execution_command_attributes",
    CommandType.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION: "request_cancel_external_workflow_execution_command_attributes",
}
"""The commands that may name another namespace, and their attributes field."""


class TaskRpcs:
    """Workflow-task RPCs: polling, completing, failing, sticky queues, task queue descriptions."""

    def __init__(
        self,
        *,
        config: ServerConfig,
        namespaces: NamespaceRegistry,
        history: HistoryService,
        matching: MatchingService,
        queries: Queries,
        queue_configs: QueueConfigs,
        endpoints: NexusEndpoints,
        deployments: WorkerDeployments,
    ) -> None:
        self._deployments = deployments
        self._config = config
        self._endpoints = endpoints
        self._queue_configs = queue_configs
        self._namespaces = namespaces
        self._history = history
        self._matching = matching
        self._queries = queries
        self._polls = LongPolls(matching, config.long_poll_seconds)
        self._runs = Runs(namespaces, history)

    @translated
    async def PollWorkflowTaskQueue(
        self, request: wsv1.PollWorkflowTaskQueueRequest, context: Any
    ) -> wsv1.PollWorkflowTaskQueueResponse | bytes:
        """A task's response comes serialized, with the stored events sent as stored."""
        namespace = await self._namespaces.get(request.namespace)
        name = queue_name(request.task_queue)
        # Older SDK settings name the build in the deprecated binary_checksum; Temporal takes it too.
        build_id = (
            request.deployment_options.build_id
            or request.worker_version_capabilities.build_id
            or request.binary_checksum
        )
        if (
            request.deployment_options.worker_versioning_mode
            == WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED
        ):
            build_id = ""  # its version shows on the completion: the started event names no build

        async def deliver(task: TaskRecord) -> bytes | None:
            if task.query_id:
                return await self._queries.task_response(task)
            return await self._polls.delivered(
                task, self._history.record_workflow_task_started(task, request.identity, build_id)
            )

        name = await polled_queue(
            self._deployments,
            namespace.id,
            request,
            name,
            TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            time.time(),
        )
        response = await self._polls.poll(namespace.id, name, TaskKind.WORKFLOW, request, context, deliver)
        return response or wsv1.PollWorkflowTaskQueueResponse()

    @translated
    async def RespondWorkflowTaskCompleted(
        self, request: wsv1.RespondWorkflowTaskCompletedRequest, context: Any
    ) -> wsv1.RespondWorkflowTaskCompletedResponse:
        token = await task_token(self._namespaces, request)
        await self._check_target_namespaces(request.commands)
        rules = await self._command_rules(request)
        endpoints = await self._command_endpoints(request.commands)
        return await eager_dispatching(self._history.complete_workflow_task(token, request, rules, endpoints))

    async def _command_endpoints(self, commands: Any) -> dict[str, str]:
        """The IDs of the Nexus endpoints the commands name, by name; one missing is left out,
        and the command naming it fails the task."""
        found: dict[str, str] = {}
        for command in commands:
            if command.HasField("schedule_nexus_operation_command_attributes"):
                name = command.schedule_nexus_operation_command_attributes.endpoint
                if name == nexus_system.ENDPOINT:  # served by the server itself, registered nowhere
                    found[name] = ""
                    continue
                endpoint = await self._endpoints.by_name(name) if name and name not in found else None
                if endpoint is not None:
                    found[name] = endpoint.record.endpoint_id
        return found

    async def _command_rules(
        self,
        request: wsv1.RespondWorkflowTaskCompletedRequest,
    ) -> dict[str, validation.Rules]:
        """Search-attribute rules for the namespaces the commands set attributes in
        (their existence checked already)."""
        names = {request.namespace}
        for command in request.commands:
            if command.HasField("start_child_workflow_execution_command_attributes"):
                names.add(command.start_child_workflow_execution_command_attributes.namespace)
        limits = self._config.limits
        return {
            name: search_attribute_rules(await self._namespaces.get(name), limits) for name in names - {""}
        }

    async def _check_target_namespaces(self, commands: Any) -> None:
        """A command aimed at another namespace needs it to exist, or the call is refused.

        As on Temporal, the task is not failed: the call answers NOT_FOUND.
        """
        for command in commands:
            field = _TARGETING.get(command.command_type)
            if field is not None and getattr(command, field).namespace:
                await self._namespaces.get(getattr(command, field).namespace)

    @translated
    async def RespondWorkflowTaskFailed(
        self, request: wsv1.RespondWorkflowTaskFailedRequest, context: Any
    ) -> wsv1.RespondWorkflowTaskFailedResponse:
        token = await task_token(self._namespaces, request)
        await self._history.fail_workflow_task(token, request)
        return wsv1.RespondWorkflowTaskFailedResponse()

    @translated
    async def ResetStickyTaskQueue(
        self, request: wsv1.ResetStickyTaskQueueRequest, context: Any
    ) -> wsv1.ResetStickyTaskQueueResponse:
        key = await self._runs.key(request.namespace, request.execution)
        await self._history.reset_sticky(key)
        return wsv1.ResetStickyTaskQueueResponse()

    @translated
    async def ShutdownWorker(
        self, request: wsv1.ShutdownWorkerRequest, context: Any
    ) -> wsv1.ShutdownWorkerResponse:
        namespace = await self._namespaces.get(request.namespace)
        worker_key = request.worker_instance_key or request.worker_heartbeat.worker_instance_key
        if worker_key:
            self._matching.end_polls(worker_key)
        if request.sticky_task_queue:
            for task in self._matching.shut_down_sticky(namespace.id, request.sticky_task_queue):
                await self._history.sticky_queue_lost(task)
        return wsv1.ShutdownWorkerResponse()

    @translated
    async def DescribeTaskQueue(
        self, request: wsv1.DescribeTaskQueueRequest, context: Any
    ) -> wsv1.DescribeTaskQueueResponse:
        namespace = await self._namespaces.get(request.namespace)
        name = queue_name(request.task_queue)
        kind = _task_kind(request.task_queue_type)
        response = wsv1.DescribeTaskQueueResponse()
        if request.task_queue_type == TaskQueueType.TASK_QUEUE_TYPE_NEXUS:  # no backlog: requests wait
            _add_pollers(response.pollers, self._matching.nexus_tasks.pollers(namespace.id, name))
        else:
            self._fill_pollers(response.pollers, namespace.id, name, kind)
            response.task_queue_status.backlog_count_hint = self._matching.backlog(namespace.id, name, kind)
        if request.api_mode != DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED:
            await describe_config(
                response, request, namespace.id, self._queue_configs, self._matching.rate_limits
            )
        else:
            # The CLI's view: pollers and backlog per task type, for the unversioned queue.
            version = response.versions_info[""]
            kinds = list(request.task_queue_types) or [
                TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            ]
            for queue_type in kinds:
                task_kind = _task_kind(queue_type)
                info = version.types_info[queue_type]
                if queue_type == TaskQueueType.TASK_QUEUE_TYPE_NEXUS:
                    _add_pollers(info.pollers, self._matching.nexus_tasks.pollers(namespace.id, name))
                    continue
                self._fill_pollers(info.pollers, namespace.id, name, task_kind)
                info.stats.approximate_backlog_count = self._matching.backlog(namespace.id, name, task_kind)
        return response

    @translated
    async def ListTaskQueuePartitions(
        self, request: wsv1.ListTaskQueuePartitionsRequest, context: Any
    ) -> wsv1.ListTaskQueuePartitionsResponse:
        await self._namespaces.get(request.namespace)
        name = queue_name(request.task_queue)
        # Cadenza keeps each task queue whole, in this one process: one partition per type.
        owner = f"{self._config.ip}:{self._config.port}"
        response = wsv1.ListTaskQueuePartitionsResponse()
        response.activity_task_queue_partitions.add(key=name, owner_host_name=owner)
        response.workflow_task_queue_partitions.add(key=name, owner_host_name=owner)
        return response

    def _fill_pollers(self, out: Any, namespace_id: str, name: str, kind: TaskKind) -> None:
        """The queue's pollers, the versioned workers (each polling its version's queue) too."""
        queues = [(name, None), *self._deployments.version_queues(namespace_id, name)]
        for queue, version in queues:
            _add_pollers(out, self._matching.pollers(namespace_id, queue, kind), version)


def _add_pollers(out: Any, pollers: dict[str, PollerSeen], version: Any = None) -> None:
    """Each poller as DescribeTaskQueue lists it; a versioned worker's with its deployment options."""
    for identity, seen in pollers.items():
        poller = out.add(identity=identity, rate_per_second=seen.rate_per_second)
        poller.last_access_time.CopyFrom(ev.timestamp(seen.last_access_time))
        if version is not None:
            poller.deployment_options.CopyFrom(version)


def _task_kind(queue_type: int) -> TaskKind:
    """The tasks a task queue type holds: activity tasks, or else workflow tasks."""
    return TaskKind.ACTIVITY if queue_type == TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY else TaskKind.WORKFLOW
