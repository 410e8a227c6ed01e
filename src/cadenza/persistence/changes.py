"""Which statements one change runs, in order, with the conditions they must meet.

Both backends run the same plan, each with its own driver and its own copy of
the named queries, so the rules of a conditional write live in one place.
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple

from cadenza.persistence.records import (
    NO_PRIORITY,
    ExecutionKey,
    ExecutionWrite,
    ScheduleWrite,
    StoredExecution,
    TaskKind,
    TaskPriority,
    TaskRecord,
    TimerRecord,
)


class Check(enum.Enum):
    """What a statement must do for the change to stand."""

    NONE = enum.auto()
    INSERTS = enum.auto()
    """A unique-key violation means another writer got there first."""
    ONE_ROW = enum.auto()
    """It must change exactly one row; none means another writer got there first."""


class Step(NamedTuple):
    """A named query run once per parameter row (a tuple: this is on every commit's path)."""

    query: str
    rows: list[tuple[Any, ...]]
    check: Check = Check.NONE
    conflict: str = ""
    """Why the change lost, when the check fails."""


RUN_TABLES = (
    "delete_execution",
    "delete_history",
    "delete_execution_activities",
    "delete_execution_tasks",
    "delete_execution_timers",
    "delete_current_if",
)
"""Queries that remove one run from every table, each taking the execution key."""

NAMESPACE_TABLES = (
    "delete_namespace_schedules",
    "delete_namespace_executions",
    "delete_namespace_history",
    "delete_namespace_activities",
    "delete_namespace_current",
    "delete_namespace_tasks",
    "delete_namespace_timers",
    "delete_namespace_saved_views",
    "delete_namespace_batches",
    "delete_namespace_standalone_activities",
    "delete_namespace",
)
"""Queries that remove a namespace with everything in it, each taking its ID."""


def steps(w: ExecutionWrite) -> list[Step]:
    """The statements of one change; the first failing check aborts the whole change."""
    key = key_row(w.key)
    plan: list[Step] = []
    if w.new_current is not None:
        plan.append(_take_over_workflow_id(w))
    if w.expected_version == 0:
        plan.append(
            Step(
                "insert_execution",
                [
                    (
                        *key,
                        w.new_version,
                        w.status,
                        w.workflow_type,
                        w.task_queue,
                        w.start_time,
                        w.close_time,
                        w.state,
                    )
                ],
                Check.INSERTS,
                "execution already exists",
            )
        )
    else:
        plan.append(
            Step(
                "update_execution",
                [(w.new_version, w.state, *key, w.expected_version)],
                Check.ONE_ROW,
                "execution changed concurrently",
            )
        )
        # Apart, and only when they change: status and close time are in every
        # listing index, and setting them at all rewrites those index entries.
        plan.append(Step("update_execution_status", [(w.status, w.close_time, *key, w.status, w.close_time)]))
    if w.current_status is not None and w.new_current is None:
        plan.append(Step("update_current_status", [(w.current_status, *key)]))
    if w.visibility is not None:
        v = w.visibility
        plan.append(
            Step(
                "update_visibility",
                [
                    (
                        v.execution_time,
                        v.history_length,
                        v.search_attributes,
                        v.search_attribute_payloads,
                        v.memo,
                        *key,
                    )
                ],
            )
        )
    if w.events is not None:
        plan.append(
            Step(
                "insert_history_batch",
                [(*key, w.events.first_event_id, w.events.last_event_id, w.events.data)],
            )
        )
    _add(plan, "write_activity", [(*key, event_id, data) for event_id, data in w.activities_written])
    _add(plan, "delete_activity", [(*key, event_id) for event_id in w.activities_removed])
    _add(plan, "insert_task", [task_row(t) for t in w.tasks_added])
    _add(plan, "delete_task", [(t,) for t in w.tasks_removed])
    _add(plan, "insert_timer", [timer_row(t) for t in w.timers_added])
    _add(plan, "delete_timer", [(t,) for t in w.timers_removed])
    if w.audit is not None:
        plan.append(Step("insert_audit", [w.audit.row()]))
    return plan


def stored_execution(rows: list[Any]) -> StoredExecution | None:
    """The execution read by ``load_execution``: its row (kind 0) and its activities' rows (kind 1)."""
    run = [row for row in rows if row[0] == 0]
    if not run:
        return None
    activities = tuple((row[1], row[2]) for row in rows if row[0] == 1)
    return StoredExecution(run[0][1], run[0][2], activities)


def schedule_steps(w: ScheduleWrite) -> list[Step]:
    """The statements of one schedule change: its row, then its wake-up timers, in one transaction."""
    conflict = f"schedule {w.schedule_id} changed concurrently"
    if w.expected_version == 0:
        row = Step(
            "insert_schedule",
            [(w.namespace_id, w.schedule_id, w.create_time, w.state, w.search_attributes)],
            Check.INSERTS,
            "schedule already exists",
        )
    elif w.delete:
        row = Step(
            "delete_schedule", [(w.namespace_id, w.schedule_id, w.expected_version)], Check.ONE_ROW, conflict
        )
    else:
        row = Step(
            "update_schedule",
            [(w.state, w.search_attributes, w.namespace_id, w.schedule_id, w.expected_version)],
            Check.ONE_ROW,
            conflict,
        )
    plan = [row]
    _add(plan, "insert_timer", [timer_row(t) for t in w.timers_added])
    _add(plan, "delete_timer", [(t,) for t in w.timers_removed])
    return plan


def _take_over_workflow_id(w: ExecutionWrite) -> Step:
    assert w.new_current is not None
    c = w.new_current
    if w.replaced_run_id is None:
        return Step(
            "insert_current_execution",
            [(w.key.namespace_id, w.key.workflow_id, c.run_id, c.status, c.start_request_id)],
            Check.INSERTS,
            "workflow ID taken concurrently",
        )
    return Step(
        "replace_current_execution",
        [(c.run_id, c.status, c.start_request_id, w.key.namespace_id, w.key.workflow_id, w.replaced_run_id)],
        Check.ONE_ROW,
        "workflow ID taken concurrently",
    )


def _add(plan: list[Step], query: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        plan.append(Step(query, rows))


def key_row(key: ExecutionKey) -> tuple[str, str, str]:
    return (key.namespace_id, key.workflow_id, key.run_id)


def task_row(t: TaskRecord) -> tuple[Any, ...]:
    return (
        t.task_id,
        t.namespace_id,
        t.task_queue,
        int(t.kind),
        t.workflow_id,
        t.run_id,
        t.scheduled_event_id,
        t.attempt,
        t.priority.priority_key,
        t.priority.fairness_key,
        t.priority.fairness_weight,
    )


def task_of_row(r: Any) -> TaskRecord:
    """The task a ``tasks`` row (in ``task_row``'s column order) stores."""
    priority = TaskPriority(r[8], r[9], r[10]) if r[8] or r[9] or r[10] else NO_PRIORITY
    return TaskRecord(r[0], r[1], r[2], TaskKind(r[3]), r[4], r[5], r[6], r[7], priority=priority)


def timer_row(t: TimerRecord) -> tuple[Any, ...]:
    return (t.timer_id, t.fire_at, t.namespace_id, t.workflow_id, t.run_id, t.kind, t.event_id, t.attempt)
