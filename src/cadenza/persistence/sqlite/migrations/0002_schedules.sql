-- Migration 2: schedules. IF NOT EXISTS, as in migration 1: a database that gained this table
-- before the migration ledger existed adopts the migration unchanged.

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
