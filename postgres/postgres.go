// Package postgres is Outlet's scale-out store: one Postgres database shared
// by any number of nodes. It keeps what the embedded SQLite store keeps, in
// the same shape, and passes the same suite (storetest).
package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/groupcommit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is an outlet.Store kept in Postgres.
//
// Several nodes share the database, so the store caches nothing that a write
// elsewhere could make wrong: every publish reads its tenants' endpoints and
// functions in its own transaction. What makes that affordable is that
// publishes from concurrent callers share one transaction (see publish.go):
// one commit serves every caller who arrived while the previous one ran.
//
// A Store is also an outlet.Waker and an outlet.Leader (see cluster.go).
type Store struct {
	pool      *pgxpool.Pool
	connCfg   *pgx.ConnConfig // for the connections the waker and the leader keep to themselves
	schema    string          // where the tables are: the first schema of the search path
	ids       *outlet.IDCipher
	publishes *groupcommit.Batcher[*publishCall]

	wake      chan struct{} // Wakeups
	bgCtx     context.Context
	stopBg    context.CancelFunc
	bg        sync.WaitGroup // the listener
	mu        sync.Mutex     // guards listening and closed
	listening bool
	closed    bool
	closeOnce sync.Once

	lead  leader
	parts partitionDays // the days whose partitions are known to exist
}

var (
	_ outlet.Store  = (*Store)(nil)
	_ outlet.Waker  = (*Store)(nil)
	_ outlet.Leader = (*Store)(nil)
)

const (
	// connectTimeout bounds a connection attempt when the URL sets no
	// connect_timeout.
	connectTimeout = 5 * time.Second
	// opTimeout bounds every call whose context has no deadline, so that a
	// database that stops answering fails calls rather than hanging them.
	opTimeout = 30 * time.Second
	// pingTimeout bounds Ping, which readiness checks call often.
	pingTimeout = 5 * time.Second
	// maxPublishBatch caps how many PublishEvents calls share a transaction.
	maxPublishBatch = 256
)

// Open connects to the database at url (postgres://… or postgresql://…) and
// brings its schema up to date. Nodes may open the same database at once:
// one migrates while the others wait.
//
// The tables live in the first schema of the search path, which must exist;
// a URL picks one with search_path (…?search_path=outlet). pool_max_conns
// sizes the connection pool, and connect_timeout bounds a connection attempt
// (5 seconds when not given); the store's connections also take
// random_page_cost 1.1 unless the URL sets it (see connect). The waker and
// the leader use one connection each beyond the pool, from the first call
// that needs them.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, schema, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := migrate(ctx, pool, schema); err != nil {
		pool.Close()
		return nil, err
	}
	ids, err := loadIDCipher(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	bgCtx, stop := context.WithCancel(context.Background())
	s := &Store{
		pool:    pool,
		connCfg: pool.Config().ConnConfig.Copy(),
		schema:  schema,
		ids:     ids,
		wake:    make(chan struct{}, 1),
		bgCtx:   bgCtx,
		stopBg:  stop,
	}
	s.lead.key = schemaKey32(schema)
	// Writes make the partitions of their days when they must, but making
	// today's and the next days' now keeps that off the first writes of a
	// node that starts after the others were all down for days.
	if err := s.MaintainPartitions(ctx, time.Now()); err != nil {
		pool.Close()
		return nil, err
	}
	s.publishes = groupcommit.New(maxPublishBatch, s.flushPublishes)
	return s, nil
}

// Migrate brings the schema of the database at url up to date, as Open
// does, and returns its version.
func Migrate(ctx context.Context, url string) (version int64, err error) {
	pool, schema, err := connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	return migrate(ctx, pool, schema)
}

