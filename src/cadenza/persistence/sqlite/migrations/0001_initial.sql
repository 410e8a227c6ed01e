-- Migration 1: the first schema. Statements say IF NOT EXISTS so a database created before
-- the migration ledger existed adopts this migration unchanged.

CREATE TABLE IF NOT EXISTS namespaces (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    info TEXT NOT NULL
);

-- One row per run: its mutable state, versioned for conditional writes.
CREATE TABLE IF NOT EXISTS executions (
    namespace_id  TEXT    NOT NULL,
    workflow_id   TEXT    NOT NULL,
    run_id        TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    status        INTEGER NOT NULL,
    workflow_type TEXT    NOT NULL,
    task_queue    TEXT    NOT NULL,
    start_time    REAL    NOT NULL,
    close_time    REAL,
    state         BLOB    NOT NULL,
    -- The listing view, kept in step with every change (visibility).
    execution_time     REAL    NOT NULL DEFAULT 0,
    history_length     INTEGER NOT NULL DEFAULT 0,
    search_attributes  TEXT    NOT NULL DEFAULT '{}',
    search_payloads    BLOB    NOT NULL DEFAULT x'',
    memo               BLOB    NOT NULL DEFAULT x'',
    PRIMARY KEY (namespace_id, workflow_id, run_id)
);
-- Listing newest first, and the common filters, without scanning every execution.
CREATE INDEX IF NOT EXISTS executions_by_start ON executions (namespace_id, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (namespace_id, status, start_time DESC);
CREATE INDEX IF NOT EXISTS executions_by_type ON executions (namespace_id, workflow_type, start_time DESC);
CREATE INDEX IF NOT EXISTS executions_by_queue ON executions (namespace_id, task_queue, start_time DESC);
CREATE INDEX IF NOT EXISTS executions_by_close ON executions (namespace_id, close_time DESC);

-- Which run owns each workflow ID.
CREATE TABLE IF NOT EXISTS current_executions (
    namespace_id     TEXT    NOT NULL,
    workflow_id      TEXT    NOT NULL,
    run_id           TEXT    NOT NULL,
    status           INTEGER NOT NULL,
    start_request_id TEXT    NOT NULL,
    PRIMARY KEY (namespace_id, workflow_id)
);

-- History as serialized event batches: one row per change that appended events.
CREATE TABLE IF NOT EXISTS history_batches (
    namespace_id   TEXT    NOT NULL,
    workflow_id    TEXT    NOT NULL,
    run_id         TEXT    NOT NULL,
    first_event_id INTEGER NOT NULL,
    last_event_id  INTEGER NOT NULL,
    data           BLOB    NOT NULL,
    PRIMARY KEY (namespace_id, workflow_id, run_id, first_event_id)
);

-- Workflow and activity tasks not yet handed to a worker.
CREATE TABLE IF NOT EXISTS tasks (
    task_id            TEXT    PRIMARY KEY,
    namespace_id       TEXT    NOT NULL,
    task_queue         TEXT    NOT NULL,
    kind               INTEGER NOT NULL,
    workflow_id        TEXT    NOT NULL,
    run_id             TEXT    NOT NULL,
    scheduled_event_id INTEGER NOT NULL,
    attempt            INTEGER NOT NULL
);

-- Durable deadlines: user timers, retry backoffs, timeouts.
CREATE TABLE IF NOT EXISTS timers (
    timer_id     TEXT    PRIMARY KEY,
    fire_at      REAL    NOT NULL,
    namespace_id TEXT    NOT NULL,
    workflow_id  TEXT    NOT NULL,
    run_id       TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    event_id     INTEGER NOT NULL,
    attempt      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS timers_by_fire_at ON timers (fire_at);
