-- Concurrency limits and their slots (migrations 13 and 18).

-- name: list_limits
SELECT namespace_id, scope, name, max_running, fairness_key_max, policy FROM concurrency_limits
ORDER BY namespace_id, scope, name;

-- name: put_limit
INSERT INTO concurrency_limits (namespace_id, scope, name, max_running, fairness_key_max, policy)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (namespace_id, scope, name) DO UPDATE SET
    max_running = excluded.max_running,
    fairness_key_max = excluded.fairness_key_max,
    policy = excluded.policy;

-- name: delete_limit
DELETE FROM concurrency_limits WHERE namespace_id = $1 AND scope = $2 AND name = $3;

-- name: lock_scope
-- Takers of one scope's slots go in turn, so two replicas never both take its last slot.
SELECT pg_advisory_xact_lock(hashtext($1 || chr(1) || $2 || chr(1) || $3));

-- name: slot_held
SELECT attempt FROM concurrency_slots
WHERE namespace_id = $1 AND scope = $2 AND name = $3 AND workflow_id = $4 AND run_id = $5
  AND scheduled_event_id = $6;

-- name: count_scope
SELECT COUNT(*) FROM concurrency_slots WHERE namespace_id = $1 AND scope = $2 AND name = $3;

-- name: count_key
SELECT COUNT(*) FROM concurrency_slots
WHERE namespace_id = $1 AND scope = $2 AND name = $3 AND fairness_key = $4;

-- name: insert_slot
INSERT INTO concurrency_slots (namespace_id, scope, name, workflow_id, run_id, scheduled_event_id,
                               attempt, fairness_key, acquired_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: delete_slot
DELETE FROM concurrency_slots
WHERE namespace_id = $1 AND scope = $2 AND name = $3 AND workflow_id = $4 AND run_id = $5
  AND scheduled_event_id = $6;

-- name: list_slots
SELECT namespace_id, scope, name, workflow_id, run_id, scheduled_event_id, attempt, fairness_key,
       acquired_at
FROM concurrency_slots;

-- name: update_slot
UPDATE concurrency_slots SET attempt = $1, fairness_key = $2, acquired_at = $3
WHERE namespace_id = $4 AND scope = $5 AND name = $6 AND workflow_id = $7 AND run_id = $8
  AND scheduled_event_id = $9;
