-- +goose Up
-- An endpoint's parked deliveries: stored unclaimed at publish, beyond what
-- the endpoint may queue, and pulled by ClaimParked (oldest due first) as it
-- drains. Without this index that pull read every delivery the endpoint
-- ever had, through deliveries_target, and sorted them. The predicate keeps
-- the index to the parked alone: a delivery the publishing node claims at
-- once (lease_owner set) never enters it, so publishes don't pay for it.
CREATE INDEX deliveries_parked ON deliveries (target_id, next_attempt_at)
    WHERE status = 'pending' AND target_type = 'endpoint' AND lease_owner IS NULL AND attempts = 0 AND ordered = 0;

-- +goose Down
DROP INDEX deliveries_parked;
