-- +goose Up
-- Retention deletes whole events older than the retention period, oldest
-- first, with their deliveries and attempts (by cascade); it no longer
-- clears payloads and response bodies, so the indexes that found those
-- give way to one on the events' age.
DROP INDEX events_payload_age;
DROP INDEX attempts_purge_age;
CREATE INDEX events_age ON events (created_at);

-- +goose Down
DROP INDEX events_age;
CREATE INDEX attempts_purge_age ON attempts (started_at) WHERE response_body IS NOT NULL OR logs IS NOT NULL;
CREATE INDEX events_payload_age ON events (created_at) WHERE data IS NOT NULL;
