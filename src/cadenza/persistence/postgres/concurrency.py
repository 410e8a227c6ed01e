"""Concurrency limits and slots on PostgreSQL: the takers of one scope's slots go in turn."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import asyncpg

from cadenza.persistence.concurrency_records import (
    SLOT_FULL,
    SLOT_HELD,
    SLOT_TAKEN,
    ConcurrencyLimitRecord,
    SlotRecord,
)
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.postgres", "concurrency.sql")


class _Database(Protocol):
    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]: ...

    async def _execute(self, sql: str, *args: Any) -> str: ...

    def _transaction(self) -> AbstractAsyncContextManager[Any]: ...


def _slot_key(slot: SlotRecord) -> tuple[Any, ...]:
    return (slot.namespace_id, slot.scope, slot.name, slot.workflow_id, slot.run_id, slot.scheduled_event_id)


class PostgresConcurrency:
    """The ``ConcurrencyStore`` role of ``PostgresStore``."""

    async def list_concurrency_limits(self: _Database) -> list[ConcurrencyLimitRecord]:
        rows = await self._fetch(Q["list_limits"])
        return [ConcurrencyLimitRecord(r[0], r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in rows]

    async def put_concurrency_limit(self: _Database, limit: ConcurrencyLimitRecord) -> None:
        await self._execute(
            Q["put_limit"],
            limit.namespace_id,
            limit.scope,
            limit.name,
            limit.max_running,
            limit.fairness_key_max,
            limit.policy,
        )

    async def delete_concurrency_limit(self: _Database, namespace_id: str, scope: str, name: str) -> bool:
        status = await self._execute(Q["delete_limit"], namespace_id, scope, name)
        return not status.endswith(" 0")

    async def acquire_slot(self: _Database, slot: SlotRecord, max_running: int, fairness_key_max: int) -> str:
        scope = (slot.namespace_id, slot.scope, slot.name)
        async with self._transaction() as conn:
            await conn.execute(Q["lock_scope"], *scope)
            held = await conn.fetchval(Q["slot_held"], *_slot_key(slot))
            if held is not None:
                if int(held) == slot.attempt:
                    return SLOT_HELD
                await conn.execute(
                    Q["update_slot"], slot.attempt, slot.fairness_key, slot.acquired_at, *_slot_key(slot)
                )
                return SLOT_TAKEN
            if max_running and await conn.fetchval(Q["count_scope"], *scope) >= max_running:
                return SLOT_FULL
            if (
                fairness_key_max
                and await conn.fetchval(Q["count_key"], *scope, slot.fairness_key) >= fairness_key_max
            ):
                return SLOT_FULL
            await conn.execute(
                Q["insert_slot"], *_slot_key(slot), slot.attempt, slot.fairness_key, slot.acquired_at
            )
            return SLOT_TAKEN

    async def release_slots(self: _Database, slots: list[SlotRecord]) -> None:
        if not slots:
            return
        async with self._transaction() as conn:
            await conn.executemany(Q["delete_slot"], [_slot_key(s) for s in slots])

    async def list_slots(self: _Database) -> list[SlotRecord]:
        rows = await self._fetch(Q["list_slots"])
        return [
            SlotRecord(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), r[7], float(r[8])) for r in rows
        ]
