"""Saved views of the workflow list on PostgreSQL (table ``saved_views``, migration 7)."""

from __future__ import annotations

from typing import Any

import asyncpg

from cadenza.persistence.records import SavedView
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.postgres", "saved_views.sql")


class PostgresSavedViews:
    """The ``SavedViewStore`` role, for ``PostgresStore`` to inherit: it runs the queries."""

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        raise NotImplementedError

    async def _execute(self, sql: str, *args: Any) -> str:
        raise NotImplementedError

    async def saved_views(self, namespace_id: str) -> list[SavedView]:
        return [SavedView(*row) for row in await self._fetch(Q["list_saved_views"], namespace_id)]

    async def save_view(
        self, namespace_id: str, name: str, query_string: str, created_at: float, created_by: str
    ) -> bool:
        status = await self._execute(
            Q["insert_saved_view"], namespace_id, name, query_string, created_at, created_by
        )
        return status == "INSERT 0 1"

    async def delete_view(self, namespace_id: str, name: str) -> bool:
        return await self._execute(Q["delete_saved_view"], namespace_id, name) == "DELETE 1"
