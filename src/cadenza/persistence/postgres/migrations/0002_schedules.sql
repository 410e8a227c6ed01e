-- Migration 2: schedules.

-- Schedules: each one's whole state, versioned for conditional writes; its next
-- wake-up is a row in timers (kind 'schedule', workflow_id = schedule ID).
CREATE TABLE schedules (
    namespace_id      TEXT COLLATE "C" NOT NULL,
    schedule_id       TEXT COLLATE "C" NOT NULL,
    version           BIGINT           NOT NULL,
    create_time       DOUBLE PRECISION NOT NULL,
    state             BYTEA            NOT NULL,
    -- Filterable values (custom search attributes, TemporalSchedulePaused).
    search_attributes JSONB            NOT NULL DEFAULT '{}',
    PRIMARY KEY (namespace_id, schedule_id)
);
-- Listing newest first (ties by ID, as SQLite orders them).
CREATE INDEX schedules_by_create ON schedules (namespace_id, create_time DESC, schedule_id);
