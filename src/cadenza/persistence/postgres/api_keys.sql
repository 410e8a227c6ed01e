-- API keys (migration 0008): a hash of each secret, never the key.

-- name: insert_api_key
INSERT INTO api_keys (key_id, name, namespace, role, cluster_admin, secret_hash, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: get_api_key
SELECT key_id, name, namespace, role, cluster_admin, secret_hash, created_at, expires_at,
       revoked_at, last_used_at
FROM api_keys WHERE key_id = $1;

-- name: list_api_keys
SELECT key_id, name, namespace, role, cluster_admin, secret_hash, created_at, expires_at,
       revoked_at, last_used_at
FROM api_keys ORDER BY created_at, key_id;

-- name: list_api_keys_of_namespace
SELECT key_id, name, namespace, role, cluster_admin, secret_hash, created_at, expires_at,
       revoked_at, last_used_at
FROM api_keys WHERE namespace = $1 ORDER BY created_at, key_id;

-- name: revoke_api_key
UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL RETURNING key_id;

-- name: touch_api_key
UPDATE api_keys SET last_used_at = $1 WHERE key_id = $2;
