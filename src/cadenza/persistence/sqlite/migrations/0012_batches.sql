-- Migration 12: batch operations (StartBatchOperation), each a durable record that a
-- background runner works through and resumes after a restart.

-- One batch: the request as sent (serialized), where it stands, its counts, where its runner
-- is (cursor: the page of targets being worked and the position in it, and the listing's
-- next page), and the replica running it (owner).
CREATE TABLE IF NOT EXISTS batches (
    namespace_id   TEXT    NOT NULL,
    job_id         TEXT    NOT NULL,
    run_id         TEXT    NOT NULL,
    request_id     TEXT    NOT NULL,
    operation_type INTEGER NOT NULL,
    request        BLOB    NOT NULL,
    identity       TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    state          INTEGER NOT NULL,
    start_time     REAL    NOT NULL,
    close_time     REAL,
    total_count    INTEGER NOT NULL DEFAULT 0,
    success_count  INTEGER NOT NULL DEFAULT 0,
    failure_count  INTEGER NOT NULL DEFAULT 0,
    cursor         BLOB    NOT NULL,
    owner          TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (namespace_id, job_id)
);

-- The running batches of a namespace (counted against its limit) and those to resume.
CREATE INDEX IF NOT EXISTS batches_by_state ON batches (state, namespace_id);
