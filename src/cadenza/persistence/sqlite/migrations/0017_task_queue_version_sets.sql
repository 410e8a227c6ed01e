-- Migration 17: each task queue's compatible build-ID version sets (the legacy worker
-- versioning data API). One row per namespace and queue, the sets serialized by
-- cadenza.matching.version_sets; each write takes the row's next version, conditionally on the
-- version it read. Beside it, a row per build ID the sets hold, written in the same
-- transaction, so the queues holding a build ID are found without reading every queue's sets.
CREATE TABLE IF NOT EXISTS task_queue_version_sets (
    namespace_id TEXT    NOT NULL,
    task_queue   TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    sets         BLOB    NOT NULL,
    PRIMARY KEY (namespace_id, task_queue)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS task_queue_build_ids (
    namespace_id TEXT NOT NULL,
    task_queue   TEXT NOT NULL,
    build_id     TEXT NOT NULL,
    PRIMARY KEY (namespace_id, task_queue, build_id)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS task_queue_build_ids_by_build_id
    ON task_queue_build_ids (namespace_id, build_id, task_queue);

-- A deleted namespace takes its queues' version sets with it.
CREATE TRIGGER IF NOT EXISTS namespaces_drop_version_sets AFTER DELETE ON namespaces
BEGIN
    DELETE FROM task_queue_version_sets WHERE namespace_id = OLD.id;
    DELETE FROM task_queue_build_ids WHERE namespace_id = OLD.id;
END;
