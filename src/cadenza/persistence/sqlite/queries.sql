-- name: insert_namespace
INSERT INTO namespaces (id, name, info) VALUES (?, ?, ?);

-- name: get_namespace
SELECT id, name, info FROM namespaces WHERE name = ?;

-- name: list_namespaces
SELECT id, name, info FROM namespaces ORDER BY name;

-- name: get_current_execution
SELECT run_id, status, start_request_id FROM current_executions
WHERE namespace_id = ? AND workflow_id = ?;

-- name: insert_current_execution
INSERT INTO current_executions (namespace_id, workflow_id, run_id, status, start_request_id)
VALUES (?, ?, ?, ?, ?);

-- name: replace_current_execution
UPDATE current_executions SET run_id = ?, status = ?, start_request_id = ?
WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?;

-- name: update_current_status
UPDATE current_executions SET status = ?
WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?;

-- name: load_execution
-- The run's row (kind 0) and its pending activities' rows (kind 1), read in one statement so
-- both come from the same committed state; activities in the order they were scheduled.
SELECT 0, version, state FROM executions
WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?
UNION ALL
SELECT 1, scheduled_event_id, data FROM pending_activities
WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?
ORDER BY 1, 2;

-- name: execution_version
-- Only the version: enough to tell whether a cached copy is still the stored one.
SELECT version FROM executions WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?;

-- name: insert_execution
INSERT INTO executions
    (namespace_id, workflow_id, run_id, version, status, workflow_type, task_queue,
     start_time, close_time, state)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: update_execution
UPDATE executions SET version = ?, state = ?
WHERE namespace_id = ? AND workflow_id = ? AND run_id = ? AND version = ?;

-- name: update_execution_status
-- Apart, and only when they change: status and close time are in every listing
-- index, and setting them at all rewrites those index entries.
UPDATE executions SET status = ?, close_time = ?
WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?
  AND (status IS NOT ? OR close_time IS NOT ?);

-- name: update_visibility
UPDATE executions SET execution_time = ?, history_length = ?, search_attributes = ?,
                      search_payloads = ?, memo = ?
WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?;

-- name: update_namespace
UPDATE namespaces SET info = ? WHERE id = ?;

-- name: insert_history_batch
INSERT INTO history_batches (namespace_id, workflow_id, run_id, first_event_id, last_event_id, data)
VALUES (?, ?, ?, ?, ?, ?);

-- name: read_history
SELECT first_event_id, last_event_id, data FROM history_batches
WHERE namespace_id = ? AND workflow_id = ? AND run_id = ? AND last_event_id >= ?
ORDER BY first_event_id;

-- name: insert_task
INSERT INTO tasks (task_id, namespace_id, task_queue, kind, workflow_id, run_id,
                   scheduled_event_id, attempt, priority_key, fairness_key, fairness_weight)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: delete_task
DELETE FROM tasks WHERE task_id = ?;

-- name: list_tasks
SELECT task_id, namespace_id, task_queue, kind, workflow_id, run_id, scheduled_event_id, attempt,
       priority_key, fairness_key, fairness_weight
FROM tasks ORDER BY rowid;

-- name: insert_timer
INSERT INTO timers (timer_id, fire_at, namespace_id, workflow_id, run_id, kind, event_id, attempt)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- name: delete_timer
DELETE FROM timers WHERE timer_id = ?;

-- name: list_timers
SELECT timer_id, fire_at, namespace_id, workflow_id, run_id, kind, event_id, attempt
FROM timers ORDER BY fire_at;

-- name: delete_execution
DELETE FROM executions WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?;

-- name: delete_history
DELETE FROM history_batches WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?;

-- name: delete_execution_activities
DELETE FROM pending_activities WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?;

-- name: write_activity
INSERT INTO pending_activities (namespace_id, workflow_id, run_id, scheduled_event_id, data)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (namespace_id, workflow_id, run_id, scheduled_event_id) DO UPDATE SET data = excluded.data;

-- name: delete_activity
DELETE FROM pending_activities
WHERE namespace_id = ? AND workflow_id = ? AND run_id = ? AND scheduled_event_id = ?;

-- name: delete_execution_tasks
DELETE FROM tasks WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?;

-- name: delete_execution_timers
DELETE FROM timers WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?;

-- name: delete_current_if
DELETE FROM current_executions WHERE namespace_id = ? AND workflow_id = ? AND run_id = ?;

-- name: closed_before
SELECT workflow_id, run_id FROM executions
WHERE namespace_id = ? AND close_time IS NOT NULL AND close_time < ?
ORDER BY close_time LIMIT ?;

-- name: delete_namespace
DELETE FROM namespaces WHERE id = ?;

-- name: delete_namespace_executions
DELETE FROM executions WHERE namespace_id = ?;

-- name: delete_namespace_history
DELETE FROM history_batches WHERE namespace_id = ?;

-- name: delete_namespace_activities
DELETE FROM pending_activities WHERE namespace_id = ?;

-- name: delete_namespace_current
DELETE FROM current_executions WHERE namespace_id = ?;

-- name: delete_namespace_tasks
DELETE FROM tasks WHERE namespace_id = ?;

-- name: delete_namespace_timers
DELETE FROM timers WHERE namespace_id = ?;

-- name: delete_namespace_saved_views
DELETE FROM saved_views WHERE namespace_id = ?;

-- name: delete_namespace_batches
DELETE FROM batches WHERE namespace_id = ?;

-- name: insert_schedule
INSERT INTO schedules (namespace_id, schedule_id, version, create_time, state, search_attributes)
VALUES (?, ?, 1, ?, ?, ?);

-- name: update_schedule
UPDATE schedules SET version = version + 1, state = ?, search_attributes = ?
WHERE namespace_id = ? AND schedule_id = ? AND version = ?;

-- name: delete_schedule
DELETE FROM schedules WHERE namespace_id = ? AND schedule_id = ? AND version = ?;

-- name: get_schedule
SELECT version, state FROM schedules WHERE namespace_id = ? AND schedule_id = ?;

-- name: list_all_schedules
SELECT namespace_id, schedule_id, version, state FROM schedules;

-- name: delete_namespace_standalone_activities
DELETE FROM standalone_activities WHERE namespace_id = ?;

-- name: delete_namespace_schedules
DELETE FROM schedules WHERE namespace_id = ?;

-- name: create_ledger
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
);

-- name: ledger_exists
SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations';

-- name: applied_migrations
SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version;

-- name: record_migration
INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?);

-- name: insert_audit
INSERT INTO audit_log (recorded_at, principal_kind, principal_name, namespace, service, method,
    workflow_id, run_id, schedule_id, request_id, outcome, reason, identity)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: delete_audit_before
DELETE FROM audit_log WHERE id IN (
    SELECT id FROM audit_log WHERE recorded_at < ? ORDER BY recorded_at LIMIT ?
);
