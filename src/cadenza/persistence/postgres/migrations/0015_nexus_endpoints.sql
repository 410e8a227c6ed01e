-- Migration 15: Nexus endpoints, as OperatorService's CreateNexusEndpoint stores them. One row
-- per endpoint, its name unique across the cluster, its spec a serialized
-- temporal.api.nexus.v1.EndpointSpec; each update takes the next version.
CREATE TABLE nexus_endpoints (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL UNIQUE,
    version       BIGINT NOT NULL,
    created_time  DOUBLE PRECISION NOT NULL,
    modified_time DOUBLE PRECISION,
    spec          BYTEA NOT NULL
);
