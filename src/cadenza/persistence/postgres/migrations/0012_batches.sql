-- Migration 12: batch operations (StartBatchOperation), each a durable record that a
-- background runner works through and resumes after a restart.

-- One batch: the request as sent (serialized), where it stands, its counts, where its runner
-- is (cursor: the page of targets being worked and the position in it, and the listing's
-- next page), and the replica running it (owner).
CREATE TABLE batches (
    namespace_id   TEXT COLLATE "C" NOT NULL,
    job_id         TEXT COLLATE "C" NOT NULL,
    run_id         TEXT COLLATE "C" NOT NULL,
    request_id     TEXT COLLATE "C" NOT NULL,
    operation_type INTEGER NOT NULL,
    request        BYTEA   NOT NULL,
    identity       TEXT COLLATE "C" NOT NULL,
    reason         TEXT COLLATE "C" NOT NULL,
    state          INTEGER NOT NULL,
    start_time     DOUBLE PRECISION NOT NULL,
    close_time     DOUBLE PRECISION,
    total_count    BIGINT  NOT NULL DEFAULT 0,
    success_count  BIGINT  NOT NULL DEFAULT 0,
    failure_count  BIGINT  NOT NULL DEFAULT 0,
    cursor         BYTEA   NOT NULL,
    owner          TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (namespace_id, job_id)
);

-- The running batches of a namespace (counted against its limit) and those to resume.
CREATE INDEX batches_by_state ON batches (state, namespace_id);
