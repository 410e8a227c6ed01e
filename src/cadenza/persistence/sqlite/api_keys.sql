-- API keys (migration 0008): a hash of each secret, never the key.

-- name: insert_api_key
INSERT INTO api_keys (key_id, name, namespace, role, cluster_admin, secret_hash, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- name: get_api_key
SELECT key_id, name, namespace, role, cluster_admin, secret_hash, created_at, expires_at,
       revoked_at, last_used_at
FROM api_keys WHERE key_id = ?;

-- name: list_api_keys
SELECT key_id, name, namespace, role, cluster_admin, secret_hash, created_at, expires_at,
       revoked_at, last_used_at
FROM api_keys ORDER BY created_at, key_id;

-- name: list_api_keys_of_namespace
SELECT key_id, name, namespace, role, cluster_admin, secret_hash, created_at, expires_at,
       revoked_at, last_used_at
FROM api_keys WHERE namespace = ? ORDER BY created_at, key_id;

-- name: revoke_api_key
UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL;

-- name: touch_api_key
UPDATE api_keys SET last_used_at = ? WHERE key_id = ?;
