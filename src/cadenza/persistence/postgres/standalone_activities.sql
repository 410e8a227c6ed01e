-- Standalone activities (migration 16): a row per run, its tasks and timers in tasks and timers.

-- name: insert_standalone_activity
INSERT INTO standalone_activities (namespace_id, activity_id, run_id, version, activity_type,
                                   task_queue, status, start_time, close_time, request_id, state,
                                   search_attributes)
VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11);

-- name: update_standalone_activity
UPDATE standalone_activities
SET version = version + 1, status = $1, close_time = $2, state = $3
WHERE namespace_id = $4 AND activity_id = $5 AND run_id = $6 AND version = $7;

-- name: delete_standalone_activity
DELETE FROM standalone_activities
WHERE namespace_id = $1 AND activity_id = $2 AND run_id = $3 AND version = $4;

-- name: get_standalone_activity
SELECT namespace_id, activity_id, run_id, version, request_id, state FROM standalone_activities
WHERE namespace_id = $1 AND activity_id = $2 AND run_id = $3;

-- name: latest_standalone_activity
SELECT namespace_id, activity_id, run_id, version, request_id, state FROM standalone_activities
WHERE namespace_id = $1 AND activity_id = $2
ORDER BY start_time DESC LIMIT 1;

-- name: insert_task
INSERT INTO tasks (task_id, namespace_id, task_queue, kind, workflow_id, run_id,
                   scheduled_event_id, attempt, priority_key, fairness_key, fairness_weight)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);

-- name: delete_task
DELETE FROM tasks WHERE task_id = $1;

-- name: insert_timer
-- The replica that writes a timer fires it (its session names it in cadenza.replica).
INSERT INTO timers (timer_id, fire_at, namespace_id, workflow_id, run_id, kind, event_id, attempt,
                    owner)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce(current_setting('cadenza.replica', true), ''));

-- name: delete_timer
DELETE FROM timers WHERE timer_id = $1;

-- name: delete_closed_standalone_activities
DELETE FROM standalone_activities WHERE ctid IN (
    SELECT ctid FROM standalone_activities
    WHERE namespace_id = $1 AND close_time IS NOT NULL AND close_time < $2
    ORDER BY close_time LIMIT $3);
