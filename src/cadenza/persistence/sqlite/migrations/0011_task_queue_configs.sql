-- Migration 11: task queue configs, as UpdateTaskQueueConfig sets them (rate limits, fairness
-- weight overrides). One row per namespace, queue name and queue type, the config a serialized
-- temporal.api.taskqueue.v1.TaskQueueConfig. Each write takes the next revision of the whole
-- table, so a reader asking for the rows past the revision it knows gets every change.
CREATE TABLE IF NOT EXISTS task_queue_configs (
    namespace_id TEXT    NOT NULL,
    task_queue   TEXT    NOT NULL,
    queue_type   INTEGER NOT NULL,
    revision     INTEGER NOT NULL,
    config       BLOB    NOT NULL,
    PRIMARY KEY (namespace_id, task_queue, queue_type)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS task_queue_configs_by_revision ON task_queue_configs (revision);

-- A deleted namespace takes its queues' configs with it.
CREATE TRIGGER IF NOT EXISTS namespaces_drop_queue_configs AFTER DELETE ON namespaces
BEGIN
    DELETE FROM task_queue_configs WHERE namespace_id = OLD.id;
END;
