"""Worker Deployment routing without a server: version names, ramps, routing changes, and a run's
versioning (pure functions)."""

from __future__ import annotations

from temporalio.api.deployment.v1 import WorkerDeploymentVersion
from temporalio.api.enums.v1 import ContinueAsNewVersioningBehavior, VersioningBehavior
from temporalio.api.history.v1 import WorkflowExecutionStartedEventAttributes
from temporalio.api.workflow.v1 import VersioningOverride, WorkflowExecutionVersioningInfo

from cadenza.deployments import drainage, names, routing
from cadenza.deployments.model import CURRENT, DRAINED, DRAINING, INACTIVE, RAMPING, Deployment, Version
from cadenza.history.machine import versioning
from cadenza.history.machine.state import MutableState

PINNED = VersioningBehavior.VERSIONING_BEHAVIOR_PINNED


def test_a_version_queue_names_its_task_queue_and_version() -> None:
    queue = names.versioned_queue("orders", "checkout.1.0")
    assert names.is_internal(queue)
    assert names.user_queue(queue) == "orders"
    assert names.user_queue("orders") == "orders"
    assert names.split_version("checkout.1.2.3") == ("checkout", "1.2.3")


def test_a_ramp_takes_the_same_workflows_every_time_and_about_its_share() -> None:
    ids = [f"wf-{i}" for i in range(2000)]
    taken = [i for i in ids if names.in_ramp(i, 25)]
    assert taken == [i for i in ids if names.in_ramp(i, 25)]
    assert 400 < len(taken) < 600
    assert not any(names.in_ramp(i, 0) for i in ids)
    assert all(names.in_ramp(i, 100) for i in ids)


def _deployment() -> Deployment:
    deployment = Deployment("checkout", 1.0)
    for build_id in ("1.0", "2.0"):
        deployment.versions[build_id] = Version(build_id, 1.0, task_queues=[("orders", 1)])
    return deployment


def test_statuses_follow_the_routing_as_on_temporal() -> None:
    deployment = _deployment()
    deployment.versions["3.0"] = Version("3.0", 1.0, task_queues=[("orders", 1)])
    routing.set_current(deployment, "1.0", "me", 2.0)
    routing.set_ramping(deployment, "2.0", 30, "me", 3.0)
    assert (deployment.versions["1.0"].status, deployment.versions["2.0"].status) == (CURRENT, RAMPING)
    routing.set_current(deployment, "2.0", "me", 4.0)  # the ramping version made current: the ramp ends
    assert (deployment.ramping_build, deployment.ramp_percentage) == ("", 0.0)
    assert (deployment.versions["1.0"].status, deployment.versions["2.0"].status) == (DRAINING, CURRENT)
    assert deployment.revision == 3
    routing.set_ramping(deployment, names.UNVERSIONED, 10, "me", 5.0)
    routing.set_current(deployment, "", "me", 6.0)  # unversioned current: no ramp to it
    assert deployment.ramping_build == ""
    # Never current nor ramping: no routing change touches it.
    assert deployment.versions["3.0"].status == INACTIVE


def _state() -> MutableState:
    return MutableState("ns", "default", "wf", "run", "Type", "orders", 0.0, "req", 10.0, 0.0, 0.0)


def _pinned_info(build_id: str) -> WorkflowExecutionVersioningInfo:
    return WorkflowExecutionVersioningInfo(
        behavior=PINNED,
        deployment_version=WorkerDeploymentVersion(deployment_name="checkout", build_id=build_id),
    )


def test_an_override_wins_over_the_behavior_of_the_run() -> None:
    state = _state()
    versioning.store(state, _pinned_info("1.0"))
    assert versioning.pinned_version(state) == "checkout.1.0"
    info = versioning.info(state)
    info.versioning_override.CopyFrom(VersioningOverride(auto_upgrade=True))
    versioning.store(state, info)
    assert versioning.pinned_version(state) == ""
    info.versioning_override.CopyFrom(
        versioning.full_override(
            VersioningOverride(
                pinned=VersioningOverride.PinnedOverride(
                    behavior=VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED,
                    version=WorkerDeploymentVersion(deployment_name="checkout", build_id="2.0"),
                )
            )
        )
    )
    versioning.store(state, info)
    assert versioning.pinned_version(state) == "checkout.2.0"
    assert versioning.info(state).versioning_override.pinned_version == "checkout.2.0"


