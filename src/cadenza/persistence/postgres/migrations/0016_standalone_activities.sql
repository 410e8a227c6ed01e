-- Migration 16: standalone activities (StartActivityExecution), activities that run without a
-- workflow. Each run is one row: its whole state (a serialized DescribeActivityExecutionResponse),
-- versioned for conditional writes, and the columns its list filters read. Its tasks and
-- timers are rows of tasks and timers (workflow_id = activity ID, scheduled_event_id 0).
CREATE TABLE standalone_activities (
    namespace_id      TEXT COLLATE "C" NOT NULL,
    activity_id       TEXT COLLATE "C" NOT NULL,
    run_id            TEXT COLLATE "C" NOT NULL,
    version           BIGINT           NOT NULL,
    activity_type     TEXT COLLATE "C" NOT NULL,
    task_queue        TEXT COLLATE "C" NOT NULL,
    -- ExecutionStatus in the workflow numbering the list filters compare with.
    status            INTEGER          NOT NULL,
    start_time        DOUBLE PRECISION NOT NULL,
    close_time        DOUBLE PRECISION,
    request_id        TEXT COLLATE "C" NOT NULL,
    state             BYTEA            NOT NULL,
    search_attributes JSONB            NOT NULL DEFAULT '{}',
    PRIMARY KEY (namespace_id, activity_id, run_id)
);
CREATE INDEX standalone_activities_by_id ON standalone_activities (namespace_id, activity_id, start_time DESC);
CREATE INDEX standalone_activities_by_start ON standalone_activities (namespace_id, start_time DESC);
-- Closed runs past their namespace's retention, oldest first.
CREATE INDEX standalone_activities_by_close ON standalone_activities (namespace_id, close_time);
