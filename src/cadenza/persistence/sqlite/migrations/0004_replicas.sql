-- Migration 4: the replica columns PostgreSQL has. A SQLite file has one server, which owns
-- every timer, so these stay empty; they keep both schemas the same.
CREATE TABLE IF NOT EXISTS replicas (
    replica_id TEXT NOT NULL PRIMARY KEY,
    expires_at REAL NOT NULL
);
ALTER TABLE timers ADD COLUMN owner TEXT NOT NULL DEFAULT '';
