-- +goose Up
-- Times are Unix milliseconds. JSON values are stored as text.

-- Store-wide settings, such as the key that turns row positions into ids.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    metadata   TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE event_types (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    schema      TEXT,
    sample      TEXT,
    deprecated  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE endpoints (
    id                         TEXT PRIMARY KEY,
    tenant_id                  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL,
    event_types                TEXT NOT NULL,
    headers                    TEXT NOT NULL,
    metadata                   TEXT NOT NULL,
    disabled                   INTEGER NOT NULL DEFAULT 0,
    disabled_reason            TEXT NOT NULL DEFAULT '',
    disabled_at                INTEGER,
    failing_since              INTEGER,
    secret                     TEXT NOT NULL,
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at INTEGER,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);
CREATE INDEX endpoints_tenant ON endpoints (tenant_id);

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    type            TEXT NOT NULL,
    timestamp       INTEGER NOT NULL,
    data            TEXT,
    idempotency_key TEXT,
    payload_hash    BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Retention walks only the payloads it has not deleted yet.
CREATE INDEX events_payload_age ON events (created_at) WHERE data IS NOT NULL;

-- A delivery is also a queue entry: it is due while status is pending and
-- next_attempt_at has passed. Claiming it pushes next_attempt_at out to the end
-- of the lease, so a node that dies leaves it due again when the lease ends.
-- Deliveries and attempts have no id column: their public ids are their seq,
-- encrypted (see outlet.IDCipher), which saves an index on every insert.
CREATE TABLE deliveries (
    seq             INTEGER PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_seq       INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    trigger         TEXT NOT NULL DEFAULT 'scheduled',
    single_attempt  INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_tenant ON deliveries (tenant_id, seq);
CREATE INDEX deliveries_event ON deliveries (event_seq);
CREATE INDEX deliveries_target ON deliveries (target_id, seq);

CREATE TABLE attempts (
    seq                INTEGER PRIMARY KEY,
    delivery_seq       INTEGER NOT NULL REFERENCES deliveries (seq) ON DELETE CASCADE,
    number             INTEGER NOT NULL,
    trigger            TEXT NOT NULL,
    url                TEXT NOT NULL,
    started_at         INTEGER NOT NULL,
    duration_ms        INTEGER NOT NULL,
    succeeded          INTEGER NOT NULL,
    status_code        INTEGER NOT NULL,
    response_headers   TEXT,
    response_body      TEXT,
    response_truncated INTEGER NOT NULL DEFAULT 0,
    error              TEXT NOT NULL
);
CREATE INDEX attempts_delivery ON attempts (delivery_seq);
CREATE INDEX attempts_body_age ON attempts (started_at) WHERE response_body IS NOT NULL;

-- +goose Down
DROP TABLE attempts;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE endpoints;
DROP TABLE event_types;
DROP TABLE api_keys;
DROP TABLE tenants;
DROP TABLE settings;
