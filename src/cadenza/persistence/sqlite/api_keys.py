"""API keys on SQLite: the ``ApiKeyStore`` role as a mixin of ``SqliteStore``."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from cadenza.exceptions import ConcurrentUpdateError
from cadenza.persistence.records import ApiKeyRecord
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.sqlite", "api_keys.sql")
T = TypeVar("T")


class SqliteApiKeys:
    """Keys in table ``api_keys``; reads and writes go through the store's database threads."""

    _read: Callable[[str, tuple[Any, ...]], Awaitable[list[tuple[Any, ...]]]]
    _submit: Callable[..., Awaitable[Any]]

    async def create_api_key(self, record: ApiKeyRecord) -> None:
        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    Q["insert_api_key"],
                    (
                        record.key_id,
                        record.name,
                        record.namespace,
                        record.role,
                        int(record.cluster_admin),
                        record.secret_hash,
                        record.created_at,
                        record.expires_at,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise ConcurrentUpdateError(f"API key {record.key_id} exists already") from exc

        await self._submit(run, is_write=True)

    async def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        rows = await self._read(Q["get_api_key"], (key_id,))
        return _record(rows[0]) if rows else None

    async def list_api_keys(self, namespace: str | None = None) -> list[ApiKeyRecord]:
        if namespace is None:
            rows = await self._read(Q["list_api_keys"], ())
        else:
            rows = await self._read(Q["list_api_keys_of_namespace"], (namespace,))
        return [_record(row) for row in rows]

    async def revoke_api_key(self, key_id: str, revoked_at: float) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return conn.execute(Q["revoke_api_key"], (revoked_at, key_id)).rowcount == 1

        revoked: bool = await self._submit(run, is_write=True)
        return revoked

    async def touch_api_key(self, key_id: str, used_at: float) -> None:
        await self._submit(lambda conn: conn.execute(Q["touch_api_key"], (used_at, key_id)), is_write=True)


def _record(row: tuple[Any, ...]) -> ApiKeyRecord:
    return ApiKeyRecord(row[0], row[1], row[2], row[3], bool(row[4]), *row[5:])
