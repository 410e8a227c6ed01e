"""Standalone activities on PostgreSQL (table ``standalone_activities``, migration 16)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from cadenza.exceptions import ConcurrentUpdateError
from cadenza.persistence import standalone_sql
from cadenza.persistence.changes import Check, Step
from cadenza.persistence.postgres.visibility import DIALECT
from cadenza.persistence.records import StandaloneActivityWrite, StoredStandaloneActivity
from cadenza.persistence.sql import load_queries
from cadenza.visibility.query import Query

Q = load_queries("cadenza.persistence.postgres", "standalone_activities.sql")


class PostgresStandaloneActivities:
    """The ``StandaloneActivityStore`` role, for ``PostgresStore`` to inherit."""

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        raise NotImplementedError

    def _transaction(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    async def write_standalone_activity(self, write: StandaloneActivityWrite) -> None:
        async with self._transaction() as conn:
            for step in standalone_sql.write_steps(write):
                await _run(conn, step)

    async def get_standalone_activity(
        self, namespace_id: str, activity_id: str, run_id: str
    ) -> StoredStandaloneActivity | None:
        if run_id:
            rows = await self._fetch(Q["get_standalone_activity"], namespace_id, activity_id, run_id)
        else:
            rows = await self._fetch(Q["latest_standalone_activity"], namespace_id, activity_id)
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
        return [_stored(row) for row in await self._fetch(sql, *params)]

    async def count_standalone_activities(
        self, namespace_id: str, query: Query, types: dict[str, int]
    ) -> list[tuple[int | None, int]]:
        sql, params = standalone_sql.counting(DIALECT, namespace_id, query, types)
        rows = await self._fetch(sql, *params)
        return [(None if r[0] is None else int(r[0]), int(r[1])) for r in rows]

    async def delete_closed_standalone_activities(self, namespace_id: str, cutoff: float, limit: int) -> int:
        async with self._transaction() as conn:
            status = await conn.execute(Q["delete_closed_standalone_activities"], namespace_id, cutoff, limit)
        return int(status.rsplit(" ", 1)[-1])


def _stored(row: asyncpg.Record) -> StoredStandaloneActivity:
    start_time = float(row[6]) if len(row) > 6 else 0.0
    return StoredStandaloneActivity(row[0], row[1], row[2], int(row[3]), row[4], bytes(row[5]), start_time)


async def _run(conn: Any, step: Step) -> None:
    sql = Q[step.query]
    if step.check is Check.NONE:
        await conn.executemany(sql, step.rows)
        return
    try:
        status = await conn.execute(sql, *step.rows[0])
    except asyncpg.UniqueViolationError as exc:
        raise ConcurrentUpdateError(step.conflict) from exc
    if step.check is Check.ONE_ROW and int(status.rsplit(" ", 1)[-1]) != 1:
        raise ConcurrentUpdateError(step.conflict)
