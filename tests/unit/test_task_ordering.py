"""The dispatch order of a task queue's backlog: priority, fairness, arrival."""

from __future__ import annotations

import itertools

from cadenza.matching.ordering import Backlog, effective_weight
from cadenza.persistence.records import TaskKind, TaskPriority, TaskRecord

_ids = itertools.count()


def task(
    priority_key: int = 0, fairness_key: str = "", weight: float = 0.0, query: bool = False
) -> TaskRecord:
    task_id = f"t{next(_ids)}"
    return TaskRecord(
        task_id,
        "ns",
        "q",
        TaskKind.ACTIVITY,
        task_id,
        "run",
        1,
        1,
        query_id=task_id if query else "",
        priority=TaskPriority(priority_key, fairness_key, weight),
    )


def drain(backlog: Backlog) -> list[TaskRecord]:
    taken = []
    while backlog:
        taken.append(backlog.popleft())
    return taken


def keys(tasks: list[TaskRecord]) -> str:
    return "".join(t.priority.fairness_key for t in tasks)


def interleaved(counts: dict[str, tuple[int, float]]) -> list[TaskRecord]:
    """Tasks of several fairness keys created round-robin, each key with its weight."""
    queues = {key: [task(0, key, weight) for _ in range(n)] for key, (n, weight) in counts.items()}
    out: list[TaskRecord] = []
    for group in itertools.zip_longest(*queues.values()):
        out.extend(t for t in group if t is not None)
    return out


def test_without_priority_or_fairness_the_backlog_is_fifo() -> None:
    backlog = Backlog()
    tasks = [task() for _ in range(10)]
    for t in tasks:
        backlog.append(t)
    assert backlog.by_priority() == {3: 10}
    assert drain(backlog) == tasks


def test_priority_keys_go_strictly_first_and_fifo_within_a_key() -> None:
    backlog = Backlog()
    tasks = [task(p) for p in (3, 5, 2, 0, 1, 2, 4, 1, 7)]
    for t in tasks:
        backlog.append(t)
    assert backlog.by_priority() == {1: 2, 2: 2, 3: 2, 4: 1, 5: 2}
    order = [t.priority.priority_key for t in drain(backlog)]
    assert order == [1, 1, 2, 2, 3, 0, 4, 5, 7]  # 0 is the default 3, 7 counts as the last, 5


def test_a_task_of_higher_priority_added_later_goes_next() -> None:
    backlog = Backlog()
    for _ in range(3):
        backlog.append(task(2))
    backlog.popleft()
    urgent = task(1)
    backlog.append(urgent)
    assert backlog.peek() is urgent
    assert backlog.popleft() is urgent


def test_queries_go_before_any_task() -> None:
    backlog = Backlog()
    backlog.append(task(1))
    query = task(5, query=True)
    backlog.append(query)
    assert backlog.popleft() is query


def test_weights_three_to_one_dispatch_as_aaab() -> None:
    backlog = Backlog()
    for t in interleaved({"a": (150, 3.0), "b": (50, 1.0)}):
        backlog.append(t)
    assert keys(drain(backlog)) == "aaab" * 50


def test_weights_nine_to_one_hold_in_every_window_of_100_over_10000_tasks() -> None:
    backlog = Backlog()
    for t in interleaved({"a": (9000, 9.0), "b": (1000, 1.0)}):
        backlog.append(t)
    order = keys(drain(backlog))
    assert len(order) == 10_000
    for start in range(len(order) - 100 + 1):
        assert order[start : start + 100].count("b") == 10, start


def test_equal_weights_alternate_in_arrival_order() -> None:
    backlog = Backlog()
    for t in [task(0, "a") for _ in range(3)] + [task(0, "b") for _ in range(3)]:
        backlog.append(t)
    assert keys(drain(backlog)) == "ababab"


def test_a_key_arriving_late_gets_its_share_from_then_on_not_a_burst() -> None:
    backlog = Backlog()
    for _ in range(20):
        backlog.append(task(0, "a"))
    taken = [backlog.popleft() for _ in range(10)]
    for _ in range(5):
        backlog.append(task(0, "b"))
    taken += drain(backlog)
    assert keys(taken) == "a" * 11 + "ba" * 5 + "a" * 4  # at equal passes, the earlier task


def test_the_same_tasks_loaded_again_dispatch_in_the_same_order() -> None:
    tasks = interleaved({"a": (300, 9.0), "b": (40, 1.0), "c": (60, 2.5)})
    first, again = Backlog(), Backlog()
    for t in tasks:
        first.append(t)
        again.append(t)
    assert [t.task_id for t in drain(first)] == [t.task_id for t in drain(again)]


def test_a_restart_mid_backlog_keeps_the_pattern_for_what_is_left() -> None:
    tasks = interleaved({"a": (900, 9.0), "b": (100, 1.0)})
    before = Backlog()
    for t in tasks:
        before.append(t)
    taken = [before.popleft() for _ in range(300)]
    left = {t.task_id for t in before}
    reloaded = Backlog()
    for t in tasks:  # the store lists tasks in creation order
        if t.task_id in left:
            reloaded.append(t)
    order = keys(taken + drain(reloaded))
    for start in range(0, len(order), 100):
        assert order[start : start + 100].count("b") == 10


def test_weights_are_clamped_and_overridden_per_key() -> None:
    assert effective_weight(0.0) == 1.0
    assert effective_weight(-4.0) == 1.0
    assert effective_weight(5000.0) == 1000.0
    assert effective_weight(0.0000001) == 0.001
    assert effective_weight(2.0, 0.5) == 0.5
    backlog = Backlog()
    backlog.set_weight_overrides({"b": 3.0})
    for t in interleaved({"a": (50, 3.0), "b": (150, 1.0)}):
        backlog.append(t)
    assert keys(drain(backlog)) == "ab" * 50 + "b" * 100


def test_retain_drops_tasks_and_keeps_the_order_of_the_rest() -> None:
    backlog = Backlog()
    tasks = interleaved({"a": (30, 2.0), "b": (30, 1.0)})
    for t in tasks:
        backlog.append(t)
    expected = [t for t in list(backlog) if int(t.task_id[1:]) % 3]
    backlog.retain(lambda t: int(t.task_id[1:]) % 3 != 0)
    assert len(backlog) == len(expected)
    assert drain(backlog) == expected


def test_an_emptied_backlog_is_plain_fifo_again() -> None:
    backlog = Backlog()
    backlog.append(task(1, "a"))
    backlog.append(task(2, "b"))
    drain(backlog)
    tasks = [task(4, "z") for _ in range(3)]
    for t in tasks:
        backlog.append(t)
    assert backlog.by_priority() == {4: 3}
    assert drain(backlog) == tasks
    assert backlog.peek() is None
