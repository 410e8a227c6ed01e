"""A run's worker versioning: which deployment version it runs on, how it moves (pure).

The run keeps Temporal's ``WorkflowExecutionVersioningInfo``: the versioning behavior and
the deployment version of the worker that completed its last workflow task, and the
override a client set. A pinned run's tasks go to its version's own queue; any other run's
go to the task queue, which matching routes to its current or ramping version.
"""

from __future__ import annotations

from typing import Protocol

from temporalio.api.deployment.v1 import WorkerDeploymentVersion
from temporalio.api.enums.v1 import ContinueAsNewVersioningBehavior, VersioningBehavior, WorkerVersioningMode
from temporalio.api.history.v1 import (
    WorkflowExecutionStartedEventAttributes,
    WorkflowTaskCompletedEventAttributes,
)
from temporalio.api.workflow.v1 import VersioningOverride, WorkflowExecutionVersioningInfo
from temporalio.api.workflowservice.v1 import (
    RespondWorkflowTaskCompletedRequest,
    StartWorkflowExecutionRequest,
)

from cadenza.deployments import names
from cadenza.history.machine import visibility_fields
from cadenza.history.machine.encoded import decode_blob, encode_blob
from cadenza.history.machine.state import MutableState

PINNED = VersioningBehavior.VERSIONING_BEHAVIOR_PINNED
AUTO_UPGRADE = VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE
USE_RAMPING = ContinueAsNewVersioningBehavior.CONTINUE_AS_NEW_VERSIONING_BEHAVIOR_USE_RAMPING_VERSION
VERSIONED = WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED
BEHAVIOR_NAMES = {PINNED: "Pinned", AUTO_UPGRADE: "AutoUpgrade"}
"""A behavior as the TemporalWorkflowVersioningBehavior search attribute names it."""
AUTO_UPGRADE_ON_CONTINUE = ContinueAsNewVersioningBehavior.CONTINUE_AS_NEW_VERSIONING_BEHAVIOR_AUTO_UPGRADE


class VersionRouting(Protocol):
    """Where a task queue sends new work: a version's name, empty for unversioned workers."""

    def target(self, namespace_id: str, task_queue: str, workflow_id: str) -> str: ...

    def ramping_target(self, namespace_id: str, task_queue: str, workflow_id: str) -> str: ...

    def revision(self, namespace_id: str, task_queue: str) -> int:
        """How many times the routing of the task queue's deployment changed."""

    def polls(self, namespace_id: str, task_queue: str, version: str) -> bool:
        """Whether workers of ``version`` poll ``task_queue``."""


class Unrouted:
    """No deployments: every task queue sends its work to its unversioned workers."""

    def target(self, namespace_id: str, task_queue: str, workflow_id: str) -> str:
        return ""

    def ramping_target(self, namespace_id: str, task_queue: str, workflow_id: str) -> str:
        return ""

    def revision(self, namespace_id: str, task_queue: str) -> int:
        return 0

    def polls(self, namespace_id: str, task_queue: str, version: str) -> bool:
        return False


UNROUTED = Unrouted()


def info(state: MutableState) -> WorkflowExecutionVersioningInfo:
    """The run's versioning info (a copy: ``store`` it after changing it)."""
    result = WorkflowExecutionVersioningInfo()
    if state.versioning:
        result.ParseFromString(decode_blob(state.versioning))
    return result


def store(state: MutableState, versioning: WorkflowExecutionVersioningInfo) -> None:
    state.versioning = encode_blob(versioning.SerializeToString()) if versioning.ByteSize() else ""


def version_name(version: WorkerDeploymentVersion) -> str:
    return names.version_name(version.deployment_name, version.build_id) if version.build_id else ""


def override_version(override: VersioningOverride) -> str:
    """The version an override pins the run to; empty when it does not pin."""
    if override.HasField("pinned"):
        return version_name(override.pinned.version)
    if override.behavior == PINNED:  # the deprecated form
        return override.pinned_version
    return ""


def plain_override(override: VersioningOverride) -> VersioningOverride:
    """The override in its current form only, as Temporal records and answers it."""
    plain = VersioningOverride()
    plain.CopyFrom(override)
    if override.HasField("pinned") or override.auto_upgrade:
        plain.ClearField("behavior")
        plain.ClearField("deployment")
        plain.ClearField("pinned_version")
    return plain


