-- Migration 11: task queue configs, as UpdateTaskQueueConfig sets them (rate limits, fairness
-- weight overrides). One row per namespace, queue name and queue type, the config a serialized
-- temporal.api.taskqueue.v1.TaskQueueConfig. Each write takes the next revision of the whole
-- table under a table lock, so revisions commit in order and a replica asking for the rows past
-- the revision it knows gets every change made by the others.
CREATE TABLE task_queue_configs (
    namespace_id TEXT COLLATE "C" NOT NULL,
    task_queue   TEXT COLLATE "C" NOT NULL,
    queue_type   INTEGER NOT NULL,
    revision     BIGINT NOT NULL,
    config       BYTEA NOT NULL,
    PRIMARY KEY (namespace_id, task_queue, queue_type)
);

CREATE INDEX task_queue_configs_by_revision ON task_queue_configs (revision);

-- A deleted namespace takes its queues' configs with it.
CREATE FUNCTION cadenza_namespace_deleted_drop_queue_configs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM task_queue_configs WHERE namespace_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER namespaces_drop_queue_configs AFTER DELETE ON namespaces
    FOR EACH ROW EXECUTE FUNCTION cadenza_namespace_deleted_drop_queue_configs();
