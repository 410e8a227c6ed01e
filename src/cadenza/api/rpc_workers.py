"""Worker RPCs: the heartbeats SDK workers send, and the views of them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from temporalio.api.worker.v1 import WorkerHeartbeat, WorkerInfo
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.exceptions import InvalidArgumentError, NotFoundError
from cadenza.matching.workers import WorkerRegistry
from cadenza.namespaces import NamespaceRegistry
from cadenza.protoutil import copy_common_fields


class WorkerRpcs:
    """RecordWorkerHeartbeat, DescribeWorker and ListWorkers."""

    def __init__(self, *, namespaces: NamespaceRegistry, workers: WorkerRegistry) -> None:
        self._namespaces = namespaces
        self._workers = workers

    @translated
    async def RecordWorkerHeartbeat(
        self, request: wsv1.RecordWorkerHeartbeatRequest, context: Any
    ) -> wsv1.RecordWorkerHeartbeatResponse:
        namespace = await self._namespaces.get(request.namespace)
        record_heartbeats(self._workers, namespace.id, request.worker_heartbeat)
        return wsv1.RecordWorkerHeartbeatResponse()

    @translated
    async def DescribeWorker(
        self, request: wsv1.DescribeWorkerRequest, context: Any
    ) -> wsv1.DescribeWorkerResponse:
        namespace = await self._namespaces.get(request.namespace)
        data = self._workers.get(namespace.id, request.worker_instance_key)
        if data is None:
            raise NotFoundError(f"Worker {request.worker_instance_key} not found")
        return wsv1.DescribeWorkerResponse(
            worker_info=WorkerInfo(worker_heartbeat=WorkerHeartbeat.FromString(data))
        )

    @translated
    async def ListWorkers(self, request: wsv1.ListWorkersRequest, context: Any) -> wsv1.ListWorkersResponse:
        namespace = await self._namespaces.get(request.namespace)
        if request.query.strip():
            raise InvalidArgumentError("ListWorkers does not support a query in Cadenza.")
        response = wsv1.ListWorkersResponse()
        for data in self._workers.all(namespace.id):
            heartbeat = WorkerHeartbeat.FromString(data)
            response.workers_info.add(worker_heartbeat=heartbeat)
            copy_common_fields(heartbeat, response.workers.add())
        return response


def record_heartbeats(
    workers: WorkerRegistry, namespace_id: str, heartbeats: Iterable[WorkerHeartbeat]
) -> None:
    """Keep the latest heartbeat of each worker, as sent on its own or with a Nexus poll."""
    heartbeats = list(heartbeats)
    if any(not heartbeat.worker_instance_key for heartbeat in heartbeats):
        raise InvalidArgumentError("WorkerInstanceKey is not set on worker heartbeat.")
    for heartbeat in heartbeats:
        workers.record(namespace_id, heartbeat.worker_instance_key, heartbeat.SerializeToString())
