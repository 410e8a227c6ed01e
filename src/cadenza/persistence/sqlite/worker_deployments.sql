-- Worker Deployments (migration 14): a row per namespace and deployment name.

-- name: worker_deployments
SELECT namespace_id, name, data FROM worker_deployments ORDER BY namespace_id, name;

-- name: put_worker_deployment
INSERT INTO worker_deployments (namespace_id, name, data) VALUES (?, ?, ?)
ON CONFLICT (namespace_id, name) DO UPDATE SET data = excluded.data;

-- name: delete_worker_deployment
DELETE FROM worker_deployments WHERE namespace_id = ? AND name = ?;
