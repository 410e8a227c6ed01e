"""Matching's in-memory queues: a worker that shut down gets nothing more."""

from __future__ import annotations

import asyncio

from cadenza.matching.service import MatchingService
from cadenza.persistence.records import TaskKind, TaskRecord


def _task(task_id: str) -> TaskRecord:
    return TaskRecord(task_id, "ns", "queue", TaskKind.WORKFLOW, "wf", "run", 2, 1)


async def test_shutdown_ends_waiting_polls_and_later_ones_of_the_same_worker() -> None:
    matching = MatchingService()
    waiting = asyncio.create_task(matching.poll("ns", "queue", TaskKind.WORKFLOW, "me", 30, "w1"))
    await asyncio.sleep(0)
    matching.end_polls("w1")
    assert await asyncio.wait_for(waiting, 1) is None

    matching.add_task(_task("t1"))
    # A poll w1 sent before its shutdown, arriving after it: answered empty, the task stays.
    late = await asyncio.wait_for(matching.poll("ns", "queue", TaskKind.WORKFLOW, "me", 30, "w1"), 1)
    assert late is None
    other = await matching.poll("ns", "queue", TaskKind.WORKFLOW, "other", 30, "w2")
    assert other is not None and other.task_id == "t1"


def test_a_replica_keeps_the_tasks_of_a_queue_not_yet_polled() -> None:
    # Tasks started on a queue before its workers come must stay in their dispatch order,
    # not be dropped (and read back later, out of order) as if the queue were abandoned.
    matching = MatchingService()
    matching.add_task(_task("t1"))
    assert matching.forget_unpolled(60.0) == 0
    assert matching.backlog("ns", "queue", TaskKind.WORKFLOW) == 1
    assert matching.forget_unpolled(0.0) == 1
