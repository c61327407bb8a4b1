-- +goose Up
-- The audit log: every change made through the API, written in the change's
-- own transaction. No foreign key: entries outlive what they name, the
-- tenant included. tenant_id is '' for the operator's own resources;
-- tenant_uid is the uid the tenant had, so that a tenant created again under
-- an id sees none of an earlier one's entries. The summary is JSON and never
-- holds a secret.
CREATE TABLE audit_log (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            text COLLATE "C" NOT NULL UNIQUE,
    tenant_id     text COLLATE "C" NOT NULL,
    tenant_uid    text COLLATE "C",
    actor_type    text NOT NULL,
    actor_id      text COLLATE "C" NOT NULL,
    action        text COLLATE "C" NOT NULL,
    resource_type text COLLATE "C" NOT NULL,
    resource_id   text COLLATE "C" NOT NULL,
    summary       text NOT NULL,
    address       text NOT NULL,
    created_at    bigint NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
CREATE INDEX audit_log_resource ON audit_log (resource_type, resource_id, seq);
-- Retention deletes the oldest.
CREATE INDEX audit_log_created ON audit_log (created_at);

-- +goose Down
DROP TABLE audit_log;
