-- Migration 14: Worker Deployments, as pollers register their versions and the deployment
-- RPCs route them. One row per namespace and deployment name, the deployment (its versions,
-- their task queues and metadata, its routing) as one JSON document, written conditionally on
-- its revision so replicas sharing the database never lose each other's changes.
CREATE TABLE worker_deployments (
    namespace_id TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    revision     BIGINT NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (namespace_id, name)
);

-- A deleted namespace takes its deployments with it.
CREATE FUNCTION cadenza_namespace_deleted_drop_worker_deployments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM worker_deployments WHERE namespace_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER namespaces_drop_worker_deployments AFTER DELETE ON namespaces
    FOR EACH ROW EXECUTE FUNCTION cadenza_namespace_deleted_drop_worker_deployments();
