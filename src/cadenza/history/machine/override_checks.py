"""A versioning override, checked as Temporal checks it (pure). Asked of a running workflow it is
checked after the run is found, so a missing run answers NotFound first; a start checks the one
it carries before anything is written (``for_start``).

A pinned override may leave out its version: it then pins the run to the version it is
pinned to already, and is refused when the run is not pinned. A start has no such run, so
its pinned override must name a version.
"""

from __future__ import annotations

from temporalio.api.deployment.v1 import WorkerDeploymentVersion
from temporalio.api.enums.v1 import VersioningBehavior
from temporalio.api.workflow.v1 import VersioningOverride, WorkflowExecutionOptions

from cadenza.deployments import names
from cadenza.exceptions import FailedPreconditionError, InvalidArgumentError
from cadenza.history.machine import versioning
from cadenza.history.machine.state import MutableState

UNSPECIFIED = VersioningBehavior.VERSIONING_BEHAVIOR_UNSPECIFIED
PINNED = VersioningBehavior.VERSIONING_BEHAVIOR_PINNED
AUTO_UPGRADE = VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE
PIN_UNSPECIFIED = VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_UNSPECIFIED
PIN_PINNED = VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED
_GO_NAMES: dict[int, str] = {UNSPECIFIED: "Unspecified", PINNED: "Pinned", AUTO_UPGRADE: "AutoUpgrade"}
"""A behavior as Temporal's (Go's) messages name it."""


def completed(state: MutableState, options: WorkflowExecutionOptions) -> WorkflowExecutionOptions:
    """The options asked for, a pinned override without a version given the run's own; refuses
    an override Temporal refuses. ``options`` itself is left as it is."""
    override = options.versioning_override
    if not options.HasField("versioning_override"):
        return options
    pins = override.HasField("pinned") and override.pinned.behavior != PIN_UNSPECIFIED
    if pins and not override.pinned.HasField("version"):
        options = _pinned_where_it_runs(state, options)
    check(options.versioning_override)
    return options


def _pinned_where_it_runs(state: MutableState, options: WorkflowExecutionOptions) -> WorkflowExecutionOptions:
    behavior, version = effective_behavior(state), versioning.pinned_version(state)
    if behavior != PINNED or not version:
        raise FailedPreconditionError(
            "must specify a specific pinned override version because workflow with id "
            f"{state.workflow_id} has behavior {_go_name(behavior)} and is not yet pinned to any version"
        )
    deployment_name, build_id = names.parsed_version(version)
    filled = WorkflowExecutionOptions()
    filled.CopyFrom(options)
    filled.versioning_override.pinned.version.CopyFrom(
        WorkerDeploymentVersion(deployment_name=deployment_name, build_id=build_id)
    )
    return filled


def effective_behavior(state: MutableState) -> int:
    """How the run moves between versions: by its override if it has one, else as its worker said."""
    info = versioning.info(state)
    if not info.HasField("versioning_override"):
        return int(info.behavior)
    override = info.versioning_override
    if override.auto_upgrade:
        return AUTO_UPGRADE
    if override.HasField("pinned"):
        return PINNED
    return int(override.behavior)


def _go_name(behavior: int) -> str:
    return _GO_NAMES.get(behavior, str(behavior))


def check(override: VersioningOverride) -> None:
    """Refuse an override Temporal refuses, in its words (the version is checked elsewhere)."""
    chosen = override.WhichOneof("override")
    if chosen == "auto_upgrade":
        if not override.auto_upgrade:
            raise InvalidArgumentError("auto-upgrade override must be true")
        return
    if chosen == "pinned":
        if not override.pinned.HasField("version"):
            raise InvalidArgumentError("must provide version if override is pinned.")
        if override.pinned.behavior == PIN_UNSPECIFIED:
            raise InvalidArgumentError("must specify pinned override behavior if override is pinned.")
        return
    _check_deprecated(override)


def _check_deprecated(override: VersioningOverride) -> None:
    """The override in its deprecated form: a behavior and, when it pins, a version string."""
    if override.behavior == UNSPECIFIED:
        raise InvalidArgumentError("override behavior is required")
    if override.behavior == PINNED:
        if not override.HasField("deployment") and not override.pinned_version:
            raise InvalidArgumentError(
                "must provide deployment (deprecated) or pinned version if behavior is 'PINNED'"
            )
    elif override.behavior == AUTO_UPGRADE:
        if override.HasField("deployment"):
            raise InvalidArgumentError("only provide deployment if behavior is 'PINNED'")
        if override.pinned_version:
            raise InvalidArgumentError("only provide pinned version if behavior is 'PINNED'")


def for_start(
    override: VersioningOverride, routing: versioning.VersionRouting, namespace_id: str, task_queue: str
) -> VersioningOverride:
    """The override a start carries, checked as Temporal checks it and given in its current form
    (the deprecated fields then filled in beside it, as for an update)."""
    check(override)
    current = in_current_form(override)
    require_polled(routing, namespace_id, task_queue, current)
    return current


def in_current_form(override: VersioningOverride) -> VersioningOverride:
    """A deprecated override (a behavior and a version string) as the current form says it;
    InvalidArgumentError for a malformed version string."""
    if override.HasField("pinned") or override.auto_upgrade:
        return override
    if override.behavior == AUTO_UPGRADE:
        return VersioningOverride(auto_upgrade=True)
    pinned = pinned_to(override)
    if pinned is None:
        return override
    deployment_name, build_id = pinned
    version = WorkerDeploymentVersion(deployment_name=deployment_name, build_id=build_id)
    return VersioningOverride(pinned=VersioningOverride.PinnedOverride(behavior=PIN_PINNED, version=version))


def require_polled(
    routing: versioning.VersionRouting, namespace_id: str, task_queue: str, override: VersioningOverride
) -> None:
    """A run may be pinned only to a version whose workers poll its task queue."""
    pinned = pinned_to(override)
    if pinned is None:
        return
    deployment_name, build_id = pinned
    version = names.version_name(deployment_name, build_id)
    if not build_id or not routing.polls(namespace_id, task_queue, version):
        raise FailedPreconditionError(
            f"Pinned version '{deployment_name}:{build_id}' is not present in task queue "
            f"'{task_queue}' of type 'Workflow'"
        )


def pinned_to(override: VersioningOverride) -> tuple[str, str] | None:
    """(deployment, build ID) of the version an override pins to, as given; None if it does not pin."""
    if override.HasField("pinned"):
        return override.pinned.version.deployment_name, override.pinned.version.build_id
    if override.behavior == PINNED and override.pinned_version:
        return names.parsed_version(override.pinned_version)
    return None
