"""Faults at the store's methods, on either backend: what the engine and the roles see.

Each wrapped method asks the plan at point ``store.<method>`` (``recovery.<method>`` for the
reads a starting server makes) and then fails with ``StorageError`` as the backend raises it
when its driver fails, waits, or kills the process before or after doing the call. Only a
store's own instance is changed, so the server around it is the real one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from cadenza.persistence.errors import StorageError
from tests.faults.plan import Fault, FaultPlan, kill_now

WRITES = ("commit", "write_schedule", "remove_stale", "delete_execution")
"""Changes: a fault may strike before or after the database does them."""

READS = ("load_execution", "read_history", "get_current_execution", "get_schedule")

RECOVERY = ("list_tasks", "list_timers", "list_all_schedules")
"""What a starting server reads to hand stored tasks, timers and schedules back."""

DRIVER_FAILURE = "database commit failed: connection was closed in the middle of operation"
"""What the backends say when the connection drops under a change (PostgreSQL's asyncpg words)."""


def install(store: Any, plan: FaultPlan) -> None:
    """Wrap ``store``'s methods (before the server first calls them) so ``plan`` strikes them."""
    for name in WRITES:
        _wrap(store, name, plan, f"store.{name}")
    for name in READS:
        _wrap(store, name, plan, f"store.{name}")
    for name in RECOVERY:
        _wrap(store, name, plan, f"recovery.{name}")


def _wrap(store: Any, name: str, plan: FaultPlan, point: str) -> None:
    real: Callable[..., Awaitable[Any]] = getattr(store, name)

    async def faulty(*args: Any, **kwargs: Any) -> Any:
        fault = plan.choose(point)
        if fault is Fault.FAIL_BEFORE:
            raise StorageError(DRIVER_FAILURE)
        if fault is Fault.KILL_BEFORE:
            kill_now()
        if fault is Fault.DELAY:
            await asyncio.sleep(plan.delay_seconds())
        result = await real(*args, **kwargs)
        if fault is Fault.KILL_AFTER:
            kill_now()
        if fault is Fault.FAIL_AFTER:
            raise StorageError(DRIVER_FAILURE)
        return result

    faulty.__name__ = name
    setattr(store, name, faulty)
