-- Nexus endpoints (migration 15): a row per endpoint.

-- name: get_nexus_endpoint
SELECT id, name, version, created_time, modified_time, spec FROM nexus_endpoints WHERE id = ?;

-- name: get_nexus_endpoint_by_name
SELECT id, name, version, created_time, modified_time, spec FROM nexus_endpoints WHERE name = ?;

-- name: insert_nexus_endpoint
INSERT OR IGNORE INTO nexus_endpoints (id, name, version, created_time, modified_time, spec)
VALUES (?, ?, ?, ?, ?, ?)
RETURNING id;

-- name: update_nexus_endpoint
UPDATE nexus_endpoints SET name = ?, version = ?, modified_time = ?, spec = ?
WHERE id = ? AND version = ?
RETURNING id;

-- name: delete_nexus_endpoint
DELETE FROM nexus_endpoints WHERE id = ? RETURNING id;

-- name: list_nexus_endpoints
SELECT id, name, version, created_time, modified_time, spec FROM nexus_endpoints
WHERE id > ? ORDER BY id LIMIT ?;
