-- Worker Deployments (migration 14): a row per namespace and deployment name, each write
-- conditional on the revision the writer read.

-- name: worker_deployments
SELECT namespace_id, name, revision, data FROM worker_deployments ORDER BY namespace_id, name;

-- name: get_worker_deployment
SELECT revision, data FROM worker_deployments WHERE namespace_id = $1 AND name = $2;

-- name: insert_worker_deployment
INSERT INTO worker_deployments (namespace_id, name, revision, data) VALUES ($1, $2, 1, $3)
ON CONFLICT (namespace_id, name) DO NOTHING;

-- name: update_worker_deployment
UPDATE worker_deployments SET data = $3, revision = revision + 1
WHERE namespace_id = $1 AND name = $2 AND revision = $4;

-- name: delete_worker_deployment
DELETE FROM worker_deployments WHERE namespace_id = $1 AND name = $2 AND revision = $3;
