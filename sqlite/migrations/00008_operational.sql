-- +goose Up
-- When a node's circuit breaker for the endpoint opened, NULL while none
-- is recorded open: what makes Outlet tell of an opening (and of the
-- closing after it) once, however many nodes open their circuits.
ALTER TABLE endpoints ADD COLUMN circuit_opened_at INTEGER;
-- The day's usage of every tenant, for the usage thresholds.
CREATE INDEX usage_by_day ON usage (day);

-- +goose Down
DROP INDEX usage_by_day;
ALTER TABLE endpoints DROP COLUMN circuit_opened_at;
