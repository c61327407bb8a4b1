-- +goose Up
-- An ordered endpoint's deliveries go out in publish order. seq can't tell
-- it any more: it is made of the time the publishing node read from its own
-- clock (see 00009_partitions.sql), so a node whose clock is behind would
-- put what it publishes later before what another node published earlier.
-- ordinal is taken from one sequence, by the database, as each delivery is
-- inserted: the order the publishes reached the database, whichever node
-- sent them.
--
-- The store sets it for ordered deliveries only (the others never need it,
-- and a nextval each would cost every publish); the column's default gives
-- one to the rows of a node still running the release before this one.
CREATE SEQUENCE deliveries_ordinal;

-- Added without a default first: a volatile default would rewrite every
-- row of every partition.
ALTER TABLE deliveries ADD COLUMN ordinal bigint;

-- Existing ordered deliveries keep the order they had, seq's.
UPDATE deliveries d SET ordinal = o.n
FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM deliveries WHERE ordered) o
WHERE d.seq = o.seq;
SELECT setval('deliveries_ordinal', coalesce((SELECT max(ordinal) FROM deliveries), 0) + 1, false);

ALTER TABLE deliveries ALTER COLUMN ordinal SET DEFAULT nextval('deliveries_ordinal');

DROP INDEX deliveries_ordered;
CREATE INDEX deliveries_ordered ON deliveries (target_id, ordinal) WHERE status = 'pending' AND ordered;

-- +goose Down
DROP INDEX deliveries_ordered;
CREATE INDEX deliveries_ordered ON deliveries (target_id, seq) WHERE status = 'pending' AND ordered;
ALTER TABLE deliveries DROP COLUMN ordinal;
DROP SEQUENCE deliveries_ordinal;
