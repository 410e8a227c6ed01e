-- Task queue configs (migration 11): a row per namespace, queue and queue type.

-- name: get_queue_config
SELECT revision, config FROM task_queue_configs
WHERE namespace_id = ? AND task_queue = ? AND queue_type = ?;

-- name: insert_queue_config
INSERT OR IGNORE INTO task_queue_configs (namespace_id, task_queue, queue_type, revision, config)
SELECT ?, ?, ?, COALESCE(MAX(revision), 0) + 1, ? FROM task_queue_configs
RETURNING revision;

-- name: update_queue_config
UPDATE task_queue_configs
SET config = ?, revision = (SELECT MAX(revision) + 1 FROM task_queue_configs)
WHERE namespace_id = ? AND task_queue = ? AND queue_type = ? AND revision = ?
RETURNING revision;

-- name: queue_configs_since
SELECT namespace_id, task_queue, queue_type, revision, config FROM task_queue_configs
WHERE revision > ? ORDER BY revision;
