-- Task queue configs (migration 11): a row per namespace, queue and queue type.

-- name: get_queue_config
SELECT revision, config FROM task_queue_configs
WHERE namespace_id = $1 AND task_queue = $2 AND queue_type = $3;

-- name: lock_queue_configs
-- Writers take turns, so each revision commits after every smaller one: a replica reading the
-- rows past the revision it knows misses none. Readers are not blocked.
LOCK TABLE task_queue_configs IN EXCLUSIVE MODE;

-- name: insert_queue_config
INSERT INTO task_queue_configs (namespace_id, task_queue, queue_type, revision, config)
SELECT $1, $2, $3, COALESCE(MAX(revision), 0) + 1, $4 FROM task_queue_configs
ON CONFLICT DO NOTHING
RETURNING revision;

-- name: update_queue_config
UPDATE task_queue_configs
SET config = $4, revision = (SELECT MAX(revision) + 1 FROM task_queue_configs)
WHERE namespace_id = $1 AND task_queue = $2 AND queue_type = $3 AND revision = $5
RETURNING revision;

-- name: queue_configs_since
SELECT namespace_id, task_queue, queue_type, revision, config FROM task_queue_configs
WHERE revision > $1 ORDER BY revision;
