"""Nexus endpoints on SQLite: conditional writes on the row's version."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from cadenza.persistence.records import StoredNexusEndpoint
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.sqlite", "nexus_endpoints.sql")
T = TypeVar("T")


class _Database(Protocol):
    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]: ...

    async def _submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T: ...


class SqliteNexusEndpoints:
    """The ``NexusEndpointStore`` role of ``SqliteStore``."""

    async def create_nexus_endpoint(self: _Database, endpoint: StoredNexusEndpoint) -> bool:
        e = endpoint
        params = (e.endpoint_id, e.name, e.version, e.created_time, e.modified_time, e.spec)
        return await _write_one(self, Q["insert_nexus_endpoint"], params)

    async def get_nexus_endpoint(self: _Database, endpoint_id: str) -> StoredNexusEndpoint | None:
        rows = await self._read(Q["get_nexus_endpoint"], (endpoint_id,))
        return _endpoint(rows[0]) if rows else None

    async def get_nexus_endpoint_by_name(self: _Database, name: str) -> StoredNexusEndpoint | None:
        rows = await self._read(Q["get_nexus_endpoint_by_name"], (name,))
        return _endpoint(rows[0]) if rows else None

    async def update_nexus_endpoint(self: _Database, endpoint: StoredNexusEndpoint, version: int) -> bool:
        e = endpoint
        params = (e.name, e.version, e.modified_time, e.spec, e.endpoint_id, version)
        return await _write_one(self, Q["update_nexus_endpoint"], params)

    async def delete_nexus_endpoint(self: _Database, endpoint_id: str) -> bool:
        return await _write_one(self, Q["delete_nexus_endpoint"], (endpoint_id,))

    async def list_nexus_endpoints(self: _Database, after_id: str, limit: int) -> list[StoredNexusEndpoint]:
        rows = await self._read(Q["list_nexus_endpoints"], (after_id, limit))
        return [_endpoint(row) for row in rows]


async def _write_one(db: _Database, sql: str, params: tuple[Any, ...]) -> bool:
    """Run one conditional write; whether it changed a row (a taken name changes none)."""

    def run(conn: sqlite3.Connection) -> bool:
        try:
            return conn.execute(sql, params).fetchone() is not None
        except sqlite3.IntegrityError:
            return False

    return await db._submit(run, is_write=True)


def _endpoint(row: tuple[Any, ...]) -> StoredNexusEndpoint:
    modified = None if row[4] is None else float(row[4])
    return StoredNexusEndpoint(row[0], row[1], int(row[2]), float(row[3]), modified, bytes(row[5]))
