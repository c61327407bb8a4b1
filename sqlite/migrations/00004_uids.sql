-- +goose Up
-- Internal identities: a tenant's uid is new each time a tenant is created,
-- a function version's each time one is deployed, and a version keeps the
-- uid of the tenant that deployed it. What is kept for a tenant or a version
-- outside the database (warm engines, decrypted secrets) is keyed by them, so
-- a tenant or function deleted and created again under the same name never
-- matches what was kept for the old one. The store always sets them; rows
-- from before get a random uid each.
ALTER TABLE tenants ADD COLUMN uid TEXT NOT NULL DEFAULT '';
UPDATE tenants SET uid = lower(hex(randomblob(16)));

-- A version's source map (JSON) maps its code back to what the customer
-- wrote; empty for Wasm and for versions deployed before.
ALTER TABLE function_versions ADD COLUMN uid TEXT NOT NULL DEFAULT '';
ALTER TABLE function_versions ADD COLUMN tenant_uid TEXT NOT NULL DEFAULT '';
ALTER TABLE function_versions ADD COLUMN source_map BLOB NOT NULL DEFAULT x'';
UPDATE function_versions SET uid = lower(hex(randomblob(16))),
    tenant_uid = coalesce((SELECT uid FROM tenants WHERE tenants.id = function_versions.tenant_id), '');

-- +goose Down
ALTER TABLE function_versions DROP COLUMN source_map;
ALTER TABLE function_versions DROP COLUMN tenant_uid;
ALTER TABLE function_versions DROP COLUMN uid;
ALTER TABLE tenants DROP COLUMN uid;
