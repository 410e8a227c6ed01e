-- Standalone activities (migration 16): a row per run, its tasks and timers in tasks and timers.

-- name: insert_standalone_activity
INSERT INTO standalone_activities (namespace_id, activity_id, run_id, version, activity_type,
                                   task_queue, status, start_time, close_time, request_id, state,
                                   search_attributes)
VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: update_standalone_activity
UPDATE standalone_activities
SET version = version + 1, status = ?, close_time = ?, state = ?
WHERE namespace_id = ? AND activity_id = ? AND run_id = ? AND version = ?;

-- name: delete_standalone_activity
DELETE FROM standalone_activities
WHERE namespace_id = ? AND activity_id = ? AND run_id = ? AND version = ?;

-- name: get_standalone_activity
SELECT namespace_id, activity_id, run_id, version, request_id, state FROM standalone_activities
WHERE namespace_id = ? AND activity_id = ? AND run_id = ?;

-- name: latest_standalone_activity
SELECT namespace_id, activity_id, run_id, version, request_id, state FROM standalone_activities
WHERE namespace_id = ? AND activity_id = ?
ORDER BY start_time DESC LIMIT 1;

-- name: insert_task
INSERT INTO tasks (task_id, namespace_id, task_queue, kind, workflow_id, run_id,
                   scheduled_event_id, attempt, priority_key, fairness_key, fairness_weight)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: delete_task
DELETE FROM tasks WHERE task_id = ?;

-- name: insert_timer
INSERT INTO timers (timer_id, fire_at, namespace_id, workflow_id, run_id, kind, event_id, attempt)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- name: delete_timer
DELETE FROM timers WHERE timer_id = ?;

-- name: delete_closed_standalone_activities
DELETE FROM standalone_activities WHERE rowid IN (
    SELECT rowid FROM standalone_activities
    WHERE namespace_id = ? AND close_time IS NOT NULL AND close_time < ?
    ORDER BY close_time LIMIT ?);
