-- Migration 10: a task keeps the priority matching orders it by (Temporal's Priority: key
-- 1-5 with 0 for the default, fairness key and weight with ''/0 for none), so the order
-- survives a restart and reaches the other replicas. Tasks stored before have none.
ALTER TABLE tasks ADD COLUMN priority_key INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN fairness_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN fairness_weight DOUBLE PRECISION NOT NULL DEFAULT 0;

-- A replica with idle pollers re-reads a queue's first tasks by priority (the default is 3,
-- keys past 5 count as 5), then arrival.
DROP INDEX tasks_by_queue;
CREATE INDEX tasks_by_queue ON tasks (
    namespace_id, task_queue, kind,
    (LEAST(GREATEST(CASE priority_key WHEN 0 THEN 3 ELSE priority_key END, 1), 5)), seq);

-- The announcement of a new task carries its priority too, after the sender's name.
CREATE OR REPLACE FUNCTION cadenza_task_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cadenza_tasks', json_build_array(
        NEW.task_id, NEW.namespace_id, NEW.task_queue, NEW.kind, NEW.workflow_id, NEW.run_id,
        NEW.scheduled_event_id, NEW.attempt, current_setting('cadenza.replica', true),
        NEW.priority_key, NEW.fairness_key, NEW.fairness_weight)::text);
    RETURN NULL;
END $$;
