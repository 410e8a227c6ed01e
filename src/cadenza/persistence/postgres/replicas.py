"""Several replicas on one PostgreSQL database: leases, timer claims, shared queries,
LISTEN/NOTIFY.

Each replica names itself in its sessions (``cadenza.replica``), so the timers
it writes are its own and the announcements its commits send (triggers of
migration 4) can be told apart from other replicas'. A dedicated connection
LISTENs; if it drops, it is opened again at the next lease renewal and the
caller hears that announcements may have been missed.

A query rides in table ``queries`` (migration 5) when its caller's replica may
not be the one its worker polls: the row is announced by its queue only, and
the answer by its ID only, because NOTIFY payloads are small and a query's
arguments or result need not be. Nexus requests to handler workers ride in the same table
(``cadenza.matching.nexus_shared``), under IDs of their own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg

from cadenza.persistence.changes import task_of_row
from cadenza.persistence.errors import StorageError
from cadenza.persistence.records import (
    ExecutionKey,
    QueryReply,
    SharedQuery,
    TaskKind,
    TaskRecord,
    TimerRecord,
)
from cadenza.persistence.replica_link import (
    ExecutionChanged,
    QueryAnswered,
    QueryOffered,
    TaskAnnounced,
)
from cadenza.persistence.sql import load_queries

logger = logging.getLogger(__name__)
Q = load_queries("cadenza.persistence.postgres", "queries.sql")

LEASE_SECONDS = 10.0
"""How long a replica counts as alive after its last renewal."""
DEAD_REPLICA_MEMORY = 3600.0
"""Rows of replicas gone this long are deleted, to keep the table small."""
TASKS_CHANNEL = "cadenza_tasks"
CHANGES_CHANNEL = "cadenza_changes"
QUERIES_CHANNEL = "cadenza_queries"
ANSWERS_CHANNEL = "cadenza_answers"


class PostgresReplicas:
    """The ``ReplicaLink`` of one PostgreSQL store."""

    lease_seconds = LEASE_SECONDS

    def __init__(self, url: str, replica_id: str, pool: Callable[[], asyncpg.Pool]) -> None:
        self.replica_id = replica_id
        self.lease_renewed_at = 0.0
        """Wall-clock time of the last renewal that succeeded (metrics report the lease's age)."""
        self._url = url
        self._pool = pool
        self._listener: asyncpg.Connection | None = None
        self._on_task: TaskAnnounced | None = None
        self._on_change: ExecutionChanged | None = None
        self._on_query: QueryOffered | None = None
        self._on_answer: QueryAnswered | None = None

    async def listen(
        self,
        on_task: TaskAnnounced,
        on_change: ExecutionChanged,
        on_query: QueryOffered | None = None,
        on_answer: QueryAnswered | None = None,
    ) -> None:
        self._on_task, self._on_change = on_task, on_change
        self._on_query, self._on_answer = on_query, on_answer
        await self._connect_listener()

    async def renew_lease(self) -> None:
        await self._run("execute", Q["renew_lease"], self.replica_id, LEASE_SECONDS)
        self.lease_renewed_at = time.time()

    async def renew(self) -> bool:
        await self.renew_lease()
        await self._run("execute", Q["forget_dead_replicas"], DEAD_REPLICA_MEMORY)
        if self._on_task is not None and (self._listener is None or self._listener.is_closed()):
            await self._connect_listener()
            return True
        return False

    async def claim_orphan_timers(self) -> list[TimerRecord]:
        rows = await self._run("fetch", Q["claim_orphan_timers"], self.replica_id)
        return sorted((TimerRecord(*r) for r in rows), key=lambda t: t.fire_at)

    async def queued_tasks(
        self, namespace_id: str, task_queue: str, kind: TaskKind, limit: int
    ) -> list[TaskRecord]:
        rows = await self._run("fetch", Q["queued_tasks"], namespace_id, task_queue, int(kind), limit)
        return [task_of_row(r) for r in rows]

    async def offer_query(self, query: SharedQuery) -> None:
        await self._run(
            "execute",
            Q["offer_query"],
            query.query_id,
            query.owner,
            query.namespace_id,
            query.task_queue,
            query.workflow_id,
            query.run_id,
            query.query,
            query.created_at,
        )

    async def claim_query(self, query_id: str) -> SharedQuery | None:
        rows = await self._run("fetch", Q["claim_query"], query_id, self.replica_id)
        return SharedQuery(*rows[0]) if rows else None

    async def answer_query(self, query_id: str, reply: QueryReply) -> bool:
        status = await self._run(
            "execute",
            Q["answer_query"],
            query_id,
            self.replica_id,
            reply.completed_type,
            reply.result,
            reply.error_message,
            reply.failure,
        )
        return bool(status == "UPDATE 1")

    async def query_reply(self, query_id: str) -> QueryReply | None:
        rows = await self._run("fetch", Q["query_answer"], query_id)
        return QueryReply(rows[0][0], rows[0][1], rows[0][2], rows[0][3]) if rows else None

    async def drop_query(self, query_id: str) -> None:
        await self._run("execute", Q["drop_query"], query_id)

    async def drop_orphan_queries(self) -> int:
        status = await self._run("execute", Q["drop_orphan_queries"])
        return int(str(status).rsplit(" ", 1)[-1])

    async def unclaimed_queries(self, namespace_id: str, task_queue: str, limit: int) -> list[str]:
        rows = await self._run("fetch", Q["unclaimed_queries"], namespace_id, task_queue, limit)
        return [row[0] for row in rows]

    async def answer_nexus_request(self, row_id: str, namespace_id: str, reply: QueryReply) -> bool:
        status = await self._run(
            "execute", Q["answer_nexus_request"], row_id, namespace_id, reply.completed_type, reply.result
        )
        return bool(status == "UPDATE 1")

    async def unclaimed_nexus_requests(self, namespace_id: str, task_queue: str, limit: int) -> list[str]:
        rows = await self._run("fetch", Q["unclaimed_nexus_requests"], namespace_id, task_queue, limit)
        return [row[0] for row in rows]

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        try:
            await self._run("execute", Q["drop_lease"], self.replica_id)
        except StorageError:
            pass  # the lease runs out by itself

    async def _connect_listener(self) -> None:
        if self._listener is not None:
            self._listener.terminate()
        self._listener = None
        try:
            conn = await asyncpg.connect(self._url)
            await conn.add_listener(TASKS_CHANNEL, self._task_announced)
            await conn.add_listener(CHANGES_CHANNEL, self._execution_changed)
            await conn.add_listener(QUERIES_CHANNEL, self._query_offered)
            await conn.add_listener(ANSWERS_CHANNEL, self._query_answered)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageError(f"cannot listen for other replicas: {exc}") from exc
        self._listener = conn

    def _task_announced(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        row = json.loads(str(payload))
        if row[8] == self.replica_id or self._on_task is None:
            return
        self._on_task(task_of_row([*row[:8], *row[9:12]]))

    def _execution_changed(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        row = json.loads(str(payload))
        if row[4] == self.replica_id or self._on_change is None:
            return
        self._on_change(ExecutionKey(row[0], row[1], row[2]), row[3])

    def _query_offered(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        query_id, namespace_id, task_queue, owner = json.loads(str(payload))
        if owner != self.replica_id and self._on_query is not None:
            self._on_query(query_id, namespace_id, task_queue)

    def _query_answered(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        query_id, owner = json.loads(str(payload))
        if owner == self.replica_id and self._on_answer is not None:
            self._on_answer(query_id)

    async def _run(self, method: str, sql: str, *args: Any) -> Any:
        try:
            return await getattr(self._pool(), method)(sql, *args)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError) as exc:
            raise StorageError(str(exc)) from exc
