-- Migration 14: Worker Deployments, as pollers register their versions and the deployment
-- RPCs route them. One row per namespace and deployment name, the deployment (its versions,
-- their task queues and metadata, its routing) as one JSON document, written conditionally on
-- its revision so replicas sharing the database never lose each other's changes.
CREATE TABLE IF NOT EXISTS worker_deployments (
    namespace_id TEXT NOT NULL,
    name         TEXT NOT NULL,
    revision     INTEGER NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (namespace_id, name)
) WITHOUT ROWID;

-- A deleted namespace takes its deployments with it.
CREATE TRIGGER IF NOT EXISTS namespaces_drop_worker_deployments AFTER DELETE ON namespaces
BEGIN
    DELETE FROM worker_deployments WHERE namespace_id = OLD.id;
END;
