"""Workflow starts under the workflow-type and workflow-ID-prefix limits.

A start takes a slot of each limit it falls under before its run is written, and the run's
chain keeps them until it closes (continue-as-new, retries and cron runs keep them). A full
``reject`` limit refuses the start at once with RESOURCE_EXHAUSTED, having written nothing;
a full ``queue`` limit holds the start until a slot frees, or refuses it the same way if none
frees before the caller's deadline.
"""

from __future__ import annotations

import time

from temporalio.api.enums.v1 import ResourceExhaustedCause, ResourceExhaustedScope

from cadenza.concurrency.limits import REJECT, describe, key_of
from cadenza.concurrency.slots import REFRESH_SECONDS, ConcurrencyLimits
from cadenza.exceptions import ResourceExhaustedError
from cadenza.persistence.records import SLOT_FULL, SLOT_TAKEN, ConcurrencyLimitRecord, SlotRecord


async def admit_start(
    limits: ConcurrencyLimits, namespace_id: str, workflow_type: str, workflow_id: str, wait_until: float
) -> list[SlotRecord]:
    """Take the slots a start of this workflow needs, waiting for a ``queue`` limit's slot until
    ``wait_until`` (monotonic); the slots newly taken, for ``give_back_slots`` if the start fails.
    ``ResourceExhaustedError`` naming the limit when one is full."""
    applying = limits.workflow_limits(namespace_id, workflow_type, workflow_id)
    if not applying:
        return []
    taken: list[SlotRecord] = []
    try:
        for limit in applying:
            slot = SlotRecord(namespace_id, limit.scope, limit.name, workflow_id, "", 0, 0, "", time.time())
            while (outcome := await limits.take(slot, limit)) == SLOT_FULL:
                remaining = wait_until - time.monotonic()
                if limit.policy == REJECT or remaining <= 0:
                    raise _full(limits, limit)
                await limits.wait_freed(min(remaining, REFRESH_SECONDS))
            if outcome == SLOT_TAKEN:  # else the workflow runs already: its start is refused further on
                taken.append(slot)
    except BaseException:
        limits.give_back_slots(taken)
        raise
    return taken


def _full(limits: ConcurrencyLimits, limit: ConcurrencyLimitRecord) -> ResourceExhaustedError:
    return ResourceExhaustedError(
        f"{describe(limit)} reached: {limits.running(key_of(limit))} workflows running",
        cause=ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT,
        scope=ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE,
    )
