"""Working alongside other replicas on the same database.

New tasks reach this replica's waiting polls as other replicas announce them,
so a worker long-polling here is woken by a task created elsewhere without any
database poll. A slow background pass is the safety net: it renews this
replica's lease, claims the timers of replicas whose lease ran out, and
re-reads the stored tasks of queues whose polls are waiting with nothing.
Handing out a task twice is harmless: recording it as started is a
version-checked change of its execution, which only one replica can win.

Queries offered by other replicas reach waiting polls the same way (the poll
claims one before handing it out), answers to this replica's queries reach
their callers, and the background pass re-reads a starving queue's unclaimed
queries and drops the queries of replicas that are gone. Requests to Nexus handler workers travel
with the queries, and their answers with the queries' answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from cadenza.deployments.names import user_queue
from cadenza.history.service.cache import ExecutionCache
from cadenza.history.service.queries import Queries, query_task
from cadenza.matching import MatchingService, nexus_shared
from cadenza.periodic import Periodic
from cadenza.persistence.records import ExecutionKey, TaskKind, TaskRecord, TimerRecord
from cadenza.persistence.replica_link import ReplicaLink

logger = logging.getLogger(__name__)

SCAN_SECONDS = 2.0
"""How often the background pass runs; well inside the lease, so it stays renewed."""
SCAN_TASKS = 100
"""Stored tasks read per starving queue in one pass."""
UNPOLLED_SECONDS = 60.0
"""A queue nobody here polled this long lets go of its tasks: with its workers on other
replicas, they are handed out there, and copies kept here would only pile up."""


class Peers:
    """Keeps one replica in step with the others: tasks, timers, cached executions, queries."""

    def __init__(
        self,
        link: ReplicaLink,
        matching: MatchingService,
        add_timer: Callable[[TimerRecord], None],
        cache: ExecutionCache,
        recover: Callable[[], Awaitable[None]],
        queries: Queries,
    ) -> None:
        self._link = link
        self._recover = recover
        self._matching = matching
        self._add_timer = add_timer
        self._cache = cache
        self._queries = queries
        self._passes = Periodic(
            self.scan, SCAN_SECONDS, name="cadenza-peers", what="replica pass", logger=logger
        )

    async def start(self) -> None:
        await self._link.listen(
            self._task_announced,
            self._execution_changed,
            self._query_offered,
            self._answered,
        )
        self._passes.start()

    async def stop(self) -> None:
        await self._passes.stop()
        await self._link.close()

    def _task_announced(self, task: TaskRecord) -> None:
        # Only a poll waiting here needs it now; the creator holds it for its own polls.
        if self._matching.has_waiting_poll(task.namespace_id, self._matching.routed_queue(task), task.kind):
            self._matching.add_task(task)

    def _query_offered(self, query_id: str, namespace_id: str, task_queue: str) -> None:
        if nexus_shared.is_nexus(query_id):
            self._matching.nexus_tasks.offered_elsewhere(query_id, namespace_id, task_queue)
            return
        # As with tasks: only a waiting poll takes it now; the starving-queue pass is the net.
        task = query_task(query_id, namespace_id, task_queue)
        if self._matching.has_waiting_poll(
            namespace_id, self._matching.routed_queue(task), TaskKind.WORKFLOW
        ):
            self._matching.add_task(task)

    def _answered(self, row_id: str) -> None:
        if nexus_shared.is_nexus(row_id):
            self._matching.nexus_tasks.answered_elsewhere(row_id)
        else:
            self._queries.answered_elsewhere(row_id)

    def _execution_changed(self, key: ExecutionKey, version: int) -> None:
        self._cache.changed_elsewhere(key, version)

    async def scan(self) -> None:
        """Renew the lease, take over orphaned timers, drop orphaned queries, feed starving
        queues."""
        if await self._link.renew():
            # The database went away and came back. Changes made meanwhile went unheard,
            # and a commit cut off by it may have landed without being handed over here:
            # start again from what the database holds.
            self._cache.drop_all()
            await self._recover()
            self._queries.answers_missed()
            self._matching.nexus_tasks.answers_missed()
        if orphans := await self._link.drop_orphan_queries():
            logger.info("dropped %d queries of replicas that are gone", orphans)
        timers = await self._link.claim_orphan_timers()
        for timer in timers:
            self._add_timer(timer)
        if timers:
            logger.info("took over %d timers of replicas that are gone", len(timers))
        self._matching.forget_unpolled(UNPOLLED_SECONDS)
        for namespace_id, name, kind in self._matching.starving_queues():
            # A version's queue waits for its pinned tasks, stored under its own name, and for
            # the tasks of its task queue that route to it.
            stored = {name, user_queue(name)}
            for queue in stored:
                for task in await self._link.queued_tasks(namespace_id, queue, kind, SCAN_TASKS):
                    if self._matching.routed_queue(task) == name:
                        self._matching.add_task(task)
                if kind == TaskKind.WORKFLOW:
                    for query_id in await self._link.unclaimed_queries(namespace_id, queue, SCAN_TASKS):
                        self._matching.add_task(query_task(query_id, namespace_id, queue))
        nexus = self._matching.nexus_tasks
        for namespace_id, name in nexus.starving_queues():
            for row_id in await self._link.unclaimed_nexus_requests(namespace_id, name, SCAN_TASKS):
                nexus.offered_elsewhere(row_id, namespace_id, name)
