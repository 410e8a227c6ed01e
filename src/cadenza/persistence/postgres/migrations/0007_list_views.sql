-- Migration 7: how people view the workflow list: listings by start time, and saved views.

-- Listing by start time (ORDER BY StartTime, either way, read forwards or backwards), so
-- the first page of a listing in that order is read from an index without sorting. The
-- order must stay the one in persistence/listing_order.py.
CREATE INDEX executions_by_start_time ON executions
    (namespace_id, start_time DESC, run_id DESC);

-- A saved view of the workflow list: its filters, columns and order as the list's query
-- string, shared by everyone on the namespace under a name unique in it.
CREATE TABLE saved_views (
    namespace_id TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    query_string TEXT             NOT NULL,
    created_at   DOUBLE PRECISION NOT NULL,
    created_by   TEXT             NOT NULL DEFAULT '',
    PRIMARY KEY (namespace_id, name)
);
