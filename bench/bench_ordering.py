"""What ordering a task queue's backlog costs: adds and takes per second of the structure that
holds a queue's waiting tasks, with priority and fairness off (every task alike: a plain FIFO)
beside on (five priority keys, and 1, 10 or 1,000 fairness keys of mixed weights). Each case
adds a backlog of ``TASKS`` tasks, then takes them all. Run it as
``python -m bench.bench_ordering``; it prints operations per second."""

from __future__ import annotations

import time
from collections.abc import Callable

from cadenza.matching.ordering import Backlog
from cadenza.persistence.records import NO_PRIORITY, TaskKind, TaskPriority, TaskRecord

TASKS = 50_000
WEIGHTS = (1.0, 2.0, 3.0, 9.0, 0.5)


def tasks(priority_of: Callable[[int], TaskPriority]) -> list[TaskRecord]:
    return [
        TaskRecord(f"t{i}", "ns", "q", TaskKind.ACTIVITY, f"w{i}", "r", 1, 1, priority=priority_of(i))
        for i in range(TASKS)
    ]


def fair(keys: int) -> Callable[[int], TaskPriority]:
    def priority(i: int) -> TaskPriority:
        key = i % keys
        return TaskPriority(1 + i % 5, f"tenant-{key}", WEIGHTS[key % len(WEIGHTS)])

    return priority


CASES: dict[str, Callable[[int], TaskPriority]] = {
    "off (plain FIFO)": lambda _i: NO_PRIORITY,
    "priority only (5 keys)": lambda i: TaskPriority(1 + i % 5),
    "1 fairness key": fair(1),
    "10 fairness keys": fair(10),
    "1,000 fairness keys": fair(1000),
}


def measure(batch: list[TaskRecord]) -> tuple[float, float]:
    backlog = Backlog()
    started = time.perf_counter()
    for task in batch:
        backlog.append(task)
    added = time.perf_counter()
    while backlog:
        backlog.popleft()
    taken = time.perf_counter()
    return len(batch) / (added - started), len(batch) / (taken - added)


def main() -> None:
    print(f"{'case':<24} {'adds/s':>12} {'takes/s':>12}")
    for name, priority_of in CASES.items():
        adds, takes = measure(tasks(priority_of))
        print(f"{name:<24} {adds:>12,.0f} {takes:>12,.0f}")


if __name__ == "__main__":
    main()
