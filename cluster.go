package outlet

import (
	"context"
	"time"
)

// A store shared by several nodes may implement the interfaces below; the
// dispatcher uses them when it finds them. The embedded SQLite store has one
// process per database file, so it implements neither: its node is always
// the leader and wakes itself.

// Waker is a store that tells every node sharing it when work became due
// that no node holds: deliveries published beyond what the publishing node
// could hold, claims given back, endpoints recovered. Wake-ups are hints:
// the dispatcher still polls at its poll interval, so a lost one only delays
// work.
type Waker interface {
	// Wakeups receives a value soon after any node made work due. It is
	// closed when the store is closed.
	Wakeups() <-chan struct{}
}

// Leader is a store that elects one node, among those sharing it, to run
// maintenance (retention and the like), so it runs once, not once per node.
type Leader interface {
	// Lead reports whether this node holds the lead now, taking it if no
	// node does. A node keeps the lead until its store closes or loses its
	// connection.
	Lead(ctx context.Context) (bool, error)
}

// Leads reports whether this node leads maintenance on store: always on a
// store of its own (one that isn't a Leader), and on a shared one while the
// store says it leads; with the error the store met asking, to log.
func Leads(store any) (bool, error) {
	l, ok := store.(Leader)
	if !ok {
		return true, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return l.Lead(ctx)
}

// Partitioner is a store that keeps records in partitions by time, which must
// exist before records of their time are written. The node that leads
// maintenance makes them ahead of time.
type Partitioner interface {
	// MaintainPartitions makes the partitions of the day of now and of the
	// next few days, those that don't exist yet.
	MaintainPartitions(ctx context.Context, now time.Time) error
}