// connect opens a pool to url and finds the schema the tables live in.
func connect(ctx context.Context, url string) (*pgxpool.Pool, string, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, "", fmt.Errorf("read the database URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	// The store's statements are lookups and short range scans by index.
	// Postgres's default cost of a random read (4) is a spinning disk's;
	// on the SSDs databases run on now it is close to a sequential one's.
	// The lower cost also keeps the plan a prepared statement gets while a
	// table is still small, and keeps as it grows, on its indexes: at the
	// default, a completion planned on a new queue reads the whole table
	// each time until autovacuum analyzes it. A URL may set its own.
	if _, ok := cfg.ConnConfig.RuntimeParams["random_page_cost"]; !ok {
		cfg.ConnConfig.RuntimeParams["random_page_cost"] = "1.1"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("connect to the database: %w", err)
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	var schema *string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, "", fmt.Errorf("connect to the database: %w", dbErr(err))
	}
	if schema == nil {
		pool.Close()
		path := cfg.ConnConfig.RuntimeParams["search_path"]
		if path == "" {
			path = "the server's default"
		}
		return nil, "", fmt.Errorf("no schema of the search path (%s) exists: create the schema (CREATE SCHEMA name), or name an existing one with search_path in the database URL", path)
	}
	return pool, *schema, nil
}

// migrate applies the migrations not yet applied to schema, holding a lock
// of that schema's own so that nodes starting together migrate once, and
// returns the schema's version.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) (int64, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return 0, err
	}
	// A node waiting for another's migration looks again every second, for
	// up to five minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(schemaKey64("outlet migrations", schema)), lock.WithLockTimeout(1, 300))
	if err != nil {
		return 0, err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return 0, fmt.Errorf("load migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate schema %s of the postgres database: %w", schema, dbErr(err))
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the schema version: %w", dbErr(err))
	}
	return v, nil
}

// schemaKey64 and schemaKey32 name a lock that belongs to one schema, so
// that deployments in other schemas of the same database never wait for it.
func schemaKey64(purpose, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte(purpose + "\x00" + schema))
	return int64(h.Sum64())
}

func schemaKey32(schema string) int32 {
	h := fnv.New32a()
	h.Write([]byte(schema))
	return int32(h.Sum32())
}

// loadIDCipher reads the key that makes delivery, attempt and invocation
// ids, making one the first time. Losing it would make every id unreadable,
// so it lives in the database it belongs to.
func loadIDCipher(ctx context.Context, pool *pgxpool.Pool) (*outlet.IDCipher, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	key := make([]byte, 16)
	rand.Read(key)
	if _, err := pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ('id_key', $1) ON CONFLICT DO NOTHING`, key); err != nil {
		return nil, fmt.Errorf("store the id key: %w", dbErr(err))
	}
	if err := pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = 'id_key'`).Scan(&key); err != nil {
		return nil, fmt.Errorf("read the id key: %w", dbErr(err))
	}
	return outlet.NewIDCipher(key)
}

// Close finishes the publishes queued, stops the waker and gives up the
// lead, and closes every connection.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.publishes.Stop()
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.stopBg()
		s.bg.Wait()
		close(s.wake)
		s.lead.close()
		s.pool.Close()
	})
	return nil
}

// Ping checks that the database answers, within pingTimeout at most.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	return dbErr(s.pool.Ping(ctx))
}

// bound gives ctx the store's deadline unless it has one.
func bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, opTimeout)
}

// tx runs fn in a transaction and commits it, or rolls it back if fn fails.
func (s *Store) tx(ctx context.Context, fn func(context.Context, pgx.Tx) error) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return dbErr(err)
	}
	if err := fn(ctx, tx); err != nil {
		tx.Rollback(ctx)
		return dbErr(err)
	}
	return dbErr(tx.Commit(ctx))
}

// lockTenant reports whether the tenant exists and, if it does, returns its
// uid and keeps the tenant's functions, hook endpoints and secrets from
// changing under the transaction. It doesn't hold up publishes, which only
// need the tenant to stay.
func lockTenant(ctx context.Context, tx pgx.Tx, id string) (uid string, ok bool, err error) {
	err = tx.QueryRow(ctx, `SELECT uid FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&uid)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return uid, err == nil, err
}

// Times are stored as Unix milliseconds, as in the SQLite store.
func ms(t time.Time) int64 { return t.UnixMilli() }

func msPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMs(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMs(*v)
	return &t
}

func nullIfZero(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps, slices and structs of strings and numbers are stored this way
	}
	return string(b)
}

// bytesOf stores a string in a bytea column; empty is an empty value, not
// NULL.
func bytesOf(s string) []byte {
	if s == "" {
		return []byte{}
	}
	return []byte(s)
}

// nullBytes stores an empty string as NULL.
func nullBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func notFound(what, id string) error {
	return outlet.Errorf(outlet.ENOTFOUND, "%s %q not found", what, id)
}
