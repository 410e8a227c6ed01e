"""Saved views of the workflow list on SQLite (table ``saved_views``, migration 7)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from cadenza.persistence.records import SavedView
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.sqlite", "saved_views.sql")
T = TypeVar("T")


class SqliteSavedViews:
    """The ``SavedViewStore`` role, for ``SqliteStore`` to inherit: it runs the queries."""

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T:
        raise NotImplementedError

    async def saved_views(self, namespace_id: str) -> list[SavedView]:
        return [SavedView(*row) for row in await self._read(Q["list_saved_views"], (namespace_id,))]

    async def save_view(
        self, namespace_id: str, name: str, query_string: str, created_at: float, created_by: str
    ) -> bool:
        values = (namespace_id, name, query_string, created_at, created_by)
        return await self._changed(Q["insert_saved_view"], values)

    async def delete_view(self, namespace_id: str, name: str) -> bool:
        return await self._changed(Q["delete_saved_view"], (namespace_id, name))

    async def _changed(self, sql: str, params: tuple[Any, ...]) -> bool:
        """Run one write; True if it changed a row."""
        return await self._submit(lambda conn: conn.execute(sql, params).rowcount > 0, is_write=True)
