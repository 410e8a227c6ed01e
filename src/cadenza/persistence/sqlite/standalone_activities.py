"""Standalone activities on SQLite (table ``standalone_activities``, migration 16)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from cadenza.exceptions import ConcurrentUpdateError
from cadenza.persistence import standalone_sql
from cadenza.persistence.changes import Check, Step
from cadenza.persistence.records import StandaloneActivityWrite, StoredStandaloneActivity
from cadenza.persistence.sql import load_queries
from cadenza.persistence.sqlite.visibility import DIALECT
from cadenza.visibility.query import Query

Q = load_queries("cadenza.persistence.sqlite", "standalone_activities.sql")
T = TypeVar("T")


class SqliteStandaloneActivities:
    """The ``StandaloneActivityStore`` role, for ``SqliteStore`` to inherit."""

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T:
        raise NotImplementedError

    async def write_standalone_activity(self, write: StandaloneActivityWrite) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for step in standalone_sql.write_steps(write):
                _run(conn, step)

        await self._submit(run, is_write=True)

    async def get_standalone_activity(
        self, namespace_id: str, activity_id: str, run_id: str
    ) -> StoredStandaloneActivity | None:
        if run_id:
            rows = await self._read(Q["get_standalone_activity"], (namespace_id, activity_id, run_id))
        else:
            rows = await self._read(Q["latest_standalone_activity"], (namespace_id, activity_id))
        return _stored(rows[0]) if rows else None

    async def list_standalone_activities(
        self,
        namespace_id: str,
        query: Query,
        types: dict[str, int],
        limit: int,
        after: standalone_sql.ListedAfter | None,
    ) -> list[StoredStandaloneActivity]:
        sql, params = standalone_sql.listing(DIALECT, namespace_id, query, types, limit, after)
        return [_stored(row) for row in await self._read(sql, tuple(params))]

    async def count_standalone_activities(
        self, namespace_id: str, query: Query, types: dict[str, int]
    ) -> list[tuple[int | None, int]]:
        sql, params = standalone_sql.counting(DIALECT, namespace_id, query, types)
        rows = await self._read(sql, tuple(params))
        return [(None if r[0] is None else int(r[0]), int(r[1])) for r in rows]

    async def delete_closed_standalone_activities(self, namespace_id: str, cutoff: float, limit: int) -> int:
        def run(conn: sqlite3.Connection) -> int:
            return conn.execute(
                Q["delete_closed_standalone_activities"], (namespace_id, cutoff, limit)
            ).rowcount

        return await self._submit(run, is_write=True)


def _stored(row: tuple[Any, ...]) -> StoredStandaloneActivity:
    start_time = float(row[6]) if len(row) > 6 else 0.0
    return StoredStandaloneActivity(row[0], row[1], row[2], int(row[3]), row[4], bytes(row[5]), start_time)


def _run(conn: sqlite3.Connection, step: Step) -> None:
    sql = Q[step.query]
    if step.check is Check.NONE:
        conn.executemany(sql, step.rows)
        return
    try:
        cur = conn.execute(sql, step.rows[0])
    except sqlite3.IntegrityError as exc:
        raise ConcurrentUpdateError(step.conflict) from exc
    if step.check is Check.ONE_ROW and cur.rowcount != 1:
        raise ConcurrentUpdateError(step.conflict)
