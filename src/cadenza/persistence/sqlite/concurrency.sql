-- Concurrency limits and their slots (migrations 13 and 18).

-- name: list_limits
SELECT namespace_id, scope, name, max_running, fairness_key_max, policy FROM concurrency_limits
ORDER BY namespace_id, scope, name;

-- name: put_limit
INSERT INTO concurrency_limits (namespace_id, scope, name, max_running, fairness_key_max, policy)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (namespace_id, scope, name) DO UPDATE SET
    max_running = excluded.max_running,
    fairness_key_max = excluded.fairness_key_max,
    policy = excluded.policy;

-- name: delete_limit
DELETE FROM concurrency_limits WHERE namespace_id = ? AND scope = ? AND name = ?;

-- name: slot_held
SELECT attempt FROM concurrency_slots
WHERE namespace_id = ? AND scope = ? AND name = ? AND workflow_id = ? AND run_id = ?
  AND scheduled_event_id = ?;

-- name: count_scope
SELECT COUNT(*) FROM concurrency_slots WHERE namespace_id = ? AND scope = ? AND name = ?;

-- name: count_key
SELECT COUNT(*) FROM concurrency_slots
WHERE namespace_id = ? AND scope = ? AND name = ? AND fairness_key = ?;

-- name: insert_slot
INSERT INTO concurrency_slots (namespace_id, scope, name, workflow_id, run_id, scheduled_event_id,
                               attempt, fairness_key, acquired_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: delete_slot
DELETE FROM concurrency_slots
WHERE namespace_id = ? AND scope = ? AND name = ? AND workflow_id = ? AND run_id = ?
  AND scheduled_event_id = ?;

-- name: list_slots
SELECT namespace_id, scope, name, workflow_id, run_id, scheduled_event_id, attempt, fairness_key,
       acquired_at
FROM concurrency_slots;

-- name: update_slot
UPDATE concurrency_slots SET attempt = ?, fairness_key = ?, acquired_at = ?
WHERE namespace_id = ? AND scope = ? AND name = ? AND workflow_id = ? AND run_id = ?
  AND scheduled_event_id = ?;
