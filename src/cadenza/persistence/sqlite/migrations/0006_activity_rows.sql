-- Migration 6: each pending activity in a row of its own, beside its run's mutable state.
-- A change writes only the activities it touched, so the cost of an activity event does not
-- grow with the number pending. The version check stays on the execution row; these rows are
-- written in the same transaction. Runs stored before keep their activities inside the state
-- until their next change moves them here.
CREATE TABLE IF NOT EXISTS pending_activities (
    namespace_id       TEXT    NOT NULL,
    workflow_id        TEXT    NOT NULL,
    run_id             TEXT    NOT NULL,
    scheduled_event_id INTEGER NOT NULL,
    data               BLOB    NOT NULL,
    PRIMARY KEY (namespace_id, workflow_id, run_id, scheduled_event_id)
) WITHOUT ROWID;
