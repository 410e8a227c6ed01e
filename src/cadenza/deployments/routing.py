"""Changes of a deployment's routing: its current and ramping versions and their statuses (pure).

As on Temporal, a version that stops being current or ramping is draining (``drainage``
follows it from there); making the ramping version current ends the ramp; each change counts
in the routing's revision.
"""

from __future__ import annotations

from cadenza.deployments import drainage, names
from cadenza.deployments.model import CURRENT, RAMPING, Deployment


def set_current(deployment: Deployment, build_id: str, identity: str, now: float) -> None:
    """Make ``build_id`` (empty: the unversioned workers) the current version."""
    previous = deployment.versions.get(deployment.current_build)
    if previous is not None:
        drainage.begin(previous, now)
        previous.last_deactivation_time = now
        previous.current_since = 0.0
        previous.routing_changed_time = now
    deployment.current_build = build_id
    deployment.current_changed_time = now
    if not build_id and deployment.ramping_build == names.UNVERSIONED:
        _end_ramp(deployment, now)  # the unversioned workers are current: no ramp to them
    version = deployment.versions.get(build_id)
    if version is not None:
        if deployment.ramping_build == build_id:  # the ramp ends: it is current now
            _end_ramp(deployment, now)
        version.status = CURRENT
        drainage.end(version)
        version.current_since = now
        version.last_current_time = now
        version.routing_changed_time = now
        version.first_activation_time = version.first_activation_time or now
        version.last_modifier_identity = identity
    _touched(deployment, identity)


def set_ramping(deployment: Deployment, build_id: str, percentage: float, identity: str, now: float) -> None:
    """Ramp ``percentage`` of new work to ``build_id`` (``names.UNVERSIONED``: to the
    unversioned workers); an empty build ID ends the ramp."""
    if deployment.ramping_build != build_id:
        _end_ramp(deployment, now)
        deployment.ramping_changed_time = now
    if build_id == names.UNVERSIONED:
        if deployment.ramp_percentage != percentage:
            deployment.ramp_percentage_changed_time = now
        deployment.ramping_build, deployment.ramp_percentage = build_id, percentage
    version = deployment.versions.get(build_id)
    if version is not None:
        if version.status != RAMPING:
            version.ramping_since = now
            version.first_activation_time = version.first_activation_time or now
        version.status = RAMPING
        drainage.end(version)
        version.ramp_percentage = percentage
        version.routing_changed_time = now
        version.last_modifier_identity = identity
        deployment.ramping_build = build_id
        if deployment.ramp_percentage != percentage:
            deployment.ramp_percentage_changed_time = now
        deployment.ramp_percentage = percentage
    _touched(deployment, identity)


def _end_ramp(deployment: Deployment, now: float) -> None:
    ramping = deployment.versions.get(deployment.ramping_build)
    if ramping is not None and ramping.status == RAMPING:
        drainage.begin(ramping, now)
        ramping.ramping_since = 0.0
        ramping.ramp_percentage = 0.0
        ramping.routing_changed_time = now
        ramping.last_deactivation_time = now
    deployment.ramping_build = ""
    deployment.ramp_percentage = 0.0
    deployment.ramping_changed_time = now


def _touched(deployment: Deployment, identity: str) -> None:
    deployment.revision += 1
    deployment.last_modifier_identity = identity
