-- Migration 5: a query asked on one replica, answered by a worker that polls another.

-- The replica whose caller waits (owner) offers the query here; the one whose poll hands it
-- out claims it (claimed_by, a conditional write, so only one worker ever gets it), and writes
-- the worker's answer into the row for the owner to read. The owner deletes the row when its
-- caller is done; rows of an owner whose lease ran out are deleted by the others.
CREATE TABLE queries (
    query_id       TEXT COLLATE "C" PRIMARY KEY,
    owner          TEXT COLLATE "C" NOT NULL,
    namespace_id   TEXT COLLATE "C" NOT NULL,
    task_queue     TEXT COLLATE "C" NOT NULL,
    workflow_id    TEXT COLLATE "C" NOT NULL,
    run_id         TEXT COLLATE "C" NOT NULL,
    query          BYTEA            NOT NULL,
    created_at     DOUBLE PRECISION NOT NULL,
    claimed_by     TEXT COLLATE "C" NOT NULL DEFAULT '',
    -- 0 until answered, then the worker's QueryResultType.
    completed_type INTEGER          NOT NULL DEFAULT 0,
    result         BYTEA,
    error_message  TEXT             NOT NULL DEFAULT '',
    failure        BYTEA
);
-- A replica with idle pollers re-reads the unclaimed queries of their queue (under NOTIFY).
CREATE INDEX queries_unclaimed ON queries (namespace_id, task_queue, created_at)
    WHERE claimed_by = '';
CREATE INDEX queries_by_owner ON queries (owner);

-- A new query is announced with its queue only: NOTIFY payloads are small, the query stays here.
CREATE FUNCTION cadenza_query_offered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cadenza_queries', json_build_array(
        NEW.query_id, NEW.namespace_id, NEW.task_queue, NEW.owner)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER queries_announce AFTER INSERT ON queries
    FOR EACH ROW EXECUTE FUNCTION cadenza_query_offered();

-- An answer is announced to its owner, which reads it from the row.
CREATE FUNCTION cadenza_query_answered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cadenza_answers', json_build_array(NEW.query_id, NEW.owner)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER queries_announce_answer AFTER UPDATE OF completed_type ON queries
    FOR EACH ROW WHEN (NEW.completed_type <> 0) EXECUTE FUNCTION cadenza_query_answered();
