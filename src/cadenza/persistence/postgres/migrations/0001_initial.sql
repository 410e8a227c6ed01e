-- Migration 1: the first schema. Text keys sort and compare bytewise (COLLATE "C"), as in SQLite.

CREATE TABLE namespaces (
    id   TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    info TEXT NOT NULL
);

-- One row per run: its mutable state, versioned for conditional writes.
CREATE TABLE executions (
    namespace_id  TEXT COLLATE "C" NOT NULL,
    workflow_id   TEXT COLLATE "C" NOT NULL,
    run_id        TEXT COLLATE "C" NOT NULL,
    version       BIGINT           NOT NULL,
    status        INTEGER          NOT NULL,
    workflow_type TEXT COLLATE "C" NOT NULL,
    task_queue    TEXT COLLATE "C" NOT NULL,
    start_time    DOUBLE PRECISION NOT NULL,
    close_time    DOUBLE PRECISION,
    state         BYTEA            NOT NULL,
    -- The listing view, kept in step with every change (visibility).
    execution_time    DOUBLE PRECISION NOT NULL DEFAULT 0,
    history_length    BIGINT           NOT NULL DEFAULT 0,
    search_attributes JSONB            NOT NULL DEFAULT '{}',
    search_payloads   BYTEA            NOT NULL DEFAULT '',
    memo              BYTEA            NOT NULL DEFAULT '',
    PRIMARY KEY (namespace_id, workflow_id, run_id)
);
-- Listing newest first, and the common filters, without scanning every execution.
-- NULLs sort as in SQLite (lowest), so listings order the same on both backends.
CREATE INDEX executions_by_start ON executions (namespace_id, start_time DESC, run_id);
CREATE INDEX executions_by_status ON executions (namespace_id, status, start_time DESC);
CREATE INDEX executions_by_type ON executions (namespace_id, workflow_type, start_time DESC);
CREATE INDEX executions_by_queue ON executions (namespace_id, task_queue, start_time DESC);
CREATE INDEX executions_by_close ON executions (namespace_id, close_time DESC NULLS LAST);

-- Which run owns each workflow ID.
CREATE TABLE current_executions (
    namespace_id     TEXT COLLATE "C" NOT NULL,
    workflow_id      TEXT COLLATE "C" NOT NULL,
    run_id           TEXT COLLATE "C" NOT NULL,
    status           INTEGER          NOT NULL,
    start_request_id TEXT             NOT NULL,
    PRIMARY KEY (namespace_id, workflow_id)
);

-- History as serialized event batches: one row per change that appended events.
CREATE TABLE history_batches (
    namespace_id   TEXT COLLATE "C" NOT NULL,
    workflow_id    TEXT COLLATE "C" NOT NULL,
    run_id         TEXT COLLATE "C" NOT NULL,
    first_event_id BIGINT           NOT NULL,
    last_event_id  BIGINT           NOT NULL,
    data           BYTEA            NOT NULL,
    PRIMARY KEY (namespace_id, workflow_id, run_id, first_event_id)
);

-- Workflow and activity tasks not yet handed to a worker; seq keeps their arrival order.
CREATE TABLE tasks (
    seq                BIGINT GENERATED ALWAYS AS IDENTITY,
    task_id            TEXT COLLATE "C" PRIMARY KEY,
    namespace_id       TEXT COLLATE "C" NOT NULL,
    task_queue         TEXT COLLATE "C" NOT NULL,
    kind               INTEGER          NOT NULL,
    workflow_id        TEXT COLLATE "C" NOT NULL,
    run_id             TEXT COLLATE "C" NOT NULL,
    scheduled_event_id BIGINT           NOT NULL,
    attempt            INTEGER          NOT NULL
);
CREATE INDEX tasks_by_execution ON tasks (namespace_id, workflow_id, run_id);

-- Durable deadlines: user timers, retry backoffs, timeouts.
CREATE TABLE timers (
    timer_id     TEXT COLLATE "C" PRIMARY KEY,
    fire_at      DOUBLE PRECISION NOT NULL,
    namespace_id TEXT COLLATE "C" NOT NULL,
    workflow_id  TEXT COLLATE "C" NOT NULL,
    run_id       TEXT COLLATE "C" NOT NULL,
    kind         TEXT             NOT NULL,
    event_id     BIGINT           NOT NULL,
    attempt      INTEGER          NOT NULL
);
CREATE INDEX timers_by_fire_at ON timers (fire_at);
CREATE INDEX timers_by_execution ON timers (namespace_id, workflow_id, run_id);
