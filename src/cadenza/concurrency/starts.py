"""Workflow starts under the workflow-type and workflow-ID-prefix limits, whichever way a run
starts: a client's start or signal-with-start, update-with-start, a parent's child, a schedule,
a workflow's signal-with-start through the system Nexus endpoint.

A start takes a slot of each limit it falls under before its run is written, and the run's
chain keeps them until it closes (continue-as-new, retries, cron runs and resets keep them:
the slot is the workflow ID's, not one run's). A full ``reject`` limit refuses the start at
once with RESOURCE_EXHAUSTED, having written nothing. What a full ``queue`` limit does depends
on who starts (``WhenQueued``), since each waits where it is durable: a client's start or
signal-with-start is accepted at once and its run written, its first workflow task held back
by a stored timer (``TimerKind.AWAIT_SLOT``) until the run gets its slots; a child's start
waits in its parent's outbox entry, a schedule's in its schedule's buffer, a system Nexus
operation's in its outbox entry. Only update-with-start, whose answer needs the run to take
the update, waits inside the call, until its deadline.

Every start goes through ``StartSlots.start``, so a start that writes no run (it failed, or
found the workflow's run already there) always gives back the slots it took.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar, overload

from temporalio.api.enums.v1 import ResourceExhaustedCause, ResourceExhaustedScope
from temporalio.api.workflowservice.v1 import StartWorkflowExecutionRequest

from cadenza.concurrency.limits import QUEUE, describe, key_of
from cadenza.concurrency.slots import ConcurrencyLimits
from cadenza.exceptions import ResourceExhaustedError
from cadenza.persistence.concurrency_records import SLOT_FULL, SLOT_TAKEN, ConcurrencyLimitRecord, SlotRecord

SLOT_WAIT_SECONDS = 2.0
"""How long a start waiting for a slot waits before it tries again, and looks whether it is
still wanted; a freed slot or a changed limit wakes it sooner."""

StillWanted = Callable[[], Awaitable[bool]]
"""Whether a start waiting for a slot is still wanted (its parent still waits for the child,
its run still waits for its first workflow task)."""


class LimitFull(ResourceExhaustedError):
    """A start found ``limit`` full (and, if it queues, no slot freed in time)."""

    def __init__(self, limits: ConcurrencyLimits, limit: ConcurrencyLimitRecord) -> None:
        super().__init__(
            f"{describe(limit)} reached: {limits.running(key_of(limit))} workflows running",
            cause=ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT,
            scope=ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE,
        )
        self.limit = limit


# -- what a start does while a ``queue`` limit it falls under is full --------------------------


@dataclass(frozen=True)
class RunWaits:
    """Start the run now, its first workflow task held back until it gets its slots: a client's
    start answers at once, as on a server without limits."""


@dataclass(frozen=True)
class NotYet:
    """Start nothing and answer None: the caller tries again from where it waits durably (a
    schedule's buffer, a system Nexus operation's outbox entry)."""


@dataclass(frozen=True)
class WaitUntil:
    """Wait here for the slots until ``deadline`` (monotonic), then refuse with ``LimitFull``:
    update-with-start's answer needs the run, so its call holds on while it can."""

    deadline: float


@dataclass(frozen=True)
class WaitWhileWanted:
    """Wait here for the slots while ``still_wanted`` says so, then answer None: a child's start,
    whose outbox entry stays stored meanwhile (a restart or another replica takes the wait over)."""

    still_wanted: StillWanted


WhenQueued = RunWaits | NotYet | WaitUntil | WaitWhileWanted
RUN_WAITS = RunWaits()
NOT_YET = NotYet()


class Started(Protocol):
    """What a start answers: whether it wrote a new run."""

    @property
    def started(self) -> bool: ...


R = TypeVar("R", bound=Started)
Begin = Callable[[bool], Awaitable[R]]
"""Starts the run, told whether it must wait for its slots (``RunWaits`` past a full limit)."""


