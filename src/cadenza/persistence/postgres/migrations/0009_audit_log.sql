-- Migration 9: the audit log, one row per mutating or refused client call. A call that
-- changes an execution writes its row in the same transaction as the change.
CREATE TABLE IF NOT EXISTS audit_log (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recorded_at    DOUBLE PRECISION NOT NULL,
    principal_kind TEXT NOT NULL,
    principal_name TEXT NOT NULL,
    namespace      TEXT NOT NULL,
    service        TEXT NOT NULL,
    method         TEXT NOT NULL,
    workflow_id    TEXT NOT NULL DEFAULT '',
    run_id         TEXT NOT NULL DEFAULT '',
    schedule_id    TEXT NOT NULL DEFAULT '',
    request_id     TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    identity       TEXT NOT NULL DEFAULT ''
);

-- Listings read newest first (by id), filtered by namespace or principal; retention and
-- "since" look rows up by time.
CREATE INDEX IF NOT EXISTS audit_log_by_time ON audit_log (recorded_at);
CREATE INDEX IF NOT EXISTS audit_log_by_namespace ON audit_log (namespace, id);
CREATE INDEX IF NOT EXISTS audit_log_by_principal ON audit_log (principal_name, id);
