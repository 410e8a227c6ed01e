-- Batch operations (migration 12). Each selects the columns in the table's order.

-- name: insert_batch
INSERT INTO batches (namespace_id, job_id, run_id, request_id, operation_type, request, identity, reason, state, start_time, close_time, total_count, success_count, failure_count, cursor, owner)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (namespace_id, job_id) DO NOTHING;

-- name: get_batch
SELECT namespace_id, job_id, run_id, request_id, operation_type, request, identity, reason, state, start_time, close_time, total_count, success_count, failure_count, cursor, owner
FROM batches WHERE namespace_id = $1 AND job_id = $2;

-- name: list_batches
-- Running batches first (no close time), then the newest closed; as Temporal lists them.
SELECT namespace_id, job_id, run_id, request_id, operation_type, request, identity, reason, state, start_time, close_time, total_count, success_count, failure_count, cursor, owner
FROM batches WHERE namespace_id = $1
ORDER BY close_time DESC NULLS FIRST, start_time DESC, job_id
LIMIT $2 OFFSET $3;

-- name: count_running_batches
SELECT count(*) FROM batches WHERE state = 1 AND namespace_id = $1;

-- name: save_batch_progress
UPDATE batches SET total_count = $1, success_count = $2, failure_count = $3, cursor = $4
WHERE namespace_id = $5 AND job_id = $6 AND owner = $7 AND state = 1;

-- name: close_batch
UPDATE batches SET state = $1, close_time = $2, total_count = $3, success_count = $4,
    failure_count = $5, cursor = $6
WHERE namespace_id = $7 AND job_id = $8 AND state = 1 AND ($9::text IS NULL OR owner = $9);

-- name: claim_batches
-- Running batches whose replica's lease ran out become this replica's ($1); row locks let
-- only one claimer take each, the others re-check the owner and skip it.
UPDATE batches SET owner = $1
WHERE state = 1 AND owner <> $1
  AND owner NOT IN (SELECT replica_id FROM replicas
                    WHERE expires_at > extract(epoch FROM clock_timestamp()))
RETURNING namespace_id, job_id, run_id, request_id, operation_type, request, identity, reason, state, start_time, close_time, total_count, success_count, failure_count, cursor, owner;
