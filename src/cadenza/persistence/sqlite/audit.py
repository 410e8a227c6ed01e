"""The audit log on SQLite: rows written as jobs of the writer thread, so they share its
group commits; listed on the reader's connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from cadenza.persistence import audit_sql
from cadenza.persistence.audit_records import AuditFilter, AuditRecord, from_row
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.sqlite", "queries.sql")
T = TypeVar("T")


def _question_mark(_position: int) -> str:
    return "?"


class SqliteAudit:
    """``AuditStore`` for ``SqliteStore``, which provides ``_submit`` and ``_read``."""

    async def _submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T:
        raise NotImplementedError

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def append_audit(self, record: AuditRecord) -> None:
        await self._submit(lambda conn: conn.execute(Q["insert_audit"], record.row()), is_write=True)

    async def list_audit(self, wanted: AuditFilter) -> list[AuditRecord]:
        sql, params = audit_sql.listing(_question_mark, wanted)
        return [from_row(row) for row in await self._read(sql, tuple(params))]

    async def delete_audit_before(self, cutoff: float, limit: int) -> int:
        deleted: int = await self._submit(
            lambda conn: conn.execute(Q["delete_audit_before"], (cutoff, limit)).rowcount, is_write=True
        )
        return deleted
