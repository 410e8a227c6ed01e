-- Task queue version sets (migration 17): a row per namespace and queue, and a row per build
-- ID its sets hold.

-- name: get_version_sets
SELECT version, sets FROM task_queue_version_sets WHERE namespace_id = $1 AND task_queue = $2;

-- name: insert_version_sets
INSERT INTO task_queue_version_sets (namespace_id, task_queue, version, sets)
VALUES ($1, $2, 1, $3)
ON CONFLICT DO NOTHING
RETURNING version;

-- name: update_version_sets
UPDATE task_queue_version_sets SET sets = $3, version = version + 1
WHERE namespace_id = $1 AND task_queue = $2 AND version = $4
RETURNING version;

-- name: drop_build_ids
DELETE FROM task_queue_build_ids WHERE namespace_id = $1 AND task_queue = $2;

-- name: insert_build_ids
INSERT INTO task_queue_build_ids (namespace_id, task_queue, build_id)
SELECT $1, $2, build_id FROM unnest($3::text[]) AS build_id;

-- name: queues_with_build_id
SELECT task_queue FROM task_queue_build_ids
WHERE namespace_id = $1 AND build_id = $2 ORDER BY task_queue;
