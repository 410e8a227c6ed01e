-- Nexus endpoints (migration 15): a row per endpoint.

-- name: get_nexus_endpoint
SELECT id, name, version, created_time, modified_time, spec FROM nexus_endpoints WHERE id = $1;

-- name: get_nexus_endpoint_by_name
SELECT id, name, version, created_time, modified_time, spec FROM nexus_endpoints WHERE name = $1;

-- name: insert_nexus_endpoint
INSERT INTO nexus_endpoints (id, name, version, created_time, modified_time, spec)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT DO NOTHING
RETURNING id;

-- name: update_nexus_endpoint
UPDATE nexus_endpoints SET name = $1, version = $2, modified_time = $3, spec = $4
WHERE id = $5 AND version = $6
RETURNING id;

-- name: delete_nexus_endpoint
DELETE FROM nexus_endpoints WHERE id = $1 RETURNING id;

-- name: list_nexus_endpoints
SELECT id, name, version, created_time, modified_time, spec FROM nexus_endpoints
WHERE id > $1 ORDER BY id LIMIT $2;
