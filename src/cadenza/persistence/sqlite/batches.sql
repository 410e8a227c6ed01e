-- Batch operations (migration 12). Each selects the columns in the table's order.

-- name: insert_batch
INSERT INTO batches (namespace_id, job_id, run_id, request_id, operation_type, request, identity, reason, state, start_time, close_time, total_count, success_count, failure_count, cursor, owner)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (namespace_id, job_id) DO NOTHING;

-- name: get_batch
SELECT namespace_id, job_id, run_id, request_id, operation_type, request, identity, reason, state, start_time, close_time, total_count, success_count, failure_count, cursor, owner
FROM batches WHERE namespace_id = ? AND job_id = ?;

-- name: list_batches
-- Running batches first (no close time), then the newest closed; as Temporal lists them.
SELECT namespace_id, job_id, run_id, request_id, operation_type, request, identity, reason, state, start_time, close_time, total_count, success_count, failure_count, cursor, owner
FROM batches WHERE namespace_id = ?
ORDER BY close_time IS NOT NULL, close_time DESC, start_time DESC, job_id
LIMIT ? OFFSET ?;

-- name: count_running_batches
SELECT count(*) FROM batches WHERE state = 1 AND namespace_id = ?;

-- name: save_batch_progress
UPDATE batches SET total_count = ?, success_count = ?, failure_count = ?, cursor = ?
WHERE namespace_id = ? AND job_id = ? AND owner = ? AND state = 1;

-- name: close_batch
UPDATE batches SET state = ?, close_time = ?, total_count = ?, success_count = ?, failure_count = ?,
    cursor = ?
WHERE namespace_id = ? AND job_id = ? AND state = 1 AND (? IS NULL OR owner = ?);

-- name: claim_batches
-- One server serves a SQLite file: every running batch another process ran is now this one's.
UPDATE batches SET owner = ? WHERE state = 1 AND owner <> ?
RETURNING namespace_id, job_id, run_id, request_id, operation_type, request, identity, reason, state, start_time, close_time, total_count, success_count, failure_count, cursor, owner;