def full_override(override: VersioningOverride) -> VersioningOverride:
    """The override with the deprecated fields Temporal still fills in beside the new ones."""
    full = VersioningOverride()
    full.CopyFrom(override)
    if override.HasField("pinned"):
        full.behavior = PINNED
        full.pinned_version = version_name(override.pinned.version)
    elif override.auto_upgrade:
        full.behavior = AUTO_UPGRADE
    return full


def pinned_version(state: MutableState) -> str:
    """The version the run is pinned to, by its override or its behavior; empty if none."""
    return pinned_in(info(state))


def pinned_in(versioning: WorkflowExecutionVersioningInfo) -> str:
    """``pinned_version`` of a run whose versioning info is decoded already."""
    override = versioning.versioning_override
    if override.HasField("pinned") or override.behavior == PINNED:
        return override_version(override)
    if override.auto_upgrade or override.behavior == AUTO_UPGRADE:
        return ""
    if versioning.behavior == PINNED:
        return version_name(versioning.deployment_version)
    return ""


def routed_queue(state: MutableState, routing: VersionRouting, task_queue: str) -> str:
    """The queue a task of the run waits on: its pinned version's, else (on the first task of a
    run continued onto the ramping version) that version's, else the task queue itself."""
    versioning = info(state)
    pinned = pinned_in(versioning)
    if pinned:
        # A queue its version's workers do not poll (an activity's own, say) is not pinned.
        if task_queue == state.task_queue or routing.polls(state.namespace_id, task_queue, pinned):
            return names.versioned_queue(task_queue, pinned)
        return task_queue
    if not versioning.behavior and versioning.continue_as_new_initial_versioning_behavior == USE_RAMPING:
        version = routing.ramping_target(state.namespace_id, task_queue, state.workflow_id)
        if version:
            return names.versioned_queue(task_queue, version)
    return task_queue


def keeps_sticky(state: MutableState, routing: VersionRouting) -> bool:
    """Whether the run's next workflow task may go to its sticky worker: not when the run is
    unpinned and its task queue now sends work to another version than that worker's."""
    versioning = info(state)
    if pinned_in(versioning) or not versioning.HasField("deployment_version"):
        return True
    target = routing.target(state.namespace_id, state.task_queue, state.workflow_id)
    return target == version_name(versioning.deployment_version)


def target_changed(state: MutableState, routing: VersionRouting) -> bool:
    """Whether a pinned run's task queue now sends new work to another version."""
    pinned = pinned_version(state)
    if not pinned:
        return False
    target = routing.target(state.namespace_id, state.task_queue, state.workflow_id)
    return bool(target) and target != pinned


def deployed(request: RespondWorkflowTaskCompletedRequest) -> bool:
    """Whether the worker completing a task runs a Worker Deployment version, versioned."""
    return request.deployment_options.worker_versioning_mode == VERSIONED


def record_completion(
    state: MutableState,
    request: RespondWorkflowTaskCompletedRequest,
    attrs: WorkflowTaskCompletedEventAttributes,
    routing: VersionRouting,
) -> None:
    """A versioned worker completed a workflow task: the run now has its behavior and version."""
    if not deployed(request):
        return
    versioning = info(state)
    routed = not pinned_in(versioning)  # the task went where its task queue routed it
    options = request.deployment_options
    version = WorkerDeploymentVersion(deployment_name=options.deployment_name, build_id=options.build_id)
    attrs.versioning_behavior = request.versioning_behavior
    attrs.deployment_version.CopyFrom(version)
    versioning.behavior = request.versioning_behavior
    versioning.deployment_version.CopyFrom(version)
    versioning.version = version_name(version)  # the deprecated form, which Temporal still fills in
    versioning.continue_as_new_initial_versioning_behavior = 0  # type: ignore[assignment]
    if routed:  # the routing it followed, as Temporal notes
        versioning.revision_number = routing.revision(state.namespace_id, state.task_queue)
    store(state, versioning)
    show(state, versioning)


