package postgres

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Nodes sharing the database tell each other about work that became due and
// that no node holds on one Postgres channel. A notification's payload is
// the schema whose work it is, so that deployments in other schemas of the
// same database ignore it.
const (
	dueChannel = "outlet_due"
	// notifyCall, run in a transaction, notifies every node's listener when
	// the transaction commits. Postgres sends one notification per
	// transaction however many times it runs.
	notifyCall  = `pg_notify('` + dueChannel + `', current_schema())`
	notifyQuery = `SELECT ` + notifyCall
)

// How long the listener waits before connecting again after losing its
// connection: doubling from the first to the last, with jitter.
const (
	firstBackoff = 100 * time.Millisecond
	lastBackoff  = 5 * time.Second
)

// Wakeups receives a value soon after any node sharing the database made
// work due that no node holds. The first call starts listening, on a
// connection of the listener's own. Values don't queue: one waiting value
// stands for any number of wake-ups. The channel is closed by Close.
func (s *Store) Wakeups() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.listening && !s.closed {
		s.listening = true
		s.bg.Add(1)
		go s.listen()
	}
	return s.wake
}

// wakeUp passes a wake-up on, unless one is already waiting.
func (s *Store) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// listen keeps a connection listening on dueChannel until the store closes,
// connecting again, with backoff, whenever it loses it.
func (s *Store) listen() {
	defer s.bg.Done()
	backoff := firstBackoff
	for reconnect := false; ; reconnect = true {
		if s.listenOnce(reconnect) {
			backoff = firstBackoff
		}
		// Jitter keeps the nodes that lost the database together from
		// coming back together.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-s.bgCtx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(2*backoff, lastBackoff)
	}
}

// listenOnce connects, listens and passes notifications on until the
// connection fails or the store closes. It reports whether it got as far as
// listening.
func (s *Store) listenOnce(reconnect bool) bool {
	ctx := s.bgCtx
	conn, err := pgx.ConnectConfig(ctx, s.ownConnConfig("waker"))
	if err != nil {
		return false
	}
	defer closeConn(conn)
	if _, err := conn.Exec(ctx, `LISTEN `+dueChannel); err != nil {
		return false
	}
	// Work made due while nobody listened went unannounced: look now.
	if reconnect {
		s.wakeUp()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true
		}
		if n.Payload == s.schema {
			s.wakeUp()
		}
	}
}

// ownConnConfig is the configuration of a connection the store keeps for
// one purpose, named for it so that operators can tell it apart.
func (s *Store) ownConnConfig(purpose string) *pgx.ConnConfig {
	cfg := s.connCfg.Copy()
	name := "outlet " + purpose + " " + s.schema
	if len(name) > 63 {
		name = name[:63]
	}
	cfg.RuntimeParams["application_name"] = name
	return cfg
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}

// leaderLockClass is the first key of the advisory lock that holds the lead;
// the second is made from the schema, so that each deployment sharing a
// database elects its own leader.
const leaderLockClass int32 = 0x6f75746c // "outl"

// leader holds or seeks the lead, on a connection of its own: the lock is a
// session lock, held for as long as the connection lives.
type leader struct {
	mu     sync.Mutex
	key    int32
	conn   *pgx.Conn
	held   bool
	closed bool
}

// Lead reports whether this store holds the lead among the stores sharing
// its schema, taking it if none does. The lead lasts until the store closes
// or loses the lead's connection; a store that lost it seeks it again at its
// next call.
func (s *Store) Lead(ctx context.Context) (bool, error) {
	l := &s.lead
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false, errClosed
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	if l.held {
		if err := l.conn.Ping(ctx); err == nil {
			return true, nil
		}
		// The connection is gone, and the lock with it; another node may
		// hold it now.
		l.drop()
	}
	fresh := l.conn == nil
	got, err := l.try(ctx, s)
	if err != nil && !fresh {
		// The connection kept from the last try may have died since.
		got, err = l.try(ctx, s)
	}
	return got, err
}

// try asks for the lock once, connecting first if need be.
func (l *leader) try(ctx context.Context, s *Store) (bool, error) {
	if l.conn == nil {
		conn, err := pgx.ConnectConfig(ctx, s.ownConnConfig("leader"))
		if err != nil {
			return false, dbErr(err)
		}
		l.conn = conn
	}
	if err := l.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, leaderLockClass, l.key).Scan(&l.held); err != nil {
		l.drop()
		return false, dbErr(err)
	}
	return l.held, nil
}

// drop closes the lead's connection, giving the lock up if it held it.
func (l *leader) drop() {
	if l.conn != nil {
		closeConn(l.conn)
	}
	l.conn, l.held = nil, false
}

func (l *leader) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	// A closed connection's locks go only once its server process has
	// ended, a moment later; giving the lead up first lets another node
	// take it at its very next call.
	if l.held {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1, $2)`, leaderLockClass, l.key)
		cancel()
	}
	l.drop()
}
