-- The canonical SQLite schema. Every statement is idempotent so it can run at each start.

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
-- Listing in Temporal's order (open runs first, then by close time, then by start
-- time, newest first) for the common filters, so the newest page of a filtered
-- listing is read straight from an index. The sort expression must stay the one
-- in persistence/sqlite/visibility.py (LISTING_ORDER).
DROP INDEX IF EXISTS executions_by_start;
DROP INDEX IF EXISTS executions_by_status;
DROP INDEX IF EXISTS executions_by_type;
DROP INDEX IF EXISTS executions_by_queue;
CREATE INDEX IF NOT EXISTS executions_listed ON executions
    (namespace_id, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS executions_listed_by_status ON executions
    (namespace_id, status, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS executions_listed_by_type ON executions
    (namespace_id, workflow_type, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS executions_listed_by_type_status ON executions
    (namespace_id, workflow_type, status, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS executions_listed_by_queue ON executions
    (namespace_id, task_queue, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS executions_listed_by_id ON executions
    (namespace_id, workflow_id, coalesce(close_time, 9e18) DESC, start_time DESC, run_id);
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

-- Schedules: each one's whole state, versioned for conditional writes; its next
-- wake-up is a row in timers (kind 'schedule', workflow_id = schedule ID).
CREATE TABLE IF NOT EXISTS schedules (
    namespace_id      TEXT    NOT NULL,
    schedule_id       TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    create_time       REAL    NOT NULL,
    state             BLOB    NOT NULL,
    -- Filterable values (custom search attributes, TemporalSchedulePaused) as JSON.
    search_attributes TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (namespace_id, schedule_id)
);
CREATE INDEX IF NOT EXISTS schedules_by_create ON schedules (namespace_id, create_time DESC);
