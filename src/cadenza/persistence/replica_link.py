"""What a replica shares with the others on one database: the ``ReplicaLink`` role of the store,
and the announcements it hears."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from cadenza.persistence.records import (
    ExecutionKey,
    QueryReply,
    SharedQuery,
    TaskKind,
    TaskRecord,
    TimerRecord,
)

TaskAnnounced = Callable[[TaskRecord], None]
ExecutionChanged = Callable[[ExecutionKey, int], None]
QueryOffered = Callable[[str, str, str], None]
"""Another replica offers a query: its ID, namespace ID and task queue."""
QueryAnswered = Callable[[str], None]
"""A query this replica offered was answered elsewhere: its ID (the answer is stored)."""


class ReplicaLink(Protocol):
    """What a replica shares with the others on one database.

    Every replica holds a lease it renews; the timers it writes are its own to
    fire until its lease runs out, when another replica claims them. New tasks
    and execution changes are announced to every replica as they commit.
    """

    replica_id: str

    async def listen(
        self,
        on_task: TaskAnnounced,
        on_change: ExecutionChanged,
        on_query: QueryOffered | None = None,
        on_answer: QueryAnswered | None = None,
    ) -> None:
        """Start hearing other replicas' new tasks, execution changes and queries, and the
        answers to this replica's queries."""

    async def renew(self) -> bool:
        """Extend this replica's lease; True if announcements may have been missed meanwhile
        (the listening connection was lost and is back), so cached state is suspect."""

    async def claim_orphan_timers(self) -> list[TimerRecord]:
        """Timers of replicas whose lease ran out, now this replica's to fire."""

    async def queued_tasks(
        self, namespace_id: str, task_queue: str, kind: TaskKind, limit: int
    ) -> list[TaskRecord]:
        """The oldest tasks stored for one queue, whichever replica created them."""

    async def offer_query(self, query: SharedQuery) -> None:
        """Store a query for any replica's worker to answer, and announce it."""

    async def claim_query(self, query_id: str) -> SharedQuery | None:
        """Take a query to hand to a worker here; None if it is gone or another replica
        took it (one replica only ever wins)."""

    async def answer_query(self, query_id: str, reply: QueryReply) -> bool:
        """Store the answer to a query this replica claimed and announce it to the query's
        owner; False if nobody waits for it any more."""

    async def query_reply(self, query_id: str) -> QueryReply | None:
        """The stored answer to a query, if it has one."""

    async def drop_query(self, query_id: str) -> None:
        """Forget a query whose caller is done."""

    async def drop_orphan_queries(self) -> int:
        """Forget the queries of replicas whose lease ran out; return how many."""

    async def unclaimed_queries(self, namespace_id: str, task_queue: str, limit: int) -> list[str]:
        """The IDs of the oldest queries offered on one queue and not yet handed out."""

    async def answer_nexus_request(self, row_id: str, namespace_id: str, reply: QueryReply) -> bool:
        """Store a handler's answer to a Nexus request some replica handed out (the answer may
        reach any replica) and announce it to the request's owner; False if the request is
        unknown, of another namespace, not handed out or answered already."""

    async def unclaimed_nexus_requests(self, namespace_id: str, task_queue: str, limit: int) -> list[str]:
        """The row IDs of the oldest Nexus requests offered on one queue and not yet handed out."""

    async def close(self) -> None:
        """Stop listening and give up the lease, so others take over its timers at once."""
