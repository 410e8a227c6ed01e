"""API keys on PostgreSQL: the ``ApiKeyStore`` role as a mixin of ``PostgresStore``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from cadenza.exceptions import ConcurrentUpdateError
from cadenza.persistence.records import ApiKeyRecord
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.postgres", "api_keys.sql")


class PostgresApiKeys:
    """Keys in table ``api_keys``, shared by every replica of the database."""

    _fetch: Callable[..., Awaitable[list[asyncpg.Record]]]
    _execute: Callable[..., Awaitable[str]]

    async def create_api_key(self, record: ApiKeyRecord) -> None:
        try:
            await self._execute(
                Q["insert_api_key"],
                record.key_id,
                record.name,
                record.namespace,
                record.role,
                record.cluster_admin,
                record.secret_hash,
                record.created_at,
                record.expires_at,
            )
        except asyncpg.UniqueViolationError as exc:
            raise ConcurrentUpdateError(f"API key {record.key_id} exists already") from exc

    async def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        rows = await self._fetch(Q["get_api_key"], key_id)
        return ApiKeyRecord(*rows[0]) if rows else None

    async def list_api_keys(self, namespace: str | None = None) -> list[ApiKeyRecord]:
        if namespace is None:
            rows = await self._fetch(Q["list_api_keys"])
        else:
            rows = await self._fetch(Q["list_api_keys_of_namespace"], namespace)
        return [ApiKeyRecord(*row) for row in rows]

    async def revoke_api_key(self, key_id: str, revoked_at: float) -> bool:
        return bool(await self._fetch(Q["revoke_api_key"], revoked_at, key_id))

    async def touch_api_key(self, key_id: str, used_at: float) -> None:
        await self._execute(Q["touch_api_key"], used_at, key_id)
