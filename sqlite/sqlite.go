// Package sqlite is Outlet's embedded store: one SQLite file in WAL mode,
// written through a single connection and read through a small pool.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/groupcommit"
	"github.com/outlethq/outlet/internal/tracing"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is an outlet.Store kept in one SQLite file.
//
// SQLite has one writer at a time, and a commit costs an fsync. So every
// write transaction goes through one writer, which runs all the transactions
// that queued while it was committing inside one SQLite transaction, each in
// its own savepoint, and commits them together: one fsync for many callers,
// and a caller whose work fails is rolled back alone. A write nobody waits
// for (successful attempts' outcomes) lingers for a write somebody does,
// and shares its commit.
type Store struct {
	w      *sql.DB // one connection, used by the writer alone
	r      *sql.DB // readers see the last commit and never block the writer
	writes *groupcommit.Batcher[*write]

	stmts  map[string]*sql.Stmt // hotQueries, prepared on the writer's connection
	ids    *outlet.IDCipher     // delivery and attempt ids
	fanout *fanout
	lock   *os.File // held while open: one process per database file
}

// write is one caller's transaction waiting for the writer.
type write struct {
	ctx  context.Context
	fn   func(context.Context, *sql.Tx) error
	done chan error
	lazy bool // may wait up to lazyLinger for a write that can't
}

// lazyLinger is the longest a lazy write waits for company. Under moderate
// load a publish comes sooner, and the two share one commit and its fsync.
const lazyLinger = 20 * time.Millisecond

