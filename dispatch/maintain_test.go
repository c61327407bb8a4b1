package dispatch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet"
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
	waitUntil(t, "the leader to make partitions", func() bool {
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
	waitUntil(t, "the old event to be deleted", func() bool {
		_, err := b.store.Event(b.ctx, "acme", ev.ID)
		return outlet.ErrorCode(err) == outlet.ENOTFOUND
	})
}
