-- Migration 15: Nexus endpoints, as OperatorService's CreateNexusEndpoint stores them. One row
-- per endpoint, its name unique across the cluster, its spec a serialized
-- temporal.api.nexus.v1.EndpointSpec; each update takes the next version.
CREATE TABLE IF NOT EXISTS nexus_endpoints (
    id            TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    version       INTEGER NOT NULL,
    created_time  REAL    NOT NULL,
    modified_time REAL,
    spec          BLOB    NOT NULL
) WITHOUT ROWID;
