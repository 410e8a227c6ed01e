-- Task queue version sets (migration 17): a row per namespace and queue, and a row per build
-- ID its sets hold.

-- name: get_version_sets
SELECT version, sets FROM task_queue_version_sets WHERE namespace_id = ? AND task_queue = ?;

-- name: insert_version_sets
INSERT OR IGNORE INTO task_queue_version_sets (namespace_id, task_queue, version, sets)
VALUES (?, ?, 1, ?)
RETURNING version;

-- name: update_version_sets
UPDATE task_queue_version_sets SET sets = ?, version = version + 1
WHERE namespace_id = ? AND task_queue = ? AND version = ?
RETURNING version;

-- name: drop_build_ids
DELETE FROM task_queue_build_ids WHERE namespace_id = ? AND task_queue = ?;

-- name: insert_build_id
INSERT INTO task_queue_build_ids (namespace_id, task_queue, build_id) VALUES (?, ?, ?);

-- name: queues_with_build_id
SELECT task_queue FROM task_queue_build_ids
WHERE namespace_id = ? AND build_id = ? ORDER BY task_queue;
