-- Migration 5: the shared-query table PostgreSQL has. A SQLite file has one server, which
-- keeps its queries in memory, so this stays empty; it keeps both schemas the same.
CREATE TABLE IF NOT EXISTS queries (
    query_id       TEXT NOT NULL PRIMARY KEY,
    owner          TEXT NOT NULL,
    namespace_id   TEXT NOT NULL,
    task_queue     TEXT NOT NULL,
    workflow_id    TEXT NOT NULL,
    run_id         TEXT NOT NULL,
    query          BLOB NOT NULL,
    created_at     REAL NOT NULL,
    claimed_by     TEXT NOT NULL DEFAULT '',
    completed_type INTEGER NOT NULL DEFAULT 0,
    result         BLOB,
    error_message  TEXT NOT NULL DEFAULT '',
    failure        BLOB
);
