-- Migration 13: concurrency limits and the slots they hand out. A limit caps how many activity
-- tasks of a queue run at once (``activity-queue``, whole and per fairness key), or how many
-- workflows of a type or a workflow-ID prefix run at once. Each slot is a row, written when its
-- holder starts (an activity attempt handed to a worker, a workflow started) and deleted when it
-- ends, so every server on the database counts the same slots, after a restart too.
CREATE TABLE IF NOT EXISTS concurrency_limits (
    namespace_id     TEXT    NOT NULL,
    scope            TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    max_running      INTEGER NOT NULL,  -- 0: no limit on the whole scope
    fairness_key_max INTEGER NOT NULL,  -- 0: no limit per fairness key
    policy           TEXT    NOT NULL,  -- queue | reject
    PRIMARY KEY (namespace_id, scope, name)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS concurrency_slots (
    namespace_id       TEXT    NOT NULL,
    scope              TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    workflow_id        TEXT    NOT NULL,
    run_id             TEXT    NOT NULL,  -- '' for a workflow's slot: its whole chain holds it
    scheduled_event_id INTEGER NOT NULL,  -- 0 for a workflow's slot
    attempt            INTEGER NOT NULL,
    fairness_key       TEXT    NOT NULL,
    acquired_at        REAL    NOT NULL,
    PRIMARY KEY (namespace_id, scope, name, workflow_id, run_id, scheduled_event_id)
) WITHOUT ROWID;

-- A deleted namespace takes its limits and slots with it.
CREATE TRIGGER IF NOT EXISTS namespaces_drop_concurrency AFTER DELETE ON namespaces
BEGIN
    DELETE FROM concurrency_limits WHERE namespace_id = OLD.id;
    DELETE FROM concurrency_slots WHERE namespace_id = OLD.id;
END;
