-- Migration 8: API keys. Only a hash of each key's secret is kept, never the key itself.
CREATE TABLE api_keys (
    key_id        TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT             NOT NULL DEFAULT '',
    -- The namespace the key's role holds on; '*' for every namespace.
    namespace     TEXT COLLATE "C" NOT NULL,
    role          TEXT COLLATE "C" NOT NULL,
    cluster_admin BOOLEAN          NOT NULL DEFAULT FALSE,
    -- SHA-256 of the key's secret, hex.
    secret_hash   TEXT COLLATE "C" NOT NULL,
    created_at    DOUBLE PRECISION NOT NULL,
    expires_at    DOUBLE PRECISION,
    revoked_at    DOUBLE PRECISION,
    -- Written at most once a minute per key, not on every call.
    last_used_at  DOUBLE PRECISION
);
CREATE INDEX api_keys_by_namespace ON api_keys (namespace);