def test_continue_as_new_keeps_a_pin_unless_asked_to_move() -> None:
    old = _state()
    versioning.store(old, _pinned_info("1.0"))
    kept, moved, ramping = _state(), _state(), _state()
    started = WorkflowExecutionStartedEventAttributes()
    versioning.continue_onto(old, kept, started, 0)
    assert versioning.pinned_version(kept) == "checkout.1.0"
    assert started.inherited_pinned_version.build_id == "1.0"
    auto = ContinueAsNewVersioningBehavior.CONTINUE_AS_NEW_VERSIONING_BEHAVIOR_AUTO_UPGRADE
    versioning.continue_onto(old, moved, WorkflowExecutionStartedEventAttributes(), auto)
    assert versioning.pinned_version(moved) == ""
    versioning.continue_onto(old, ramping, WorkflowExecutionStartedEventAttributes(), versioning.USE_RAMPING)
    assert versioning.info(ramping).continue_as_new_initial_versioning_behavior == versioning.USE_RAMPING


def test_a_version_drains_after_its_grace_period_and_is_drained_at_no_pinned_run() -> None:
    deployment = _deployment()
    routing.set_current(deployment, "1.0", "me", 2.0)
    routing.set_current(deployment, "2.0", "me", 10.0)
    old = deployment.versions["1.0"]
    assert (old.status, old.drainage_status) == (DRAINING, drainage.STATUS_DRAINING)
    assert not drainage.due(old, 11.0, grace=3.0, refresh=1.0)  # within the grace period
    assert drainage.due(old, 13.0, grace=3.0, refresh=1.0)
    drainage.counted(old, 2, 13.0)
    assert (old.status, old.drainage_changed_time, old.drainage_checked_time) == (DRAINING, 10.0, 13.0)
    assert not drainage.due(old, 13.5, grace=3.0, refresh=1.0)  # next at the refresh, not the grace
    assert drainage.due(old, 14.0, grace=3.0, refresh=1.0)
    drainage.counted(old, 0, 14.0)
    assert (old.status, old.drainage_status, old.drainage_changed_time) == (
        DRAINED,
        drainage.STATUS_DRAINED,
        14.0,
    )
    assert not drainage.due(old, 100.0, grace=3.0, refresh=1.0)  # drained: no more counts
    assert deployment.versions["2.0"].drainage_status == 0
    routing.set_ramping(deployment, "1.0", 10, "me", 20.0)  # taking new work again: no drainage
    assert (old.status, old.drainage_status, old.drainage_checked_time) == (RAMPING, 0, 0.0)
    drainage.counted(old, 0, 21.0)  # a count begun before it ramped changes nothing
    assert old.status == RAMPING
    routing.set_ramping(deployment, "", 0, "me", 22.0)  # the ramp ends: it drains again
    assert (old.status, old.drainage_status, old.drainage_changed_time) == (
        DRAINING,
        drainage.STATUS_DRAINING,
        22.0,
    )
    drainage.counted(old, 0, 25.0)
    routing.set_current(deployment, "1.0", "me", 30.0)  # drained, made current, then not
    routing.set_current(deployment, "2.0", "me", 31.0)
    assert (old.status, old.drainage_status, old.drainage_changed_time) == (
        DRAINING,
        drainage.STATUS_DRAINING,
        31.0,
    )
    assert drainage.pinned_runs_query("it's", "1.0") == (
        "TemporalWorkerDeploymentVersion = 'it\\'s:1.0' AND "
        "TemporalWorkflowVersioningBehavior = 'Pinned' AND ExecutionStatus = 'Running'"
    )
