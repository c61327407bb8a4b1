package postgres

import (
	"database/sql"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/outlethq/outlet"
)

// Warm engines and cached secrets are keyed by these uids, so rows from
// before they existed must get uids of their own, never a shared one.
func TestMigratingGivesExistingTenantsAndVersionsUIDsOfTheirOwn(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	u := freshSchema(t)
	p, db := migrator(t, u)
	if _, err := p.UpTo(ctx, 3); err != nil {
		t.Fatalf("migrate to version 3: %v", err)
	}
	for _, stmt := range []string{
		`INSERT INTO tenants (id, name, created_at, updated_at) VALUES ('acme', 'Acme', 0, 0), ('globex', 'Globex', 0, 0)`,
		`INSERT INTO functions (tenant_id, name, active_version, latest_version, created_at, updated_at)
			VALUES ('acme', 'pricing', 2, 2, 0, 0), ('globex', 'pricing', 1, 1, 0, 0)`,
		`INSERT INTO function_versions (tenant_id, function, version, runtime, source, code, sha256, events, hooks, limits, created_at)
			VALUES ('acme', 'pricing', 1, 'javascript', 'a1', 'a1', '', '[]', '[]', '{}', 0),
			       ('acme', 'pricing', 2, 'javascript', 'a2', 'a2', '', '[]', '[]', '{}', 0),
			       ('globex', 'pricing', 1, 'javascript', 'g1', 'g1', '', '[]', '[]', '{}', 0)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()

	s := openStore(t, u)
	seen := map[string]string{}
	unique := func(what, uid string) {
		t.Helper()
		if uid == "" {
			t.Errorf("%s has no uid after the migration", what)
		} else if other, ok := seen[uid]; ok {
			t.Errorf("%s and %s share uid %q", what, other, uid)
		}
		seen[uid] = what
	}
	for _, tc := range []struct {
		tenant   string
		versions []int
	}{
		{"acme", []int{1, 2}},
		{"globex", []int{1}},
	} {
		tn, err := s.Tenant(ctx, tc.tenant)
		check(t, err)
		unique("tenant "+tc.tenant, tn.UID)
		for _, n := range tc.versions {
			v, err := s.FunctionVersion(ctx, tc.tenant, "pricing", n)
			check(t, err)
			what := fmt.Sprintf("%s's version %d", tc.tenant, n)
			unique(what, v.UID)
			if v.TenantUID != tn.UID {
				t.Errorf("%s carries tenant uid %q; want its tenant's, %q", what, v.TenantUID, tn.UID)
			}
			if len(v.SourceMap) != 0 || len(v.Code) != 2 {
				t.Errorf("%s reads back with code %q and source map %q; want its code and no source map", what, v.Code, v.SourceMap)
			}
		}
	}
	// Tenants created after the migration get uids of their own too.
	tn := &outlet.Tenant{ID: "initech", Metadata: map[string]string{}}
	check(t, s.CreateTenant(ctx, tn))
	unique("tenant initech", tn.UID)
}

// Partitioning converts the tables in place: the rows from before keep
// their seq, and so their ids, in a legacy partition that retention drops
// only once the migration is older than the retention period; and the
// migration goes back down with them.
func TestPartitioningKeepsExistingEventsDeliveriesAndAttempts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	u := freshSchema(t)
	p, db := migrator(t, u)
	if _, err := p.UpTo(ctx, 8); err != nil {
		t.Fatalf("migrate to version 8: %v", err)
	}
	for _, stmt := range []string{
		`INSERT INTO tenants (id, name, created_at, updated_at, uid) VALUES ('acme', 'Acme', 0, 0, 'u1')`,
		`INSERT INTO events (tenant_id, id, type, timestamp, data, idempotency_key, payload_hash, created_at)
			VALUES ('acme', 'evt_old', 'invoice.paid', 1000, '{"n":1}', 'key-old', '\x00', 1000),
			       ('acme', 'evt_pending', 'invoice.paid', 2000, '{"n":2}', NULL, '\x00', 2000)`,
		`INSERT INTO deliveries (tenant_id, event_seq, event_id, event_type, target_type, target_id, status, attempts, created_at, updated_at)
			VALUES ('acme', 1, 'evt_old', 'invoice.paid', 'endpoint', 'ep_1', 'succeeded', 1, 1000, 1000),
			       ('acme', 2, 'evt_pending', 'invoice.paid', 'endpoint', 'ep_1', 'pending', 0, 2000, 2000)`,
		`INSERT INTO attempts (delivery_seq, number, trigger, url, started_at, duration_ms, succeeded, status_code, response_body, error)
			VALUES (1, 1, 'scheduled', 'https://hooks.example.com', 1000, 5, true, 200, 'ok', '')`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}

	s := openStore(t, u)
	old, pending := s.ids.Encode(outlet.PrefixDelivery, 1), s.ids.Encode(outlet.PrefixDelivery, 2)
	if ev, err := s.Event(ctx, "acme", "evt_old"); err != nil || string(ev.Data) != `{"n":1}` {
		t.Errorf("the old event reads back as %+v, %v", ev, err)
	}
	if d, err := s.Delivery(ctx, "acme", old); err != nil || d.Status != outlet.StatusSucceeded {
		t.Errorf("the old delivery reads back as %+v, %v", d, err)
	}
	if as, err := s.ListAttempts(ctx, "acme", old); err != nil || len(as) != 1 || as[0].ResponseBody != "ok" {
		t.Errorf("the old delivery's attempts read back as %+v, %v", as, err)
	}
	// The old idempotency key is still taken; a new event goes after the old ones.
	ev := &outlet.Event{ID: "evt_new", TenantID: "acme", Type: "invoice.paid", Data: []byte(`{"n":3}`), IdempotencyKey: "key-old",
		Timestamp: time.Now(), CreatedAt: time.Now(), PayloadHash: []byte{1}}
	res, err := s.PublishEvents(ctx, []*outlet.PublishRequest{{Event: ev}}, time.Now())
	check(t, err)
	if outlet.ErrorCode(res[0].Err) != outlet.ECONFLICT {
		t.Errorf("publishing with an idempotency key taken before the migration = %v; want ECONFLICT", res[0].Err)
	}
	ev.IdempotencyKey = ""
	res, err = s.PublishEvents(ctx, []*outlet.PublishRequest{{Event: ev}}, time.Now())
	check(t, err)
	check(t, res[0].Err)
	evs, _, err := s.ListEvents(ctx, "acme", outlet.EventFilter{})
	check(t, err)
	if len(evs) != 3 || evs[0].ID != "evt_new" || evs[2].ID != "evt_old" {
		t.Errorf("events list as %v; want the new one, then the two old ones", eventIDs(evs))
	}

	// The legacy partitions are as old as the migration. The cutoffs are
	// the migration's time, give or take a millisecond, not the clock's:
	// a cutoff an hour ahead of it would make today's partitions expired
	// too in the last hour of a UTC day.
	partitionedAt, err := s.partitionedAt(ctx)
	check(t, err)
	pd, err := s.PurgeExpired(ctx, time.UnixMilli(partitionedAt-1), 100)
	check(t, err)
	if pd.Partitions != 0 {
		t.Errorf("retention with a cutoff before the migration dropped %d partitions; want none", pd.Partitions)
	}
	// And once the migration is past the cutoff, they would go, but for
	// the delivery still pending in them.
	pd, err = s.PurgeExpired(ctx, time.UnixMilli(partitionedAt+1), 100)
	check(t, err)
	if pd.Partitions != 1 || pd.HeldBy != pending {
		t.Errorf("retention after the migration = %+v; want the legacy attempts dropped, and the rest held by %s", pd, pending)
	}
	if _, err := s.Event(ctx, "acme", "evt_pending"); err != nil {
		t.Errorf("the event of the pending delivery: %v", err)
	}

	if _, err := p.DownTo(ctx, 8); err != nil {
		t.Fatalf("migrate down to version 8: %v", err)
	}
	var events, deliveries int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM deliveries)`).Scan(&events, &deliveries); err != nil {
		t.Fatal(err)
	}
	if events != 3 || deliveries != 2 {
		t.Errorf("after migrating down: %d events, %d deliveries; want 3 and 2", events, deliveries)
	}
}

// migrator is a goose provider of the store's migrations for the fresh
// schema at u, with the database it runs them on; a test steps through
// versions with it. Both close when the test ends.
func migrator(t *testing.T, u string) (*goose.Provider, *sql.DB) {
	t.Helper()
	pool, _, err := connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { db.Close() })
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	return p, db
}

func eventIDs(evs []*outlet.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	return out
}
