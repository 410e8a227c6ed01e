"""WorkflowService: Temporal's frontend API, served by groups of RPCs by area.

Every RPC not defined by a group answers UNIMPLEMENTED (see ``cadenza.api.server``).
"""

from __future__ import annotations

from cadenza.api.rpc_activities import ActivityRpcs
from cadenza.api.rpc_namespaces import NamespaceRpcs
from cadenza.api.rpc_nexus import NexusRpcs
from cadenza.api.rpc_schedules import ScheduleRpcs
from cadenza.api.rpc_tasks import TaskRpcs
from cadenza.api.rpc_visibility import VisibilityRpcs
from cadenza.api.rpc_workers import WorkerRpcs
from cadenza.api.rpc_workflows import WorkflowRpcs


class WorkflowService(
    NamespaceRpcs, WorkflowRpcs, TaskRpcs, ActivityRpcs, NexusRpcs, WorkerRpcs, VisibilityRpcs, ScheduleRpcs
):
    """The subset of Temporal's WorkflowService that Cadenza serves."""
