-- Migration 8: API keys. Only a hash of each key's secret is kept, never the key itself.
CREATE TABLE IF NOT EXISTS api_keys (
    key_id        TEXT NOT NULL PRIMARY KEY,
    name          TEXT NOT NULL DEFAULT '',
    namespace     TEXT NOT NULL,
    role          TEXT NOT NULL,
    cluster_admin INTEGER NOT NULL DEFAULT 0,
    secret_hash   TEXT NOT NULL,
    created_at    REAL NOT NULL,
    expires_at    REAL,
    revoked_at    REAL,
    last_used_at  REAL
);
CREATE INDEX IF NOT EXISTS api_keys_by_namespace ON api_keys (namespace);
