package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/storetest"
)

// The tests need a Postgres database they may create schemas in; each test
// works in a fresh schema of its own, dropped when it ends.
const testDatabaseEnv = "OUTLET_TEST_POSTGRES"

func TestStore(t *testing.T) {
	testURL(t)
	storetest.Run(t, func(t *testing.T) outlet.Store {
		return openStore(t, freshSchema(t))
	})
}

func TestOpeningAFreshSchemaFromTwoNodesAtOnceMigratesItOnceForBoth(t *testing.T) {
	t.Parallel()
	u := freshSchema(t)
	var stores [2]*Store
	var errs [2]error
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), u) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		t.Cleanup(func() { s.Close() })
	}
	// Both use the one id key: what one publishes, the other finds by id.
	d := publishOne(t, stores[0], "")
	if _, err := stores[1].Delivery(t.Context(), d.TenantID, d.ID); err != nil {
		t.Errorf("the second store can't find delivery %s made by the first: %v", d.ID, err)
	}
	v, err := Migrate(t.Context(), u)
	if want := latestMigration(t); err != nil || v != want {
		t.Errorf("Migrate = %d, %v; want version %d, already applied", v, err, want)
	}
}

func TestMigrationsAndTheirVersionTableLiveInTheSchemaOfTheSearchPath(t *testing.T) {
	t.Parallel()
	u := freshSchema(t)
	v, err := Migrate(t.Context(), u)
	if want := latestMigration(t); err != nil || v != want {
		t.Fatalf("Migrate = %d, %v; want version %d", v, err, want)
	}
	schema := schemaOf(t, u)
	var tables []string
	query(t, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, []any{schema}, func(r pgx.Rows) error {
		var name string
		err := r.Scan(&name)
		tables = append(tables, name)
		return err
	})
	for _, want := range []string{"goose_db_version", "deliveries", "events", "usage"} {
		if !strings.Contains(","+strings.Join(tables, ",")+",", ","+want+",") {
			t.Errorf("schema %s has tables %v; want %s among them", schema, tables, want)
		}
	}
}

func TestOpeningASchemaThatDoesNotExistSaysToCreateIt(t *testing.T) {
	t.Parallel()
	u := withParams(testURL(t), map[string]string{"search_path": "outlet_t_missing_" + randomHex(4)})
	_, err := Open(t.Context(), u)
	if err == nil || !strings.Contains(err.Error(), "CREATE SCHEMA") {
		t.Errorf("Open = %v; want an error that says to create the schema", err)
	}
}

// latestMigration is the number of the last migration embedded.
func latestMigration(t *testing.T) int64 {
	t.Helper()
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations embedded: %v", err)
	}
	n, err := strconv.ParseInt(strings.SplitN(path.Base(slices.Max(files)), "_", 2)[0], 10, 64)
	if err != nil {
		t.Fatalf("migration %s has no number: %v", slices.Max(files), err)
	}
	return n
}

// testURL returns the test database's URL, or skips the test.
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(testDatabaseEnv)
	if u == "" {
		t.Skip("set " + testDatabaseEnv + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the Postgres store suite")
	}
	return u
}

// freshSchema creates an empty schema, dropped when the test ends, and
// returns the URL of a small pool working in it: the suite opens many
// stores at once, and Postgres has about a hundred connections.
func freshSchema(t testing.TB) string {
	t.Helper()
	base := testURL(t)
	name := "outlet_t_" + randomHex(8)
	exec(t, `CREATE SCHEMA `+name)
	t.Cleanup(func() { exec(t, `DROP SCHEMA `+name+` CASCADE`) })
	return withParams(base, map[string]string{"search_path": name, "pool_max_conns": "4"})
}

// openStore opens a store, closed when the test ends.
func openStore(t testing.TB, u string) *Store {
	t.Helper()
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// withParams sets parameters of a URL or of a key=value connection string.
func withParams(base string, params map[string]string) string {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			panic(err)
		}
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range params {
		base += " " + k + "=" + v
	}
	return base
}

func schemaOf(t testing.TB, u string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.RuntimeParams["search_path"]
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// exec runs a statement on the test database, outside any test schema.
func exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	query(t, sql, args, nil)
}

// query runs a statement on the test database and passes each row to scan.
func query(t testing.TB, sql string, args []any, scan func(pgx.Rows) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testURL(t))
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	for rows.Next() {
		if scan != nil {
			if err := scan(rows); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// publishOne creates tenant acme with one endpoint, if need be, and
// publishes an event to it; leased to owner unless owner is empty. It
// returns the delivery.
func publishOne(t testing.TB, s *Store, owner string) *outlet.Delivery {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	if _, err := s.Tenant(ctx, "acme"); outlet.ErrorCode(err) == outlet.ENOTFOUND {
		check(t, s.CreateTenant(ctx, &outlet.Tenant{ID: "acme", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}))
		check(t, s.CreateEndpoint(ctx, &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: "acme",
			URL: "https://hooks.example.com/outlet", EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{},
			Secret: outlet.NewEndpointSecret(), CreatedAt: now, UpdatedAt: now}))
	}
	req := &outlet.PublishRequest{Event: &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "acme", Type: "invoice.paid",
		Data: []byte(`{}`), Timestamp: now, CreatedAt: now, PayloadHash: outlet.ContentHash("invoice.paid", []byte(`{}`))}}
	if owner != "" {
		req.LeaseOwner, req.LeaseUntil = owner, now.Add(time.Minute)
	}
	res, err := s.PublishEvents(ctx, []*outlet.PublishRequest{req}, now)
	check(t, err)
	check(t, res[0].Err)
	ds, _, err := s.ListDeliveries(ctx, "acme", outlet.DeliveryFilter{EventID: req.Event.ID})
	check(t, err)
	if len(ds) != 1 {
		t.Fatalf("the event made %d deliveries; want 1", len(ds))
	}
	return ds[0]
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}
