-- +goose Up
-- The same schema as the SQLite store's, in Postgres types. Times are Unix
-- milliseconds, as there, so both stores keep exactly the same precision.
-- JSON that only the store reads back (metadata, headers, filters) is text;
-- bytes that may be anything a publisher or a receiver sent are bytea, which
-- keeps them byte for byte (text refuses NUL and invalid UTF-8). Names and
-- ids sort by byte value (COLLATE "C"), as SQLite sorts them, whatever the
-- database's locale.

-- Store-wide settings, such as the key that turns row positions into ids.
CREATE TABLE settings (
    name  text COLLATE "C" PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE tenants (
    seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    metadata   text NOT NULL DEFAULT '{}',
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);

CREATE TABLE api_keys (
    id           text COLLATE "C" PRIMARY KEY,
    tenant_id    text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         text NOT NULL,
    prefix       text NOT NULL,
    hash         bytea NOT NULL UNIQUE,
    created_at   bigint NOT NULL,
    last_used_at bigint
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE event_types (
    name        text COLLATE "C" PRIMARY KEY,
    description text NOT NULL,
    schema      text,
    sample      text,
    deprecated  boolean NOT NULL DEFAULT false,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL
);

CREATE TABLE endpoints (
    seq                        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id                         text COLLATE "C" PRIMARY KEY,
    tenant_id                  text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url                        text NOT NULL,
    description                text NOT NULL,
    event_types                text NOT NULL,
    headers                    text NOT NULL,
    metadata                   text NOT NULL,
    disabled                   boolean NOT NULL DEFAULT false,
    disabled_reason            text NOT NULL DEFAULT '',
    disabled_at                bigint,
    failing_since              bigint,
    secret                     text NOT NULL,
    previous_secret            text NOT NULL DEFAULT '',
    previous_secret_expires_at bigint,
    created_at                 bigint NOT NULL,
    updated_at                 bigint NOT NULL
);
CREATE INDEX endpoints_tenant ON endpoints (tenant_id, seq);

-- Events and deliveries are written for every publish, so they carry no
-- foreign keys: a key costs a lookup and a lock for every row, about a
-- sixth of what Postgres spends on a delivery. The store keeps them right
-- instead: a publish holds its tenant until it commits, and deleting a
-- tenant deletes its deliveries and events after it.
CREATE TABLE events (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       text COLLATE "C" NOT NULL,
    id              text COLLATE "C" NOT NULL,
    type            text COLLATE "C" NOT NULL,
    timestamp       bigint NOT NULL,
    data            bytea,
    idempotency_key text COLLATE "C",
    payload_hash    bytea NOT NULL,
    created_at      bigint NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- A tenant's events list newest first.
CREATE INDEX events_tenant ON events (tenant_id, seq);
-- Retention walks only the payloads it has not deleted yet.
CREATE INDEX events_payload_age ON events (created_at) WHERE data IS NOT NULL;

-- A delivery is also a queue entry: it is due while status is pending and
-- next_attempt_at has passed. Claiming it pushes next_attempt_at out to the end
-- of the lease, so a node that dies leaves it due again when the lease ends.
-- Deliveries and attempts have no id column: their public ids are their seq,
-- encrypted (see outlet.IDCipher), as in the SQLite store.
CREATE TABLE deliveries (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       text COLLATE "C" NOT NULL,
    event_seq       bigint NOT NULL,
    event_id        text COLLATE "C" NOT NULL,
    event_type      text COLLATE "C" NOT NULL,
    target_type     text NOT NULL,
    target_id       text COLLATE "C" NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at bigint,
    last_attempt_at bigint,
    trigger         text NOT NULL DEFAULT 'scheduled',
    single_attempt  boolean NOT NULL DEFAULT false,
    lease_owner     text,
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_tenant ON deliveries (tenant_id, seq);
CREATE INDEX deliveries_event ON deliveries (event_seq);
CREATE INDEX deliveries_target ON deliveries (target_id, seq);

-- error is bytea: it may quote what a receiver or a function said.
CREATE TABLE attempts (
    seq                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_seq       bigint NOT NULL REFERENCES deliveries (seq) ON DELETE CASCADE,
    number             integer NOT NULL,
    trigger            text NOT NULL,
    url                text NOT NULL,
    started_at         bigint NOT NULL,
    duration_ms        bigint NOT NULL,
    succeeded          boolean NOT NULL,
    status_code        integer NOT NULL,
    response_headers   text,
    response_body      bytea,
    response_truncated boolean NOT NULL DEFAULT false,
    error              bytea NOT NULL
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
