-- +goose Up
-- Flow control per endpoint: 0 takes the operator's default (max_in_flight)
-- or sets no limit (rate_limit).
ALTER TABLE endpoints ADD COLUMN max_in_flight INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN rate_limit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;

-- A delivery to an ordered endpoint waits for the ones before it; the index
-- finds an endpoint's oldest pending ordered delivery.
ALTER TABLE deliveries ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_ordered ON deliveries (target_id, seq) WHERE status = 'pending' AND ordered = 1;

ALTER TABLE tenants ADD COLUMN publish_rate_limit INTEGER NOT NULL DEFAULT 0;

-- Usage per tenant and UTC day (days since 1970-01-01), for billing.
CREATE TABLE usage (
    tenant_id            TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day                  INTEGER NOT NULL,
    events               INTEGER NOT NULL DEFAULT 0,
    deliveries           INTEGER NOT NULL DEFAULT 0,
    attempts             INTEGER NOT NULL DEFAULT 0,
    function_invocations INTEGER NOT NULL DEFAULT 0,
    function_cpu_ms      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE usage;
ALTER TABLE tenants DROP COLUMN publish_rate_limit;
DROP INDEX deliveries_ordered;
ALTER TABLE deliveries DROP COLUMN ordered;
ALTER TABLE endpoints DROP COLUMN ordered;
ALTER TABLE endpoints DROP COLUMN rate_limit;
ALTER TABLE endpoints DROP COLUMN max_in_flight;