def show(state: MutableState, versioning: WorkflowExecutionVersioningInfo) -> None:
    """Set the search attributes Temporal gives a versioned run: its deployment, its version
    (``<deployment>:<build ID>``) and behavior, the versions it used, and ``pinned:<version>``
    among its ``BuildIds`` while it is pinned. ``versioning``: the run's versioning info as the
    caller has just stored it, so it is not decoded again."""
    pinned = pinned_in(versioning)
    if pinned:
        deployment, build_id = names.split_version(pinned)
    elif versioning.HasField("deployment_version"):
        deployment, build_id = (
            versioning.deployment_version.deployment_name,
            versioning.deployment_version.build_id,
        )
    else:
        return
    override = versioning.versioning_override
    behavior = PINNED if pinned else (AUTO_UPGRADE if override.ByteSize() else versioning.behavior)
    shown = f"{deployment}:{build_id}"
    visibility_fields.set_keyword(state, "TemporalWorkerDeployment", deployment)
    visibility_fields.set_keyword(state, "TemporalWorkerDeploymentVersion", shown)
    if behavior in BEHAVIOR_NAMES:
        visibility_fields.set_keyword(state, "TemporalWorkflowVersioningBehavior", BEHAVIOR_NAMES[behavior])
    visibility_fields.add_keywords(state, "TemporalUsedWorkerDeploymentVersions", [shown])
    if pinned:
        visibility_fields.add_keywords(state, visibility_fields.BUILD_IDS, [f"pinned:{shown}"], first=True)


def continue_onto(
    old: MutableState, new: MutableState, started: WorkflowExecutionStartedEventAttributes, initial: int
) -> None:
    """The versioning a run continued-as-new starts with: the override it had; the pinned
    version of a pinned run on the same task queue, unless the workflow asked to move on
    (to its task queue's target, or its ramping version)."""
    before = info(old)
    after = WorkflowExecutionVersioningInfo()
    started.ClearField("versioning_override")
    if before.HasField("versioning_override"):
        after.versioning_override.CopyFrom(before.versioning_override)
        started.versioning_override.CopyFrom(before.versioning_override)
    if initial == USE_RAMPING:
        after.continue_as_new_initial_versioning_behavior = initial  # type: ignore[assignment]
    elif (
        initial != AUTO_UPGRADE_ON_CONTINUE
        and before.behavior == PINNED
        and new.task_queue == old.task_queue
        and before.HasField("deployment_version")
    ):
        after.behavior = PINNED
        after.deployment_version.CopyFrom(before.deployment_version)
        after.version = before.version
        started.inherited_pinned_version.CopyFrom(before.deployment_version)
    store(new, after)


def record_start(
    state: MutableState,
    request: StartWorkflowExecutionRequest,
    started: WorkflowExecutionStartedEventAttributes,
    routing: VersionRouting,
) -> None:
    """A new run's versioning: the override it was started with, or its pinned parent's version."""
    start_with_override(state, request, started)
    inherit_from_parent(state, routing, started)


def start_with_override(
    state: MutableState,
    request: StartWorkflowExecutionRequest,
    started: WorkflowExecutionStartedEventAttributes,
) -> None:
    """A run started with a versioning override keeps it until an update clears it."""
    if request.HasField("versioning_override"):
        started.versioning_override.CopyFrom(plain_override(request.versioning_override))
        versioning = info(state)
        versioning.versioning_override.CopyFrom(full_override(request.versioning_override))
        store(state, versioning)


def inherit_from_parent(
    state: MutableState, routing: VersionRouting, started: WorkflowExecutionStartedEventAttributes
) -> None:
    """A child of a pinned run starts on its parent's version when that version's workers poll
    the child's task queue, as on Temporal; its own workers' behavior decides from then on."""
    parent = state.parent
    if parent is None or not parent.pinned_version or info(state).HasField("versioning_override"):
        return
    if not routing.polls(state.namespace_id, state.task_queue, parent.pinned_version):
        return
    deployment, build_id = names.split_version(parent.pinned_version)
    version = WorkerDeploymentVersion(deployment_name=deployment, build_id=build_id)
    started.inherited_pinned_version.CopyFrom(version)
    versioning = info(state)
    versioning.behavior = PINNED
    versioning.deployment_version.CopyFrom(version)
    versioning.version = parent.pinned_version
    store(state, versioning)
