-- Migration 3: listing indexes in Temporal's listing order, replacing the start-time ones.

-- Listing in Temporal's order (open runs first, then by close time, then by start
-- time, newest first) for the common filters, so the newest page of a filtered
-- listing is read straight from an index. The sort expression must stay the one
-- in persistence/visibility_sql.py (LISTING_ORDER).
DROP INDEX IF EXISTS executions_by_start;
DROP INDEX IF EXISTS executions_by_status;
DROP INDEX IF EXISTS executions_by_type;
DROP INDEX IF EXISTS executions_by_queue;
CREATE INDEX IF NOT EXISTS executions_listed ON executions
    (namespace_id, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS executions_listed_by_status ON executions
    (namespace_id, status, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS executions_listed_by_type ON executions
    (namespace_id, workflow_type, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS executions_listed_by_type_status ON executions
    (namespace_id, workflow_type, status, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS executions_listed_by_queue ON executions
    (namespace_id, task_queue, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS executions_listed_by_id ON executions
    (namespace_id, workflow_id, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
