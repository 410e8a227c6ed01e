"""The concurrency limits and the slots of their running holders, as stored (see
``cadenza.concurrency``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConcurrencyLimitRecord:
    """A cap on how many holders of one scope run at once (see ``cadenza.concurrency``)."""

    namespace_id: str
    scope: str
    """What is limited: ``activity-queue``, ``workflow-type`` or ``workflow-id-prefix``."""
    name: str
    """The queue, the workflow type or the workflow-ID prefix."""
    max_running: int
    """At most this many at once over the whole scope; 0: no such limit."""
    fairness_key_max: int
    """At most this many at once per fairness key (activity queues only); 0: no such limit."""
    policy: str
    """When full: ``queue`` (wait for a slot) or ``reject`` (refuse a workflow's start)."""


SLOT_TAKEN, SLOT_HELD, SLOT_FULL = "taken", "held", "full"
"""What taking a slot came to (``ConcurrencyStore.acquire_slot``)."""


@dataclass(frozen=True)
class SlotRecord:
    """One running holder of a limit's slot: an activity attempt, or a workflow's chain of runs."""

    namespace_id: str
    scope: str
    name: str
    workflow_id: str
    run_id: str
    """The activity's run; "" for a workflow's slot, which its continued runs keep."""
    scheduled_event_id: int
    """The activity; 0 for a workflow's slot."""
    attempt: int
    fairness_key: str
    acquired_at: float
