"""A due timer goes to the handler of the role that owns its kind, through one table.

The table is built once, when the server wires its roles, from one handler per
owner (``cadenza.timers.kinds.OWNERS`` says which owner fires which kind). A
handler that loses a conditional write runs again on the execution as it now
is: it sees for itself whether the timer still matters.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from cadenza.conflicts import retrying_conflicts
from cadenza.persistence.records import TimerRecord
from cadenza.timers.kinds import OWNERS, TimerOwner

logger = logging.getLogger(__name__)

FireHandler = Callable[[TimerRecord], Awaitable[None]]


def handler_table(handlers: Mapping[TimerOwner, FireHandler]) -> dict[str, FireHandler]:
    """Each kind's handler (its owner's), keyed by the stored string. Every owner must have one."""
    missing = set(TimerOwner) - handlers.keys()
    if missing:
        raise ValueError(f"no timer handler for {sorted(owner.value for owner in missing)}")
    return {kind: handlers[owner] for kind, owner in OWNERS.items()}


class TimerDispatch:
    """Fires each due timer with its kind's handler; a timer of no known kind is dropped."""

    def __init__(self, handlers: Mapping[TimerOwner, FireHandler], drop: FireHandler) -> None:
        self._table = handler_table(handlers)
        self._drop = drop

    async def fire(self, timer: TimerRecord) -> None:
        handler = self._table.get(timer.kind)
        if handler is None:
            # No handler will ever know it; kept, it would come back at every start.
            logger.error("unknown timer kind %s; dropping it", timer.kind)
            await self._drop(timer)
            return
        await retrying_conflicts(lambda: handler(timer), f"timer {timer.timer_id}")
