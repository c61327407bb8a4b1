-- +goose Up
-- Internal identities: a tenant's uid is new each time a tenant is created,
-- a function version's each time one is deployed, and a version keeps the
-- uid of the tenant that deployed it. What is kept for a tenant or a version
-- outside the database (warm engines, decrypted secrets) is keyed by them, so
-- a tenant or function deleted and created again under the same name never
-- matches what was kept for the old one. The store always sets them (no
-- default: a write that forgot would fail); rows from before get a random uid
-- each.
ALTER TABLE tenants ADD COLUMN uid text NOT NULL DEFAULT '';
UPDATE tenants SET uid = md5(random()::text || clock_timestamp()::text || id);
ALTER TABLE tenants ALTER COLUMN uid DROP DEFAULT;

-- A version's source map (JSON) maps its code back to what the customer
-- wrote; empty for Wasm and for versions deployed before.
ALTER TABLE function_versions ADD COLUMN uid text NOT NULL DEFAULT '';
ALTER TABLE function_versions ADD COLUMN tenant_uid text NOT NULL DEFAULT '';
ALTER TABLE function_versions ADD COLUMN source_map bytea NOT NULL DEFAULT '';
UPDATE function_versions v SET uid = md5(random()::text || clock_timestamp()::text || v.tenant_id || v.function || v.version),
    tenant_uid = t.uid
    FROM tenants t WHERE t.id = v.tenant_id;
ALTER TABLE function_versions ALTER COLUMN uid DROP DEFAULT;
ALTER TABLE function_versions ALTER COLUMN tenant_uid DROP DEFAULT;

-- +goose Down
ALTER TABLE function_versions DROP COLUMN source_map;
ALTER TABLE function_versions DROP COLUMN tenant_uid;
ALTER TABLE function_versions DROP COLUMN uid;
ALTER TABLE tenants DROP COLUMN uid;
