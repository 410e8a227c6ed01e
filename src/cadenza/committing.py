"""Work that must not stop halfway when its caller is cancelled.

A store that has been handed a write commits it whether or not the caller still
waits for the answer: a client's deadline can pass, or it can hang up, in the
middle of a commit. What follows a commit in memory (handing tasks to matching,
timers to the timer queue) must then happen all the same, or the stored rows
would wait, due, for the next restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def finish_even_if_cancelled(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to its end; a cancellation of the caller meanwhile is raised after it."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            if task.done():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result
