-- +goose Up
-- Events, deliveries and attempts are partitioned by time, one partition
-- per UTC day, so that retention drops whole days (DROP TABLE: no dead
-- rows, no vacuum) instead of updating or deleting rows one by one.
--
-- The partition key is seq itself, made time-ordered: the store writes
-- seq = (created_ms << 20) | (nextval(<table>_seq) & 1048575), where
-- created_ms is the row's own time in Unix milliseconds (created_at for
-- events and deliveries, the completion's time for attempts). So a range
-- of seq is a range of time, primary keys stay (seq) and lookups by id
-- (an encrypted seq) prune to one partition, and seq still orders rows as
-- they were written. 20 bits of counter allow a million rows per
-- millisecond, and 43 bits of milliseconds last until the year 2248. The
-- store computes seq in its INSERTs rather than in a column default
-- because the time is the row's, not the database's: the same clock as
-- retention's cutoff, and the one the shared store suite controls.
--
-- Rows from before this migration keep their seq (small numbers from the
-- old identity columns, so their ids don't change) and go to one legacy
-- partition per table, below the bound of 1970-01-02. Its rows are all
-- older than this migration, whose time is kept in settings: retention
-- drops the legacy partitions once that time is past the cutoff.
--
-- Daily partitions are made by the store, ahead of time (see
-- partitions.go); this migration makes today's and the next three's.
-- There is no DEFAULT partition: see docs/operations.md.

CREATE SEQUENCE events_seq;
CREATE SEQUENCE deliveries_seq;
CREATE SEQUENCE attempts_seq;

INSERT INTO settings (name, value)
VALUES ('partitioned_at', convert_to((extract(epoch FROM now()) * 1000)::bigint::text, 'UTF8'))
ON CONFLICT (name) DO UPDATE SET value = excluded.value;

-- A unique index on a partitioned table must hold the partition key, so
-- an event id and an idempotency key can't be kept unique by the events
-- table any more. They are kept here, one row per event, written in the
-- publish's statement. Retention deletes the rows of dropped events in
-- batches, by seq: a narrow table, and the only one left that retention
-- deletes from row by row.
CREATE TABLE event_keys (
    tenant_id       text COLLATE "C" NOT NULL,
    id              text COLLATE "C" NOT NULL,
    idempotency_key text COLLATE "C",
    seq             bigint NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
INSERT INTO event_keys (tenant_id, id, idempotency_key, seq) SELECT tenant_id, id, idempotency_key, seq FROM events;
CREATE UNIQUE INDEX event_keys_idempotency ON event_keys (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX event_keys_seq ON event_keys (seq);

-- Attempts referred to their delivery with ON DELETE CASCADE, which can't
-- hold across partitions that are dropped day by day. The store deletes a
-- delivery's attempts itself, in the statement that deletes the delivery.
ALTER TABLE attempts DROP CONSTRAINT attempts_delivery_seq_fkey;

-- events
ALTER TABLE events RENAME TO events_legacy;
ALTER TABLE events_legacy ALTER COLUMN seq DROP IDENTITY;
ALTER TABLE events_legacy DROP CONSTRAINT events_tenant_id_id_key;
DROP INDEX events_idempotency;
DROP INDEX events_payload_age;
ALTER INDEX events_pkey RENAME TO events_legacy_pkey;
ALTER INDEX events_tenant RENAME TO events_legacy_tenant;
CREATE TABLE events (LIKE events_legacy INCLUDING DEFAULTS, PRIMARY KEY (seq)) PARTITION BY RANGE (seq);
-- A tenant's events list newest first.
CREATE INDEX events_tenant ON events (tenant_id, seq);
ALTER TABLE events ATTACH PARTITION events_legacy FOR VALUES FROM (MINVALUE) TO (90596966400000);

-- deliveries
ALTER TABLE deliveries RENAME TO deliveries_legacy;
ALTER TABLE deliveries_legacy ALTER COLUMN seq DROP IDENTITY;
ALTER INDEX deliveries_pkey RENAME TO deliveries_legacy_pkey;
ALTER INDEX deliveries_due RENAME TO deliveries_legacy_due;
ALTER INDEX deliveries_tenant RENAME TO deliveries_legacy_tenant;
ALTER INDEX deliveries_event RENAME TO deliveries_legacy_event;
ALTER INDEX deliveries_target RENAME TO deliveries_legacy_target;
ALTER INDEX deliveries_ordered RENAME TO deliveries_legacy_ordered;
CREATE TABLE deliveries (LIKE deliveries_legacy INCLUDING DEFAULTS, PRIMARY KEY (seq)) PARTITION BY RANGE (seq);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_tenant ON deliveries (tenant_id, seq);
CREATE INDEX deliveries_event ON deliveries (event_seq);
CREATE INDEX deliveries_target ON deliveries (target_id, seq);
CREATE INDEX deliveries_ordered ON deliveries (target_id, seq) WHERE status = 'pending' AND ordered;
ALTER TABLE deliveries ATTACH PARTITION deliveries_legacy FOR VALUES FROM (MINVALUE) TO (90596966400000);

-- attempts
ALTER TABLE attempts RENAME TO attempts_legacy;
ALTER TABLE attempts_legacy ALTER COLUMN seq DROP IDENTITY;
DROP INDEX attempts_purge_age;
ALTER INDEX attempts_pkey RENAME TO attempts_legacy_pkey;
ALTER INDEX attempts_delivery RENAME TO attempts_legacy_delivery;
CREATE TABLE attempts (LIKE attempts_legacy INCLUDING DEFAULTS, PRIMARY KEY (seq)) PARTITION BY RANGE (seq);
CREATE INDEX attempts_delivery ON attempts (delivery_seq);
ALTER TABLE attempts ATTACH PARTITION attempts_legacy FOR VALUES FROM (MINVALUE) TO (90596966400000);

-- Today's partitions and the next three days'. Their names and bounds are
-- the ones partitions.go makes.
-- +goose StatementBegin
DO $$
DECLARE
    d date;
    t text;
BEGIN
    FOR i IN 0..3 LOOP
        d := (now() AT TIME ZONE 'UTC')::date + i;
        FOREACH t IN ARRAY ARRAY['events', 'deliveries', 'attempts'] LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                t || '_p' || to_char(d, 'YYYYMMDD'), t,
                ((d - date '1970-01-01')::bigint * 86400000) << 20,
                ((d + 1 - date '1970-01-01')::bigint * 86400000) << 20);
        END LOOP;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- Back to one table each, with identity columns that go on after the
-- highest seq, and the constraints of before.
CREATE TABLE events_flat (LIKE events INCLUDING DEFAULTS);
INSERT INTO events_flat SELECT * FROM events;
DROP TABLE events;
ALTER TABLE events_flat RENAME TO events;
ALTER TABLE events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('events', 'seq'), greatest((SELECT max(seq) FROM events), 1));
ALTER TABLE events ADD PRIMARY KEY (seq);
ALTER TABLE events ADD CONSTRAINT events_tenant_id_id_key UNIQUE (tenant_id, id);
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_tenant ON events (tenant_id, seq);
CREATE INDEX events_payload_age ON events (created_at) WHERE data IS NOT NULL;

CREATE TABLE deliveries_flat (LIKE deliveries INCLUDING DEFAULTS);
INSERT INTO deliveries_flat SELECT * FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_flat RENAME TO deliveries;
ALTER TABLE deliveries ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('deliveries', 'seq'), greatest((SELECT max(seq) FROM deliveries), 1));
ALTER TABLE deliveries ADD PRIMARY KEY (seq);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_tenant ON deliveries (tenant_id, seq);
CREATE INDEX deliveries_event ON deliveries (event_seq);
CREATE INDEX deliveries_target ON deliveries (target_id, seq);
CREATE INDEX deliveries_ordered ON deliveries (target_id, seq) WHERE status = 'pending' AND ordered;

-- Attempts whose delivery is gone (it was in a partition dropped before
-- theirs) can't satisfy the foreign key again.
CREATE TABLE attempts_flat (LIKE attempts INCLUDING DEFAULTS);
INSERT INTO attempts_flat SELECT * FROM attempts a WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = a.delivery_seq);
DROP TABLE attempts;
ALTER TABLE attempts_flat RENAME TO attempts;
ALTER TABLE attempts ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('attempts', 'seq'), greatest((SELECT max(seq) FROM attempts), 1));
ALTER TABLE attempts ADD PRIMARY KEY (seq);
ALTER TABLE attempts ADD CONSTRAINT attempts_delivery_seq_fkey FOREIGN KEY (delivery_seq) REFERENCES deliveries (seq) ON DELETE CASCADE;
CREATE INDEX attempts_delivery ON attempts (delivery_seq);
CREATE INDEX attempts_purge_age ON attempts (started_at) WHERE response_body IS NOT NULL OR logs IS NOT NULL;

DROP TABLE event_keys;
DELETE FROM settings WHERE name = 'partitioned_at';
DROP SEQUENCE attempts_seq;
DROP SEQUENCE deliveries_seq;
DROP SEQUENCE events_seq;
