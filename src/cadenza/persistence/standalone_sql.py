"""The statements of a standalone activity change and of its listings, for any backend.

Each backend names the same queries in its ``standalone_activities.sql`` and runs
these steps in one transaction; the listings compile a checked filter against
the table's own columns (``ACTIVITY_COLUMNS``) and its custom search attributes.
"""

from __future__ import annotations

from cadenza.persistence import visibility_sql
from cadenza.persistence.changes import Check, Step, task_row, timer_row
from cadenza.persistence.records import StandaloneActivityWrite
from cadenza.visibility import attributes as attrs
from cadenza.visibility.query import Query

ACTIVITY_COLUMNS: dict[str, tuple[str, int]] = {
    "ActivityId": ("activity_id", attrs.KEYWORD),
    "RunId": ("run_id", attrs.KEYWORD),
    "ActivityType": ("activity_type", attrs.KEYWORD),
    "TaskQueue": ("task_queue", attrs.KEYWORD),
    "ExecutionStatus": ("status", attrs.KEYWORD),
    "StartTime": ("start_time", attrs.DATETIME),
    "CloseTime": ("close_time", attrs.DATETIME),
}
"""The built-in attributes of an activity listing: the standalone_activities table's columns."""

ListedAfter = tuple[float, str, str]
"""Where a listing page ended: the last run's start time, activity ID and run ID."""

LISTED = "namespace_id, activity_id, run_id, version, request_id, state, start_time"


def write_steps(w: StandaloneActivityWrite) -> list[Step]:
    """The statements of one change: the run's row, then its tasks and timers."""
    conflict = f"activity {w.activity_id} changed concurrently"
    if w.expected_version == 0:
        row = Step(
            "insert_standalone_activity",
            [
                (
                    w.namespace_id,
                    w.activity_id,
                    w.run_id,
                    w.activity_type,
                    w.task_queue,
                    w.status,
                    w.start_time,
                    w.close_time,
                    w.request_id,
                    w.state,
                    w.search_attributes,
                )
            ],
            Check.INSERTS,
            "activity run already exists",
        )
    elif w.delete:
        row = Step(
            "delete_standalone_activity",
            [(w.namespace_id, w.activity_id, w.run_id, w.expected_version)],
            Check.ONE_ROW,
            conflict,
        )
    else:
        row = Step(
            "update_standalone_activity",
            [
                (
                    w.status,
                    w.close_time,
                    w.state,
                    w.namespace_id,
                    w.activity_id,
                    w.run_id,
                    w.expected_version,
                )
            ],
            Check.ONE_ROW,
            conflict,
        )
    plan = [row]
    for query, rows in (
        ("insert_task", [task_row(t) for t in w.tasks_added]),
        ("delete_task", [(t,) for t in w.tasks_removed]),
        ("insert_timer", [timer_row(t) for t in w.timers_added]),
        ("delete_timer", [(t,) for t in w.timers_removed]),
    ):
        if rows:
            plan.append(Step(query, rows))
    return plan


def listing(
    dialect: visibility_sql.Dialect,
    namespace_id: str,
    query: Query,
    types: dict[str, int],
    limit: int,
    after: ListedAfter | None,
) -> tuple[str, list[object]]:
    """SQL and parameters for one page of the runs ``query``'s filter matches, newest first,
    after the run ``after`` (start time, activity ID, run ID) ended the page before."""
    params = visibility_sql.Params(dialect, namespace_id)
    cursor = ""
    if after is not None:  # bound in the order the markers appear: SQLite's ``?`` are positional
        start, activity_id, run_id = after
        cursor = (
            f"(start_time < {params.add(start)} OR (start_time = {params.add(start)} AND "
            f"(activity_id > {params.add(activity_id)} OR (activity_id = {params.add(activity_id)} "
            f"AND run_id > {params.add(run_id)})))) AND "
        )
    where = visibility_sql.filter_condition(query, types, params, ACTIVITY_COLUMNS)
    sql = (
        f"SELECT {LISTED} FROM standalone_activities "
        f"WHERE namespace_id = {dialect.placeholder(1)} AND {cursor}({where}) "
        f"ORDER BY start_time DESC, activity_id, run_id LIMIT {params.add(limit)}"
    )
    return sql, params.values


def counting(
    dialect: visibility_sql.Dialect, namespace_id: str, query: Query, types: dict[str, int]
) -> tuple[str, list[object]]:
    """SQL and parameters counting matching runs: (status, count) rows when grouped."""
    params = visibility_sql.Params(dialect, namespace_id)
    where = visibility_sql.filter_condition(query, types, params, ACTIVITY_COLUMNS)
    head = f"FROM standalone_activities WHERE namespace_id = {dialect.placeholder(1)} AND ({where})"
    if query.group_by:
        return f"SELECT status, COUNT(*) {head} GROUP BY status", params.values
    return f"SELECT NULL, COUNT(*) {head}", params.values