var _ outlet.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	// synchronous=FULL: a commit is on disk before the caller is told so;
	// batching commits keeps that affordable.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)"
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		lock.Close()
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		lock.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s := &Store{w: w, r: r, stmts: map[string]*sql.Stmt{}, fanout: newFanout(), lock: lock}
	if err := s.migrate(ctx); err != nil {
		errors.Join(r.Close(), w.Close(), lock.Close())
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		errors.Join(r.Close(), w.Close(), lock.Close())
		return nil, err
	}
	if s.ids, err = loadIDCipher(ctx, w); err != nil {
		errors.Join(r.Close(), w.Close(), lock.Close())
		return nil, err
	}
	// The file lock means no other process uses this database, so every
	// claim in it belongs to a process that has gone: due again at once,
	// rather than when its lease would run out.
	if _, err := w.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL
		WHERE status = 'pending' AND lease_owner IS NOT NULL`, ms(time.Now())); err != nil {
		errors.Join(r.Close(), w.Close(), lock.Close())
		return nil, fmt.Errorf("release claims of a previous run: %w", err)
	}
	s.writes = s.writer(lazyLinger)
	return s, nil
}

// writer starts the batcher that runs the store's writes, holding a batch of
// lazy writes open for up to linger.
func (s *Store) writer(linger time.Duration) *groupcommit.Batcher[*write] {
	return groupcommit.NewLingering(1024, linger, func(w *write) bool { return !w.lazy }, s.commit)
}

func (s *Store) migrate(ctx context.Context) error {
	p, err := s.migrations()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate sqlite database: %w", err)
	}
	return nil
}

// Close finishes the writes queued and closes the database.
func (s *Store) Close() error {
	s.writes.Stop()
	for _, st := range s.stmts {
		st.Close()
	}
	return errors.Join(s.r.Close(), s.w.Close(), s.lock.Close())
}

// loadIDCipher reads the key that makes delivery and attempt ids, making one
// the first time. Losing it would make every id unreadable, so it lives in
// the database it belongs to.
func loadIDCipher(ctx context.Context, w *sql.DB) (*outlet.IDCipher, error) {
	key := make([]byte, 16)
	rand.Read(key)
	if _, err := w.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('id_key', ?) ON CONFLICT DO NOTHING`, key); err != nil {
		return nil, fmt.Errorf("store the id key: %w", err)
	}
	if err := w.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'id_key'`).Scan(&key); err != nil {
		return nil, fmt.Errorf("read the id key: %w", err)
	}
	return outlet.NewIDCipher(key)
}

// lockFile takes an exclusive lock on path, so a second process can't open
// the same database: the store's caches assume it is the only writer.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is in use by another Outlet process; stop it, or give this one another --data directory", filepath.Dir(path))
	}
	return f, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return unavailable(err)
	}
	return nil
}

// tx runs fn in a write transaction and returns once it is committed, or
// rolled back if fn failed.
//
// fn must use the context it is given, never its caller's: a statement
// cancelled mid-way makes SQLite roll back the whole shared transaction, and
// with it the work of every other caller in the batch.
func (s *Store) tx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	return s.write(&write{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// lazyTx is tx for a write that nobody waits on: it may wait a little for a
// write that somebody does, and share its commit.
func (s *Store) lazyTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	return s.write(&write{ctx: ctx, fn: fn, done: make(chan error, 1), lazy: true})
}

func (s *Store) write(w *write) error {
	if !s.writes.Add(w) {
		return outlet.Errorf(outlet.EUNAVAILABLE, "the database is closed")
	}
	return dbErr(<-w.done)
}

// stmt returns query prepared for tx. The statements the writer runs for
// every event (hotQueries) are parsed once, when the store opens; others are
// parsed in the transaction that runs them.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts[query]; ok {
		return tx.StmtContext(ctx, st), nil
	}
	return tx.PrepareContext(ctx, query)
}

// hotQueries are prepared once on the writer's connection.
var hotQueries = []string{insertEventQuery, insertDeliveryQuery, completeDeliveryQuery, insertAttemptQuery, unparkQuery,
	endpointSucceededQuery, addUsageQuery, "SAVEPOINT w", "RELEASE w"}

func (s *Store) prepare(ctx context.Context) error {
	for _, q := range hotQueries {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.stmts[q] = st
	}
	return nil
}

// commit runs a batch of queued transactions as one.
func (s *Store) commit(batch []*write) {
	ctx := context.Background()
	span := tracing.StartBatch("sqlite.commit", semconv.DBSystemNameSQLite, len(batch), func(i int) context.Context { return batch[i].ctx })
	defer span.End()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		span.SetStatus(codes.Error, "")
		for _, w := range batch {
			w.done <- err
		}
		return
	}
	errs := make([]error, len(batch))
	use := usageCounts{}
	for i, w := range batch {
		if errs[i] = w.ctx.Err(); errs[i] != nil {
			continue // its caller gave up; don't do work nobody will see
		}
		if len(batch) == 1 {
			// Alone, it needs no savepoint: its failure rolls back the
			// transaction, which holds nothing else.
			mine, err := s.run(tx, w)
			if err != nil {
				tx.Rollback()
				w.done <- err
				return
			}
			use.merge(mine)
			continue
		}
		errs[i] = s.savepoint(ctx, tx, w, use)
	}
	if len(use) > 0 {
		var add *sql.Stmt
		if add, err = s.stmt(ctx, tx, addUsageQuery); err == nil {
			err = use.write(ctx, add)
		}
	}
	if err == nil {
		err = tx.Commit()
	} else {
		tx.Rollback()
	}
	if err != nil {
		span.SetStatus(codes.Error, "")
		// A failed COMMIT can leave SQLite's transaction open on the one
		// connection, which would fail every later batch.
		s.w.ExecContext(ctx, "ROLLBACK")
		s.fanout.dropAll()
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	for i, w := range batch {
		w.done <- errs[i]
	}
}

// savepoint runs one caller's transaction inside the batch's, undoing it
// alone if it fails. The usage it counts is added to use if it succeeds.
func (s *Store) savepoint(ctx context.Context, tx *sql.Tx, w *write, use usageCounts) error {
	if err := s.exec(ctx, tx, "SAVEPOINT w"); err != nil {
		return err
	}
	mine, err := s.run(tx, w)
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO w"); rerr != nil {
			return errors.Join(err, rerr)
		}
		s.exec(ctx, tx, "RELEASE w")
		return err
	}
	if err := s.exec(ctx, tx, "RELEASE w"); err != nil {
		return err
	}
	use.merge(mine)
	return nil
}

// run runs one caller's transaction in tx and returns the usage it counted.
func (s *Store) run(tx *sql.Tx, w *write) (usageCounts, error) {
	mine := usageCounts{}
	return mine, w.fn(context.WithValue(context.WithoutCancel(w.ctx), usageKey{}, mine), tx)
}

func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	st, err := s.stmt(ctx, tx, query)
	if err == nil {
		_, err = st.ExecContext(ctx, args...)
	}
	return err
}

// dbErr turns driver errors into coded errors: constraint violations are
// conflicts, and a database that is busy, full or failing is unavailable.
func dbErr(err error) error {
	if err == nil {
		return nil
	}
	var oe *outlet.Error
	if errors.As(err, &oe) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			return outlet.Errorf(outlet.ECONFLICT, "conflicts with stored data: %v", se)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			return unavailable(err)
		}
	}
	return err
}

// checkText refuses text the Postgres store can't keep (a NUL, bytes that
// aren't UTF-8) as that store does, so that the two take the same writes;
// SQLite itself would keep any.
func checkText(texts ...string) error {
	for _, s := range texts {
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			return outlet.Errorf(outlet.EINVALID, "a text value holds a NUL character or bytes that are not UTF-8, which the database can't keep; remove them")
		}
	}
	return nil
}

func unavailable(err error) error {
	return &unavailableError{err}
}

type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return e.err.Error() }
func (e *unavailableError) Unwrap() []error {
	return []error{e.err, outlet.Errorf(outlet.EUNAVAILABLE, "the database can't take writes right now; retry shortly")}
}

// Times are stored as Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMs(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMs(v.Int64)
	return &t
}

func nullIfZero(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps and slices of strings are stored this way
	}
	return string(b)
}

func notFound(what, id string) error {
	return outlet.Errorf(outlet.ENOTFOUND, "%s %q not found", what, id)
}

func bool01(b bool) int {
	if b {
		return 1
	}
	return 0
}