class StartSlots:
    """The slots workflow starts take under the concurrency limits; with no limits (``None``)
    every start is admitted at once."""

    def __init__(self, limits: ConcurrencyLimits | None) -> None:
        self._limits = limits

    @overload
    async def start(
        self,
        namespace_id: str,
        request: StartWorkflowExecutionRequest,
        begin: Begin[R],
        when_queued: RunWaits | WaitUntil,
    ) -> R: ...

    @overload
    async def start(
        self,
        namespace_id: str,
        request: StartWorkflowExecutionRequest,
        begin: Begin[R],
        when_queued: NotYet | WaitWhileWanted,
    ) -> R | None: ...

    async def start(
        self,
        namespace_id: str,
        request: StartWorkflowExecutionRequest,
        begin: Begin[R],
        when_queued: WhenQueued,
    ) -> R | None:
        """Take the slots of the limits ``request`` falls under, then ``begin`` the start; None
        when a full ``queue`` limit leaves nothing started (``when_queued``). ``LimitFull`` when
        a ``reject`` limit is full. The slots taken are given back if ``begin`` fails or writes
        no run (the workflow's run was there already): only a new run holds them."""
        kind, workflow_id = request.workflow_type.name, request.workflow_id
        slots: list[SlotRecord] | None
        match when_queued:
            case WaitUntil(deadline):
                slots = await self.wait_admit(namespace_id, kind, workflow_id, deadline=deadline)
            case WaitWhileWanted(still_wanted):
                slots = await self.wait_admit(namespace_id, kind, workflow_id, still_wanted=still_wanted)
            case _:
                slots = await self._try_admit(namespace_id, kind, workflow_id)
        if slots is None and not isinstance(when_queued, RunWaits):
            return None
        try:
            result = await begin(slots is None)
        except BaseException:
            self._give_back(slots)
            raise
        if not result.started:
            self._give_back(slots)
        return result

    async def _try_admit(
        self, namespace_id: str, workflow_type: str, workflow_id: str
    ) -> list[SlotRecord] | None:
        """The slots newly taken for this start; None when a ``queue`` limit is full (nothing is
        taken: try again once a slot frees); ``LimitFull`` when a ``reject`` limit is."""
        try:
            return await self._take_all(namespace_id, workflow_type, workflow_id)
        except LimitFull as full:
            if full.limit.policy == QUEUE:
                return None
            raise

    async def wait_admit(
        self,
        namespace_id: str,
        workflow_type: str,
        workflow_id: str,
        *,
        still_wanted: StillWanted | None = None,
        deadline: float = math.inf,
        reject_waits: bool = False,
    ) -> list[SlotRecord] | None:
        """The slots newly taken for this start, waiting while a ``queue`` limit is full: until
        ``deadline`` (monotonic; past it ``LimitFull`` naming the limit), and while
        ``still_wanted()`` (None once it is not). A full ``reject`` limit refuses at once with
        ``LimitFull``, unless ``reject_waits``: a run accepted while the limit queued waits
        whatever policy it was given since."""
        while True:
            try:
                return await self._take_all(namespace_id, workflow_type, workflow_id)
            except LimitFull as full:
                remaining = deadline - time.monotonic()
                if (full.limit.policy != QUEUE and not reject_waits) or remaining <= 0:
                    raise
            # Waiting holds none of the slots: a start that needs two limits must not keep
            # one's slot from other starts while it waits for the other's.
            await self._wait_freed(min(remaining, SLOT_WAIT_SECONDS))
            if still_wanted is not None and not await still_wanted():
                return None

    async def _take_all(self, namespace_id: str, workflow_type: str, workflow_id: str) -> list[SlotRecord]:
        """Take a slot of each limit the start falls under; the slots newly taken. ``LimitFull``
        naming the first full limit, having given back the slots taken before it."""
        limits = self._limits
        if limits is None:
            return []
        applying = limits.workflow_limits(namespace_id, workflow_type, workflow_id)
        if not applying:
            return []
        taken: list[SlotRecord] = []
        try:
            for limit in applying:
                slot = SlotRecord(
                    namespace_id, limit.scope, limit.name, workflow_id, "", 0, 0, "", time.time()
                )
                outcome = await limits.take(slot, limit)
                if outcome == SLOT_FULL:
                    raise LimitFull(limits, limit)
                if outcome == SLOT_TAKEN:  # else the workflow runs already: its start is refused further on
                    taken.append(slot)
        except BaseException:
            self._give_back(taken)
            raise
        return taken

    async def _wait_freed(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a slot to free or a limit to change."""
        if self._limits is not None:
            await self._limits.wait_freed(timeout)

    def _give_back(self, slots: list[SlotRecord] | None) -> None:
        """The start these slots were taken for wrote no run."""
        if slots and self._limits is not None:
            self._limits.give_back_slots(slots)
