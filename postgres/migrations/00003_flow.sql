-- +goose Up
-- Flow control per endpoint: 0 takes the operator's default (max_in_flight)
-- or sets no limit (rate_limit).
ALTER TABLE endpoints ADD COLUMN max_in_flight integer NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN rate_limit integer NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN ordered boolean NOT NULL DEFAULT false;

-- A delivery to an ordered endpoint waits for the ones before it; the index
-- finds an endpoint's oldest pending ordered delivery.
ALTER TABLE deliveries ADD COLUMN ordered boolean NOT NULL DEFAULT false;
CREATE INDEX deliveries_ordered ON deliveries (target_id, seq) WHERE status = 'pending' AND ordered;

ALTER TABLE tenants ADD COLUMN publish_rate_limit integer NOT NULL DEFAULT 0;

-- Usage per tenant and UTC day (days since 1970-01-01), for billing. Each
-- connection adds to a shard of its own, so that the transactions of
-- concurrent publishes and completions never queue for one counter row;
-- reads add the shards up.
CREATE TABLE usage (
    tenant_id            text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day                  bigint NOT NULL,
    shard                integer NOT NULL,
    events               bigint NOT NULL DEFAULT 0,
    deliveries           bigint NOT NULL DEFAULT 0,
    attempts             bigint NOT NULL DEFAULT 0,
    function_invocations bigint NOT NULL DEFAULT 0,
    function_cpu_ms      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, shard)
);

-- +goose Down
DROP TABLE usage;
ALTER TABLE tenants DROP COLUMN publish_rate_limit;
DROP INDEX deliveries_ordered;
ALTER TABLE deliveries DROP COLUMN ordered;
ALTER TABLE endpoints DROP COLUMN ordered;
ALTER TABLE endpoints DROP COLUMN rate_limit;
ALTER TABLE endpoints DROP COLUMN max_in_flight;
