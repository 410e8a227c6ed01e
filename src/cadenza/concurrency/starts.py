"""Workflow starts under the workflow-type and workflow-ID-prefix limits, whichever way a run
starts: a client's start or signal-with-start, update-with-start, a parent's child, a schedule.

A start takes a slot of each limit it falls under before its run is written, and the run's
chain keeps them until it closes (continue-as-new, retries, cron runs and resets keep them:
the slot is the workflow ID's, not one run's). A full ``reject`` limit refuses the start at
once with RESOURCE_EXHAUSTED, having written nothing; a full ``queue`` limit holds the start
until a slot frees, durably, and tries again as slots free (``try_admit``): a client's start
or signal-with-start is accepted at once and its run written, its first workflow task held back
by a stored timer (``TimerKind.AWAIT_SLOT``) until the run gets its slots; a child's start waits
in its parent's outbox entry, a schedule's in its schedule's buffer. Only update-with-start,
whose answer needs the run to take the update, waits inside the call, until its deadline.
"""

from __future__ import annotations

import time

from temporalio.api.enums.v1 import ResourceExhaustedCause, ResourceExhaustedScope

from cadenza.concurrency.limits import QUEUE, describe, key_of
from cadenza.concurrency.slots import REFRESH_SECONDS, ConcurrencyLimits
from cadenza.exceptions import ResourceExhaustedError
from cadenza.persistence.concurrency_records import SLOT_FULL, SLOT_TAKEN, ConcurrencyLimitRecord, SlotRecord


class LimitFull(ResourceExhaustedError):
    """A start found ``limit`` full (and, if it queues, no slot freed in time)."""

    def __init__(self, limits: ConcurrencyLimits, limit: ConcurrencyLimitRecord) -> None:
        super().__init__(
            f"{describe(limit)} reached: {limits.running(key_of(limit))} workflows running",
            cause=ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT,
            scope=ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE,
        )
        self.limit = limit


async def admit_start(
    limits: ConcurrencyLimits, namespace_id: str, workflow_type: str, workflow_id: str, wait_until: float
) -> list[SlotRecord]:
    """Take the slots a start of this workflow needs, waiting for a ``queue`` limit's slot until
    ``wait_until`` (monotonic); the slots newly taken, for ``give_back_slots`` if the start fails.
    ``LimitFull`` (a ``ResourceExhaustedError``) naming the limit when one is full."""
    applying = limits.workflow_limits(namespace_id, workflow_type, workflow_id)
    if not applying:
        return []
    taken: list[SlotRecord] = []
    try:
        for limit in applying:
            slot = SlotRecord(namespace_id, limit.scope, limit.name, workflow_id, "", 0, 0, "", time.time())
            while (outcome := await limits.take(slot, limit)) == SLOT_FULL:
                remaining = wait_until - time.monotonic()
                if limit.policy != QUEUE or remaining <= 0:
                    raise LimitFull(limits, limit)
                await limits.wait_freed(min(remaining, REFRESH_SECONDS))
            if outcome == SLOT_TAKEN:  # else the workflow runs already: its start is refused further on
                taken.append(slot)
    except BaseException:
        limits.give_back_slots(taken)
        raise
    return taken


async def try_admit_start(
    limits: ConcurrencyLimits, namespace_id: str, workflow_type: str, workflow_id: str
) -> list[SlotRecord] | None:
    """The slots newly taken for this start; None when a ``queue`` limit is full (nothing is
    taken: try again once a slot frees); ``LimitFull`` when a ``reject`` limit is."""
    try:
        return await admit_start(limits, namespace_id, workflow_type, workflow_id, 0.0)
    except LimitFull as full:
        if full.limit.policy == QUEUE:
            return None
        raise


class StartSlots:
    """What a start made by the server itself (a child's, a schedule's) asks of the limits: it
    must not block the caller, so a full ``queue`` limit answers "not yet" and the start is
    tried again later from where it waits durably."""

    def __init__(self, limits: ConcurrencyLimits) -> None:
        self._limits = limits

    async def try_admit(
        self, namespace_id: str, workflow_type: str, workflow_id: str
    ) -> list[SlotRecord] | None:
        """The slots newly taken for this start; None when a ``queue`` limit is full (nothing is
        taken: try again once a slot frees); ``LimitFull`` when a ``reject`` limit is."""
        return await try_admit_start(self._limits, namespace_id, workflow_type, workflow_id)

    async def wait_freed(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a slot to free or a limit to change."""
        await self._limits.wait_freed(timeout)

    def give_back(self, slots: list[SlotRecord]) -> None:
        """The start these slots were taken for did not start a run."""
        if slots:
            self._limits.give_back_slots(slots)
