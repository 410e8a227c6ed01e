"""What to do when another writer changed an execution first: run the work again, a few times.

Every change is a write conditional on the execution's version. A write that
loses to another replica (or to a newer copy in the database) raises
``ConcurrentUpdateError``, keeps nothing and drops the cached copy, so running
the same work again starts from the execution as the database has it. RPCs and
timers both follow this one policy.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from cadenza.exceptions import ConcurrentUpdateError

logger = logging.getLogger(__name__)

CONFLICT_ATTEMPTS = 5
"""How often a piece of work runs in all before a lost conditional write reaches its caller."""

T = TypeVar("T")


async def retrying_conflicts(work: Callable[[], Awaitable[T]], name: str) -> T:
    """Run ``work``; while another writer keeps changing the execution first, run it again.

    Only ``ConcurrentUpdateError`` is retried; whatever the last attempt raises reaches the caller.
    ``name`` says what lost the write, in the debug log.
    """
    for _ in range(CONFLICT_ATTEMPTS - 1):
        try:
            return await work()
        except ConcurrentUpdateError:
            logger.debug("%s lost a conditional write; running it again", name)
    return await work()
