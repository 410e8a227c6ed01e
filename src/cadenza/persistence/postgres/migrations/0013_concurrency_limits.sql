-- Migration 13: concurrency limits and the slots they hand out. A limit caps how many activity
-- tasks of a queue run at once (``activity-queue``, whole and per fairness key), or how many
-- workflows of a type or a workflow-ID prefix run at once. Each slot is a row, written when its
-- holder starts (an activity attempt handed to a worker, a workflow started) and deleted when it
-- ends, so every replica counts the same slots, after a restart too.
CREATE TABLE concurrency_limits (
    namespace_id     TEXT COLLATE "C" NOT NULL,
    scope            TEXT COLLATE "C" NOT NULL,
    name             TEXT COLLATE "C" NOT NULL,
    max_running      INTEGER NOT NULL,  -- 0: no limit on the whole scope
    fairness_key_max INTEGER NOT NULL,  -- 0: no limit per fairness key
    policy           TEXT NOT NULL,     -- queue | reject
    PRIMARY KEY (namespace_id, scope, name)
);

CREATE TABLE concurrency_slots (
    namespace_id       TEXT COLLATE "C" NOT NULL,
    scope              TEXT COLLATE "C" NOT NULL,
    name               TEXT COLLATE "C" NOT NULL,
    workflow_id        TEXT COLLATE "C" NOT NULL,
    run_id             TEXT COLLATE "C" NOT NULL,  -- '' for a workflow's slot: its whole chain holds it
    scheduled_event_id BIGINT NOT NULL,            -- 0 for a workflow's slot
    attempt            INTEGER NOT NULL,
    fairness_key       TEXT COLLATE "C" NOT NULL,
    acquired_at        DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (namespace_id, scope, name, workflow_id, run_id, scheduled_event_id)
);

-- A deleted namespace takes its limits and slots with it.
CREATE FUNCTION cadenza_namespace_deleted_drop_concurrency() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM concurrency_limits WHERE namespace_id = OLD.id;
    DELETE FROM concurrency_slots WHERE namespace_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER namespaces_drop_concurrency AFTER DELETE ON namespaces
    FOR EACH ROW EXECUTE FUNCTION cadenza_namespace_deleted_drop_concurrency();
