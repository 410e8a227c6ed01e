"""The audit log on PostgreSQL: one statement per row written on its own, listed by the
conditions a filter sets."""

from __future__ import annotations

from typing import Any

import asyncpg

from cadenza.persistence import audit_sql
from cadenza.persistence.audit_records import AuditFilter, AuditRecord, from_row
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.postgres", "queries.sql")


def _numbered(position: int) -> str:
    return f"${position}"


class PostgresAudit:
    """``AuditStore`` for ``PostgresStore``, which provides ``_fetch`` and ``_execute``."""

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        raise NotImplementedError

    async def _execute(self, sql: str, *args: Any) -> str:
        raise NotImplementedError

    async def append_audit(self, record: AuditRecord) -> None:
        await self._execute(Q["insert_audit"], *record.row())

    async def list_audit(self, wanted: AuditFilter) -> list[AuditRecord]:
        sql, params = audit_sql.listing(_numbered, wanted)
        return [from_row(tuple(row)) for row in await self._fetch(sql, *params)]

    async def delete_audit_before(self, cutoff: float, limit: int) -> int:
        rows = await self._fetch(Q["delete_audit_before"], cutoff, limit)
        return len(rows)
