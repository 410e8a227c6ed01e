"""WorkflowService: Temporal's frontend API, served by groups of RPCs by area.

Each group is built with only the roles its RPCs call; the servicer holds one
of each and hands every RPC to the group that defines it. Every RPC no group
defines answers UNIMPLEMENTED (see ``cadenza.api.server``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any, get_type_hints

from temporalio.api.workflowservice.v1 import service_pb2 as workflow_service_pb2

from cadenza.api.rpc_activities import ActivityRpcs
from cadenza.api.rpc_activity_ops import ActivityOpsRpcs
from cadenza.api.rpc_batches import BatchRpcs
from cadenza.api.rpc_deployments import DeploymentRpcs
from cadenza.api.rpc_execution_options import ExecutionOptionsRpcs
from cadenza.api.rpc_legacy_versioning import LegacyVersioningRpcs
from cadenza.api.rpc_namespaces import NamespaceRpcs
from cadenza.api.rpc_nexus import NexusRpcs
from cadenza.api.rpc_schedules import ScheduleRpcs
from cadenza.api.rpc_standalone_activities import StandaloneActivityRpcs
from cadenza.api.rpc_standalone_nexus import StandaloneNexusRpcs
from cadenza.api.rpc_task_queue_config import TaskQueueConfigRpcs
from cadenza.api.rpc_tasks import TaskRpcs
from cadenza.api.rpc_visibility import VisibilityRpcs
from cadenza.api.rpc_workers import WorkerRpcs
from cadenza.api.rpc_workflow_pause import WorkflowPauseRpcs
from cadenza.api.rpc_workflows import WorkflowRpcs


@dataclass(frozen=True, eq=False)
class WorkflowService:
    """The subset of Temporal's WorkflowService that Cadenza serves, one group per area."""

    namespaces: NamespaceRpcs
    workflows: WorkflowRpcs
    tasks: TaskRpcs
    activities: ActivityRpcs
    activity_ops: ActivityOpsRpcs
    nexus: NexusRpcs
    workers: WorkerRpcs
    visibility: VisibilityRpcs
    schedules: ScheduleRpcs
    task_queue_configs: TaskQueueConfigRpcs
    batches: BatchRpcs
    legacy_versioning: LegacyVersioningRpcs
    workflow_pause: WorkflowPauseRpcs
    standalone_activities: StandaloneActivityRpcs
    deployments: DeploymentRpcs
    execution_options: ExecutionOptionsRpcs
    standalone_nexus: StandaloneNexusRpcs


def _handed_to(group: str, name: str) -> Callable[[WorkflowService, Any, Any], Awaitable[Any]]:
    """The servicer's handler for RPC ``name``: the same-named method of its ``group``."""

    async def rpc(self: WorkflowService, request: Any, context: Any) -> Any:
        return await getattr(getattr(self, group), name)(request, context)

    rpc.__name__ = rpc.__qualname__ = name
    return rpc


def _serve_from_groups() -> None:
    """Give the servicer class one handler per RPC a group defines; refuse an RPC defined twice.

    The handlers are on the class, as grpc and ``fill_unimplemented`` look for them there.
    """
    rpc_names = workflow_service_pb2.DESCRIPTOR.services_by_name["WorkflowService"].methods_by_name
    groups = get_type_hints(WorkflowService)
    for group in fields(WorkflowService):
        for name in rpc_names:
            if name in vars(groups[group.name]):
                if name in vars(WorkflowService):
                    raise TypeError(f"{name} is served by two groups")
                setattr(WorkflowService, name, _handed_to(group.name, name))


_serve_from_groups()
