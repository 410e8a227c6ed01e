"""Faults inside SQLite's group commit, where several callers' changes share one transaction.

The writer's connection is replaced by a stand-in that asks the plan at two statements of
``group_commit``: the ``COMMIT`` that ends a group (point ``group.commit``) and the
``RELEASE`` of each change's savepoint inside it (point ``group.change``). There a fault raises
``sqlite3.OperationalError`` as SQLite does when the disk fails, waits, or kills the process
before or after the statement: between two changes of one group, before its commit, or after
the commit and before any caller hears of it. The real ``group_commit`` code then handles
what SQLite raised.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from tests.faults.plan import Fault, FaultPlan, kill_now

DISK_FULL = "database or disk is full"
READ_ONLY = "attempt to write a readonly database"
IO_ERROR = "disk I/O error"

POINTS = {"COMMIT": "group.commit", "RELEASE change": "group.change"}


class FaultyConnection:
    """A ``sqlite3.Connection`` whose group-commit statements ``plan`` strikes."""

    def __init__(self, conn: sqlite3.Connection, plan: FaultPlan, message: str = IO_ERROR) -> None:
        self._conn = conn
        self._plan = plan
        self.message = message
        """What a failing statement says: an I/O error, a full disk, a read-only file."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        point = POINTS.get(sql)
        if point is None:
            return self._conn.execute(sql, *args)
        fault = self._plan.choose(point)
        if fault is Fault.FAIL_BEFORE:
            raise sqlite3.OperationalError(self.message)
        if fault is Fault.KILL_BEFORE:
            kill_now()
        if fault is Fault.DELAY:
            time.sleep(self._plan.delay_seconds())
        cursor = self._conn.execute(sql, *args)
        if fault is Fault.KILL_AFTER:
            kill_now()
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def faulty_connect(
    connect: Callable[[str], sqlite3.Connection], plan: FaultPlan, message: str = IO_ERROR
) -> Callable[[str], sqlite3.Connection]:
    """``connect`` (the SQLite store's) handing out connections that ``plan`` strikes, their
    failures saying ``message``."""

    def connect_faulty(path: str) -> sqlite3.Connection:
        return FaultyConnection(connect(path), plan, message)  # type: ignore[return-value]

    return connect_faulty
