-- name: insert_namespace
INSERT INTO namespaces (id, name, info) VALUES ($1, $2, $3);

-- name: get_namespace
SELECT id, name, info FROM namespaces WHERE name = $1;

-- name: list_namespaces
SELECT id, name, info FROM namespaces ORDER BY name;

-- name: get_current_execution
SELECT run_id, status, start_request_id FROM current_executions
WHERE namespace_id = $1 AND workflow_id = $2;

-- name: insert_current_execution
INSERT INTO current_executions (namespace_id, workflow_id, run_id, status, start_request_id)
VALUES ($1, $2, $3, $4, $5);

-- name: replace_current_execution
UPDATE current_executions SET run_id = $1, status = $2, start_request_id = $3
WHERE namespace_id = $4 AND workflow_id = $5 AND run_id = $6;

-- name: update_current_status
UPDATE current_executions SET status = $1
WHERE namespace_id = $2 AND workflow_id = $3 AND run_id = $4;

-- name: load_execution
-- The run's row (kind 0) and its pending activities' rows (kind 1), read in one statement so
-- both come from the same committed state; activities in the order they were scheduled.
SELECT 0, version, state FROM executions
WHERE namespace_id = $1 AND workflow_id = $2 AND run_id = $3
UNION ALL
SELECT 1, scheduled_event_id, data FROM pending_activities
WHERE namespace_id = $1 AND workflow_id = $2 AND run_id = $3
ORDER BY 1, 2;

-- name: execution_version
-- Only the version: enough to tell whether a cached copy is still the stored one.
SELECT version FROM executions WHERE namespace_id = $1 AND workflow_id = $2 AND run_id = $3;

-- name: insert_execution
INSERT INTO executions
    (namespace_id, workflow_id, run_id, version, status, workflow_type, task_queue,
     start_time, close_time, state)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: update_execution
UPDATE executions SET version = $1, state = $2
WHERE namespace_id = $3 AND workflow_id = $4 AND run_id = $5 AND version = $6;

-- name: update_execution_status
-- Apart, and only when they change: status and close time are in every listing
-- index, and setting them at all rewrites those index entries.
UPDATE executions SET status = $1, close_time = $2
WHERE namespace_id = $3 AND workflow_id = $4 AND run_id = $5
  AND (status IS DISTINCT FROM $6 OR close_time IS DISTINCT FROM $7);

-- name: update_visibility
UPDATE executions SET execution_time = $1, history_length = $2, search_attributes = $3,
                      search_payloads = $4, memo = $5
WHERE namespace_id = $6 AND workflow_id = $7 AND run_id = $8;

-- name: update_namespace
UPDATE namespaces SET info = $1 WHERE id = $2;

-- name: insert_history_batch
INSERT INTO history_batches (namespace_id, workflow_id, run_id, first_event_id, last_event_id, data)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: read_history
SELECT first_event_id, last_event_id, data FROM history_batches
WHERE namespace_id = $1 AND workflow_id = $2 AND run_id = $3 AND last_event_id >= $4
ORDER BY first_event_id;

-- name: insert_task
INSERT INTO tasks (task_id, namespace_id, task_queue, kind, workflow_id, run_id,
                   scheduled_event_id, attempt, priority_key, fairness_key, fairness_weight)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);

-- name: delete_task
DELETE FROM tasks WHERE task_id = $1;

-- name: list_tasks
SELECT task_id, namespace_id, task_queue, kind, workflow_id, run_id, scheduled_event_id, attempt,
       priority_key, fairness_key, fairness_weight
FROM tasks ORDER BY seq;

-- name: insert_timer
-- The replica that writes a timer fires it (its session names it in cadenza.replica).
INSERT INTO timers (timer_id, fire_at, namespace_id, workflow_id, run_id, kind, event_id, attempt,
                    owner)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce(current_setting('cadenza.replica', true), ''));

-- name: delete_timer
DELETE FROM timers WHERE timer_id = $1;

-- name: list_timers
-- At start: every timer no other live replica holds becomes this replica's ($1).
UPDATE timers SET owner = $1
WHERE owner NOT IN (SELECT replica_id FROM replicas
                    WHERE replica_id <> $1 AND expires_at > extract(epoch FROM clock_timestamp()))
RETURNING timer_id, fire_at, namespace_id, workflow_id, run_id, kind, event_id, attempt;

-- name: claim_orphan_timers
-- Timers whose replica's lease ran out become this replica's ($1); row locks let only one
-- claimer take each, the others re-check the owner and skip it.
UPDATE timers SET owner = $1
WHERE owner <> $1
  AND owner NOT IN (SELECT replica_id FROM replicas
                    WHERE expires_at > extract(epoch FROM clock_timestamp()))
RETURNING timer_id, fire_at, namespace_id, workflow_id, run_id, kind, event_id, attempt;

-- name: renew_lease
INSERT INTO replicas (replica_id, expires_at)
VALUES ($1, extract(epoch FROM clock_timestamp()) + $2)
ON CONFLICT (replica_id) DO UPDATE SET expires_at = excluded.expires_at;

-- name: drop_lease
DELETE FROM replicas WHERE replica_id = $1;

-- name: forget_dead_replicas
DELETE FROM replicas WHERE expires_at < extract(epoch FROM clock_timestamp()) - $1;

-- name: queued_tasks
SELECT task_id, namespace_id, task_queue, kind, workflow_id, run_id, scheduled_event_id, attempt,
       priority_key, fairness_key, fairness_weight
