"""Concurrency limits and slots on SQLite: the one writer thread takes each slot whole."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from cadenza.persistence.concurrency_records import (
    SLOT_FULL,
    SLOT_HELD,
    SLOT_TAKEN,
    ConcurrencyLimitRecord,
    SlotRecord,
)
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.sqlite", "concurrency.sql")
T = TypeVar("T")


class _Database(Protocol):
    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]: ...

    async def _submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T: ...


def _slot_key(slot: SlotRecord) -> tuple[Any, ...]:
    return (slot.namespace_id, slot.scope, slot.name, slot.workflow_id, slot.run_id, slot.scheduled_event_id)


def _slot_fields(slot: SlotRecord) -> tuple[Any, ...]:
    return (slot.attempt, slot.fairness_key, slot.acquired_at)


class SqliteConcurrency:
    """The ``ConcurrencyStore`` role of ``SqliteStore``."""

    async def list_concurrency_limits(self: _Database) -> list[ConcurrencyLimitRecord]:
        rows = await self._read(Q["list_limits"], ())
        return [ConcurrencyLimitRecord(r[0], r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in rows]

    async def put_concurrency_limit(self: _Database, limit: ConcurrencyLimitRecord) -> None:
        params = (limit.namespace_id, limit.scope, limit.name, limit.max_running)
        row = (*params, limit.fairness_key_max, limit.policy)
        await self._submit(lambda conn: conn.execute(Q["put_limit"], row), is_write=True)

    async def delete_concurrency_limit(self: _Database, namespace_id: str, scope: str, name: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return conn.execute(Q["delete_limit"], (namespace_id, scope, name)).rowcount > 0

        return await self._submit(run, is_write=True)

    async def acquire_slot(self: _Database, slot: SlotRecord, max_running: int, fairness_key_max: int) -> str:
        def run(conn: sqlite3.Connection) -> str:
            held = conn.execute(Q["slot_held"], _slot_key(slot)).fetchone()
            if held is not None:
                if int(held[0]) == slot.attempt:
                    return SLOT_HELD
                conn.execute(Q["update_slot"], (*_slot_fields(slot), *_slot_key(slot)))
                return SLOT_TAKEN
            scope = (slot.namespace_id, slot.scope, slot.name)
            if max_running and conn.execute(Q["count_scope"], scope).fetchone()[0] >= max_running:
                return SLOT_FULL
            if (
                fairness_key_max
                and conn.execute(Q["count_key"], (*scope, slot.fairness_key)).fetchone()[0]
                >= fairness_key_max
            ):
                return SLOT_FULL
            conn.execute(
                Q["insert_slot"], (*_slot_key(slot), slot.attempt, slot.fairness_key, slot.acquired_at)
            )
            return SLOT_TAKEN

        return await self._submit(run, is_write=True)

    async def release_slots(self: _Database, slots: list[SlotRecord]) -> None:
        if not slots:
            return
        rows = [_slot_key(s) for s in slots]
        await self._submit(lambda conn: conn.executemany(Q["delete_slot"], rows), is_write=True)

    async def list_slots(self: _Database) -> list[SlotRecord]:
        rows = await self._read(Q["list_slots"], ())
        return [
            SlotRecord(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), r[7], float(r[8])) for r in rows
        ]
