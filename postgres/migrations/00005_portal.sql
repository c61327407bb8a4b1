-- +goose Up
-- Portal sessions. A tenant's go with the tenant; the operator's have no
-- tenant (NULL, which the foreign key lets be). Only hashes of the one-time
-- token and of the cookie's secret are kept: a copy of the database lets no
-- one into the portal. Features and theme are JSON.
CREATE TABLE portal_sessions (
    seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id           text COLLATE "C" PRIMARY KEY,
    tenant_id    text COLLATE "C" REFERENCES tenants (id) ON DELETE CASCADE,
    read_only    boolean NOT NULL,
    features     text NOT NULL,
    theme        text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    secret_hash  bytea UNIQUE,
    expires_at   bigint NOT NULL,
    created_at   bigint NOT NULL,
    exchanged_at bigint,
    revoked_at   bigint
);
CREATE INDEX portal_sessions_tenant ON portal_sessions (tenant_id);
-- Creating a session deletes those long expired.
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);

-- +goose Down
DROP TABLE portal_sessions;
