-- +goose Up
-- Functions: hooks the operator declares, tenants' functions and their
-- immutable versions, invocation logs, sealed secrets, and sync endpoints.

ALTER TABLE tenants ADD COLUMN allowed_hosts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE attempts ADD COLUMN function_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN logs TEXT;
-- Retention clears a function attempt's logs even when it has no body.
DROP INDEX attempts_body_age;
CREATE INDEX attempts_purge_age ON attempts (started_at) WHERE response_body IS NOT NULL OR logs IS NOT NULL;

CREATE TABLE hooks (
    name          TEXT PRIMARY KEY,
    description   TEXT NOT NULL,
    input_schema  TEXT,
    output_schema TEXT,
    timeout_ms    INTEGER NOT NULL,
    on_error      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE hook_endpoints (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hook       TEXT NOT NULL REFERENCES hooks (name) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    headers    TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, hook)
);
CREATE INDEX hook_endpoints_hook ON hook_endpoints (hook);

CREATE TABLE functions (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    active_version INTEGER NOT NULL,
    latest_version INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE function_versions (
    tenant_id  TEXT NOT NULL,
    function   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    runtime    TEXT NOT NULL,
    source     TEXT NOT NULL,
    code       BLOB NOT NULL,
    sha256     TEXT NOT NULL,
    events     TEXT NOT NULL,
    hooks      TEXT NOT NULL,
    limits     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, function, version),
    FOREIGN KEY (tenant_id, function) REFERENCES functions (tenant_id, name) ON DELETE CASCADE
);

CREATE TABLE invocations (
    seq            INTEGER PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    function       TEXT NOT NULL,
    version        INTEGER NOT NULL,
    trigger        TEXT NOT NULL,
    trigger_ref    TEXT NOT NULL,
    started_at     INTEGER NOT NULL,
    duration_ms    INTEGER NOT NULL,
    outcome        TEXT NOT NULL,
    error          TEXT NOT NULL,
    logs           TEXT NOT NULL,
    logs_truncated INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, function) REFERENCES functions (tenant_id, name) ON DELETE CASCADE
);
CREATE INDEX invocations_function ON invocations (tenant_id, function, seq);

-- Values are sealed (AES-256-GCM) before they reach the store; the key never
-- does.
CREATE TABLE secrets (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    sealed     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- +goose Down
DROP TABLE secrets;
DROP TABLE invocations;
DROP TABLE function_versions;
DROP TABLE functions;
DROP TABLE hook_endpoints;
DROP TABLE hooks;
DROP INDEX attempts_purge_age;
CREATE INDEX attempts_body_age ON attempts (started_at) WHERE response_body IS NOT NULL;
ALTER TABLE attempts DROP COLUMN logs;
ALTER TABLE attempts DROP COLUMN function_version;
ALTER TABLE tenants DROP COLUMN allowed_hosts;
