-- +goose Up
-- An endpoint's parked deliveries: stored unclaimed at publish, beyond what
-- the endpoint may queue, and pulled by ClaimParked (oldest due first) as it
-- drains. Without this index that pull could read every delivery the
-- endpoint ever had, through deliveries_target. The predicate keeps the
-- index to the parked alone: a delivery the publishing node claims at once
-- (lease_owner set) never enters it, so publishes don't pay for it.
--
-- Building it reads every partition of deliveries and blocks writes to them
-- meanwhile (an index on a partitioned table can't be built concurrently);
-- it writes an entry only for the few deliveries parked at that moment.
CREATE INDEX deliveries_parked ON deliveries (target_id, next_attempt_at)
    WHERE status = 'pending' AND target_type = 'endpoint' AND lease_owner IS NULL AND attempts = 0 AND NOT ordered;

-- +goose Down
DROP INDEX deliveries_parked;
