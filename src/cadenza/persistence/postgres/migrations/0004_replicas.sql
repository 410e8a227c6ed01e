-- Migration 4: several replicas on one database.

-- Each live replica renews its lease here; a replica whose lease ran out is gone,
-- and the timers it held are taken over by the others.
CREATE TABLE replicas (
    replica_id TEXT COLLATE "C" PRIMARY KEY,
    expires_at DOUBLE PRECISION NOT NULL
);

-- The replica that fires the timer ('' before this migration: nobody, so anyone claims it).
ALTER TABLE timers ADD COLUMN owner TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX timers_by_owner ON timers (owner);

-- A replica with idle pollers re-reads a queue's tasks now and then (the safety net under NOTIFY).
CREATE INDEX tasks_by_queue ON tasks (namespace_id, task_queue, kind, seq);

-- A new task is announced to every replica, so one whose worker waits on that queue can hand it
-- over at once. The sender names itself (session setting cadenza.replica) to skip its own news.
CREATE FUNCTION cadenza_task_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cadenza_tasks', json_build_array(
        NEW.task_id, NEW.namespace_id, NEW.task_queue, NEW.kind, NEW.workflow_id, NEW.run_id,
        NEW.scheduled_event_id, NEW.attempt, current_setting('cadenza.replica', true))::text);
    RETURN NULL;
END $$;
CREATE TRIGGER tasks_announce AFTER INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION cadenza_task_added();

-- A changed execution is announced too, so other replicas drop their cached copy of it.
CREATE FUNCTION cadenza_execution_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cadenza_changes', json_build_array(
        NEW.namespace_id, NEW.workflow_id, NEW.run_id, NEW.version,
        current_setting('cadenza.replica', true))::text);
    RETURN NULL;
END $$;
CREATE TRIGGER executions_announce AFTER UPDATE OF version ON executions
    FOR EACH ROW EXECUTE FUNCTION cadenza_execution_changed();