FROM tasks WHERE namespace_id = $1 AND task_queue = $2 AND kind = $3
ORDER BY LEAST(GREATEST(CASE priority_key WHEN 0 THEN 3 ELSE priority_key END, 1), 5), seq LIMIT $4;

-- name: offer_query
INSERT INTO queries (query_id, owner, namespace_id, task_queue, workflow_id, run_id, query,
                     created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: claim_query
-- Exactly one replica hands a query to a worker: the first to write its name here.
UPDATE queries SET claimed_by = $2
WHERE query_id = $1 AND claimed_by = ''
RETURNING query_id, owner, namespace_id, task_queue, workflow_id, run_id, query, created_at;

-- name: answer_query
-- Only the replica that handed the query out takes its answer, and only the first one.
UPDATE queries SET completed_type = $3, result = $4, error_message = $5, failure = $6
WHERE query_id = $1 AND claimed_by = $2 AND completed_type = 0;

-- name: query_answer
SELECT completed_type, result, error_message, failure FROM queries
WHERE query_id = $1 AND completed_type <> 0;

-- name: drop_query
DELETE FROM queries WHERE query_id = $1;

-- name: drop_orphan_queries
-- Queries whose caller's replica is gone: nobody is left to read their answer.
DELETE FROM queries
WHERE owner NOT IN (SELECT replica_id FROM replicas
                    WHERE expires_at > extract(epoch FROM clock_timestamp()));

-- name: unclaimed_queries
SELECT query_id FROM queries
WHERE namespace_id = $1 AND task_queue = $2 AND claimed_by = '' ORDER BY created_at LIMIT $3;

-- name: delete_execution
DELETE FROM executions WHERE namespace_id = $1 AND workflow_id = $2 AND run_id = $3;

-- name: delete_history
DELETE FROM history_batches WHERE namespace_id = $1 AND workflow_id = $2 AND run_id = $3;

-- name: delete_execution_activities
DELETE FROM pending_activities WHERE namespace_id = $1 AND workflow_id = $2 AND run_id = $3;

-- name: write_activity
INSERT INTO pending_activities (namespace_id, workflow_id, run_id, scheduled_event_id, data)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (namespace_id, workflow_id, run_id, scheduled_event_id) DO UPDATE SET data = excluded.data;

-- name: delete_activity
DELETE FROM pending_activities
WHERE namespace_id = $1 AND workflow_id = $2 AND run_id = $3 AND scheduled_event_id = $4;

-- name: delete_execution_tasks
DELETE FROM tasks WHERE namespace_id = $1 AND workflow_id = $2 AND run_id = $3;

-- name: delete_execution_timers
DELETE FROM timers WHERE namespace_id = $1 AND workflow_id = $2 AND run_id = $3;

-- name: delete_current_if
DELETE FROM current_executions WHERE namespace_id = $1 AND workflow_id = $2 AND run_id = $3;

-- name: closed_before
SELECT workflow_id, run_id FROM executions
WHERE namespace_id = $1 AND close_time IS NOT NULL AND close_time < $2
ORDER BY close_time LIMIT $3;

-- name: delete_namespace
DELETE FROM namespaces WHERE id = $1;

-- name: delete_namespace_executions
DELETE FROM executions WHERE namespace_id = $1;

-- name: delete_namespace_history
DELETE FROM history_batches WHERE namespace_id = $1;

-- name: delete_namespace_activities
DELETE FROM pending_activities WHERE namespace_id = $1;

-- name: delete_namespace_current
DELETE FROM current_executions WHERE namespace_id = $1;

-- name: delete_namespace_tasks
DELETE FROM tasks WHERE namespace_id = $1;

-- name: delete_namespace_timers
DELETE FROM timers WHERE namespace_id = $1;

-- name: delete_namespace_saved_views
DELETE FROM saved_views WHERE namespace_id = $1;

-- name: delete_namespace_batches
DELETE FROM batches WHERE namespace_id = $1;

-- name: insert_schedule
INSERT INTO schedules (namespace_id, schedule_id, version, create_time, state, search_attributes)
VALUES ($1, $2, 1, $3, $4, $5);

-- name: update_schedule
UPDATE schedules SET version = version + 1, state = $1, search_attributes = $2
WHERE namespace_id = $3 AND schedule_id = $4 AND version = $5;

-- name: delete_schedule
DELETE FROM schedules WHERE namespace_id = $1 AND schedule_id = $2 AND version = $3;

-- name: get_schedule
SELECT version, state FROM schedules WHERE namespace_id = $1 AND schedule_id = $2;

-- name: list_all_schedules
SELECT namespace_id, schedule_id, version, state FROM schedules;

-- name: delete_namespace_standalone_activities
DELETE FROM standalone_activities WHERE namespace_id = $1;

-- name: delete_namespace_schedules
DELETE FROM schedules WHERE namespace_id = $1;

-- name: create_ledger
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
);

-- name: ledger_exists
SELECT to_regclass('schema_migrations') IS NOT NULL;

-- name: applied_migrations
SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version;

-- name: record_migration
INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, now());

-- name: lock_schema
SELECT pg_advisory_lock($1);

-- name: unlock_schema
SELECT pg_advisory_unlock($1);

-- name: insert_audit
INSERT INTO audit_log (recorded_at, principal_kind, principal_name, namespace, service, method,
    workflow_id, run_id, schedule_id, request_id, outcome, reason, identity)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13);

-- name: delete_audit_before
DELETE FROM audit_log WHERE id IN (
    SELECT id FROM audit_log WHERE recorded_at < $1 ORDER BY recorded_at LIMIT $2
) RETURNING id;
