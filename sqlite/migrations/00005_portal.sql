-- +goose Up
-- Portal sessions. A tenant's go with the tenant; the operator's have no
-- tenant (NULL, which the foreign key lets be). Only hashes of the one-time
-- token and of the cookie's secret are kept: a copy of the database lets no
-- one into the portal. Features and theme are JSON.
CREATE TABLE portal_sessions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    read_only    INTEGER NOT NULL,
    features     TEXT NOT NULL,
    theme        TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    secret_hash  BLOB UNIQUE,
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    exchanged_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX portal_sessions_tenant ON portal_sessions (tenant_id);
-- Creating a session deletes those long expired.
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);

-- +goose Down
DROP TABLE portal_sessions;
