-- +goose Up
-- Functions: hooks the operator declares, tenants' functions and their
-- immutable versions, invocation logs, sealed secrets, and sync endpoints.
-- Source, code, logs and errors are bytea: whatever a tenant's code holds or
-- prints comes back byte for byte.

ALTER TABLE tenants ADD COLUMN allowed_hosts text NOT NULL DEFAULT '[]';
ALTER TABLE attempts ADD COLUMN function_version integer NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN logs bytea;
-- Retention clears a function attempt's logs even when it has no body.
DROP INDEX attempts_body_age;
CREATE INDEX attempts_purge_age ON attempts (started_at) WHERE response_body IS NOT NULL OR logs IS NOT NULL;

CREATE TABLE hooks (
    name          text COLLATE "C" PRIMARY KEY,
    description   text NOT NULL,
    input_schema  text,
    output_schema text,
    timeout_ms    integer NOT NULL,
    on_error      text NOT NULL,
    created_at    bigint NOT NULL,
    updated_at    bigint NOT NULL
);

CREATE TABLE hook_endpoints (
    tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hook       text COLLATE "C" NOT NULL REFERENCES hooks (name) ON DELETE CASCADE,
    url        text NOT NULL,
    headers    text NOT NULL,
    secret     text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, hook)
);
CREATE INDEX hook_endpoints_hook ON hook_endpoints (hook);

-- seq orders functions first deployed in the same millisecond.
CREATE TABLE functions (
    seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    tenant_id      text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name           text COLLATE "C" NOT NULL,
    active_version integer NOT NULL,
    latest_version integer NOT NULL,
    created_at     bigint NOT NULL,
    updated_at     bigint NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE function_versions (
    tenant_id  text COLLATE "C" NOT NULL,
    function   text COLLATE "C" NOT NULL,
    version    integer NOT NULL,
    runtime    text NOT NULL,
    source     bytea NOT NULL,
    code       bytea NOT NULL,
    sha256     text NOT NULL,
    events     text NOT NULL,
    hooks      text NOT NULL,
    limits     text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, function, version),
    FOREIGN KEY (tenant_id, function) REFERENCES functions (tenant_id, name) ON DELETE CASCADE
);

CREATE TABLE invocations (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      text COLLATE "C" NOT NULL,
    function       text COLLATE "C" NOT NULL,
    version        integer NOT NULL,
    trigger        text NOT NULL,
    trigger_ref    text NOT NULL,
    started_at     bigint NOT NULL,
    duration_ms    bigint NOT NULL,
    outcome        text NOT NULL,
    error          bytea NOT NULL,
    logs           bytea NOT NULL,
    logs_truncated boolean NOT NULL,
    FOREIGN KEY (tenant_id, function) REFERENCES functions (tenant_id, name) ON DELETE CASCADE
);
CREATE INDEX invocations_function ON invocations (tenant_id, function, seq);

-- Values are sealed (AES-256-GCM) before they reach the store; the key never
-- does.
CREATE TABLE secrets (
    tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       text COLLATE "C" NOT NULL,
    sealed     bytea NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
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
