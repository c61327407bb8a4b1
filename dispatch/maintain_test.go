package dispatch

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/testwait"
	"github.com/outlethq/outlet/postgres"
)

// partitioning is a store that says it keeps records in partitions, and
// records when it was asked to make them.
type partitioning struct {
	*watchedStore
	mu    sync.Mutex
	asked []time.Time
}

func (p *partitioning) MaintainPartitions(_ context.Context, now time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, now)
	return nil
}

func (p *partitioning) lastAsked() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.asked) == 0 {
		return time.Time{}, false
	}
	return p.asked[len(p.asked)-1], true
}

func TestTheLeaderAsksAPartitionedStoreForPartitionsEachRoundAndHourlyWithoutRetention(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ps := &partitioning{watchedStore: b.store}
	cfg := b.cfg
	cfg.Owner = "node-b"
	// With nothing to delete, rounds come hourly, the first within a minute.
	if got := New(ps, cfg).maintenanceEvery(); got != time.Hour {
		t.Errorf("maintenance without retention comes every %v; want hourly", got)
	}
	cfg.Retention = 4 * time.Second // a round a second, the first at once
	d := New(ps, cfg)
	d.Start()
	t.Cleanup(func() { b.shutdown(d) })
	testwait.Until(t, "the leader to make partitions", func() bool {
		at, ok := ps.lastAsked()
		return ok && at.Equal(b.clock.Now())
	})
}

func TestRetentionDeletesEventsOlderThanItOnTheLeader(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Retention = 4 * time.Second })
	b.tenant("acme")
	old := b.clock.Now()
	ev := &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "acme", Type: "invoice.paid", Data: []byte(`{}`),
		Timestamp: old, CreatedAt: old, PayloadHash: outlet.ContentHash("invoice.paid", []byte(`{}`))}
	res, err := b.store.PublishEvents(b.ctx, []*outlet.PublishRequest{{Event: ev}}, old)
	check(t, err)
	check(t, res[0].Err)
	b.clock.Advance(time.Minute)
	testwait.Until(t, "the old event to be deleted", func() bool {
		_, err := b.store.Event(b.ctx, "acme", ev.ID)
		return outlet.ErrorCode(err) == outlet.ENOTFOUND
	})
}

// Without retention (keep everything) there is still maintenance on a
// partitioned store: the leader makes the partitions of today and the days
// ahead, and drops nothing, not even days long past.
func TestWithoutRetentionTheLeaderMakesPostgresPartitionsAheadAndDropsNothing(t *testing.T) {
	t.Parallel()
	pg := openPostgres(t)
	ctx := t.Context()
	// A month after the real today, whose partitions the store made when it
	// opened: this day's and the next are made by maintenance or not at all.
	clock := &testClock{t: time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 30).Add(12 * time.Hour)}
	today := clock.Now()
	var ahead []string
	for _, day := range []time.Time{today, today.AddDate(0, 0, 1)} {
		for _, table := range []string{"events", "deliveries", "attempts"} {
			ahead = append(ahead, partitionName(table, day))
		}
	}
	for _, name := range ahead {
		if pg.exists(t, name) {
			t.Fatalf("partition %s exists before maintenance; the test can't tell who made it", name)
		}
	}
	// An event of a day long past, with no delivery to hold its day: a
	// retention of any length would drop it.
	old := today.AddDate(0, 0, -40)
	check(t, pg.store.CreateTenant(ctx, &outlet.Tenant{ID: "acme", Name: "acme", Metadata: map[string]string{}, CreatedAt: old, UpdatedAt: old}))
	ev := &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "acme", Type: "invoice.paid", Data: []byte(`{}`),
		Timestamp: old, CreatedAt: old, PayloadHash: outlet.ContentHash("invoice.paid", []byte(`{}`))}
	res, err := pg.store.PublishEvents(ctx, []*outlet.PublishRequest{{Event: ev}}, old)
	check(t, err)
	check(t, res[0].Err)

	d := New(pg.store, Config{Owner: "node-a", Now: clock.Now})
	d.firstMaintenance = 0 // at once, not a minute after Start
	d.Start()
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		check(t, d.Shutdown(ctx))
	}
	t.Cleanup(shutdown)
	testwait.Until(t, "the leader to make today's and tomorrow's partitions", func() bool {
		for _, name := range ahead {
			if !pg.exists(t, name) {
				return false
			}
		}
		return true
	})
	// A round ends before Shutdown returns, so whatever the round that made
	// the partitions deletes is gone by then.
	shutdown()
	if _, err := pg.store.Event(ctx, "acme", ev.ID); err != nil {
		t.Errorf("the event of %s, 40 days ago, is gone without retention: %v", old.Format(time.DateOnly), err)
	}
	if name := partitionName("events", old); !pg.exists(t, name) {
		t.Errorf("partition %s, 40 days ago, was dropped without retention", name)
	}
}

// testPostgres is a Postgres store in a schema of its own, and a connection
// to look into the schema with.
type testPostgres struct {
	store  *postgres.Store
	schema string
	conn   *pgx.Conn
}

// openPostgres opens a Postgres store in a fresh schema, dropped when the
// test ends. It skips the test unless OUTLET_TEST_POSTGRES names a database.
func openPostgres(t *testing.T) *testPostgres {
	t.Helper()
	base := os.Getenv("OUTLET_TEST_POSTGRES")
	if base == "" {
		t.Skip("set OUTLET_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the dispatcher's tests on Postgres")
	}
	conn, err := pgx.Connect(context.Background(), base)
	check(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	pg := &testPostgres{schema: "outlet_dispatch_" + strings.ToLower(rand.Text()[:10]), conn: conn}
	_, err = conn.Exec(context.Background(), "CREATE SCHEMA "+pg.schema)
	check(t, err)
	t.Cleanup(func() {
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+pg.schema+" CASCADE"); err != nil {
			t.Errorf("dropping the test's schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	check(t, err)
	q := u.Query()
	q.Set("search_path", pg.schema)
	q.Set("pool_max_conns", "4")
	u.RawQuery = q.Encode()
	pg.store, err = postgres.Open(context.Background(), u.String())
	check(t, err)
	t.Cleanup(func() { pg.store.Close() })
	return pg
}

// exists reports whether the schema has a table of that name.
func (pg *testPostgres) exists(t *testing.T, name string) bool {
	t.Helper()
	var ok bool
	check(t, pg.conn.QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, pg.schema+"."+name).Scan(&ok))
	return ok
}

// partitionName is the name the Postgres store gives table's partition of
// the day of t.
func partitionName(table string, t time.Time) string {
	return table + "_p" + t.UTC().Format("20060102")
}
