"""Tasks a committed change removed leave matching's memory, even from a queue nobody polls."""

from __future__ import annotations

from cadenza.matching.ordering import Backlog
from cadenza.matching.service import SWEEP_AT, MatchingService
from cadenza.persistence.records import TaskKind, TaskPriority, TaskRecord

WORKFLOW = TaskKind.WORKFLOW


def _task(task_id: str) -> TaskRecord:
    return TaskRecord(task_id, "ns", "queue", WORKFLOW, "wf", task_id, 2, 1)


def _queued(matching: MatchingService, count: int) -> list[str]:
    ids = [f"t{i}" for i in range(count)]
    for task_id in ids:
        matching.add_task(_task(task_id))
    return ids


async def test_a_withdrawn_task_is_not_handed_out_and_not_counted() -> None:
    matching = MatchingService()
    _queued(matching, 3)
    matching.withdraw(["t0", "t2", "never-queued"])
    assert matching.backlog("ns", "queue", WORKFLOW) == 1
    task = await matching.poll("ns", "queue", WORKFLOW, "me", 0.01)
    assert task is not None and task.task_id == "t1"
    assert await matching.poll("ns", "queue", WORKFLOW, "me", 0.01) is None


def test_withdrawn_tasks_are_swept_from_a_queue_nobody_polls() -> None:
    matching = MatchingService()
    ids = _queued(matching, 4 * SWEEP_AT)
    matching.withdraw(ids[: 3 * SWEEP_AT])
    [(_, waiting, oldest)] = matching.backlogs()
    assert waiting == SWEEP_AT
    assert oldest is not None and oldest.task_id == ids[3 * SWEEP_AT]  # the withdrawn left memory


async def test_a_task_handed_out_is_no_longer_withdrawable_and_a_returned_one_is_again() -> None:
    matching = MatchingService()
    _queued(matching, 1)
    task = await matching.poll("ns", "queue", WORKFLOW, "me", 0.01)
    assert task is not None
    matching.withdraw(["t0"])  # already handed out: nothing to do
    matching.return_task(task)
    assert matching.backlog("ns", "queue", WORKFLOW) == 1
    matching.withdraw(["t0"])
    assert matching.backlog("ns", "queue", WORKFLOW) == 0


def test_a_departed_sticky_worker_hands_back_only_tasks_not_withdrawn() -> None:
    matching = MatchingService()
    for task_id in ("s1", "s2"):
        matching.add_task(TaskRecord(task_id, "ns", "sticky", WORKFLOW, "wf", "run", 2, 1))
    matching.withdraw(["s1"])
    assert [t.task_id for t in matching.shut_down_sticky("ns", "sticky")] == ["s2"]


async def test_withdrawn_tasks_leave_a_fair_queue_and_the_rest_keep_their_order() -> None:
    matching = MatchingService()
    tasks = [
        TaskRecord(
            f"t{i}", "ns", "queue", WORKFLOW, "wf", f"t{i}", 2, 1, priority=TaskPriority(2, key, weight)
        )
        for i, (key, weight) in enumerate([("a", 3.0), ("b", 1.0)] * (2 * SWEEP_AT))
    ]
    alone = Backlog()
    for task in tasks:
        matching.add_task(task)
        alone.append(task)
    whole_order = [alone.popleft().task_id for _ in tasks]
    urgent = TaskRecord("urgent", "ns", "queue", WORKFLOW, "wf", "u", 2, 1, priority=TaskPriority(1))
    matching.add_task(urgent)
    withdrawn = {t.task_id for t in tasks[::4]} | {t.task_id for t in tasks[: 2 * SWEEP_AT]}
    matching.withdraw(withdrawn)
    left = len(tasks) - len(withdrawn)
    assert matching.backlog("ns", "queue", WORKFLOW) == left + 1
    taken = [await matching.poll("ns", "queue", WORKFLOW, "me", 0.01) for _ in range(left + 1)]
    assert [t.task_id for t in taken if t is not None] == [
        "urgent",
        *(task_id for task_id in whole_order if task_id not in withdrawn),
    ]


def test_the_backlog_by_priority_leaves_out_withdrawn_tasks_at_their_own_priority() -> None:
    matching = MatchingService()
    for i, priority_key in enumerate([1, 1, 3, 3, 3]):
        matching.add_task(
            TaskRecord(
                f"t{i}", "ns", "queue", WORKFLOW, "wf", f"t{i}", 2, 1, priority=TaskPriority(priority_key)
            )
        )
    matching.withdraw(["t0", "t1", "t2"])
    assert matching.backlog_by_priority("ns", "queue", WORKFLOW) == {3: 2}
    [(_, priorities, _)] = matching.backlog_shapes()
    assert priorities == {3: 2}
