package functions

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/outlethq/outlet"
)

// meter adds up the tenants' function use and writes it to the store every
// few seconds, so billing doesn't cost a write per invocation. What hasn't
// been written when the process dies unannounced is lost: at most one
// interval's worth. A failed write is kept and tried again.
type meter struct {
	store interface {
		AddFunctionUsage(ctx context.Context, use []outlet.FunctionUsage) error
	}
	log   *slog.Logger
	every time.Duration

	mu      sync.Mutex
	pending map[meterKey]*metered

	stop chan struct{}
	done chan struct{}
}

type meterKey struct {
	tenant string
	day    int64
}

// metered is what a tenant used in a day and isn't written yet. CPU time is
// kept exact and written in whole milliseconds, the remainder kept for the
// next write, so runs far shorter than a millisecond add up.
type metered struct {
	at          time.Time
	invocations int64
	cpu         time.Duration
}

func newMeter(store interface {
	AddFunctionUsage(ctx context.Context, use []outlet.FunctionUsage) error
}, log *slog.Logger, every time.Duration) *meter {
	m := &meter{store: store, log: log, every: every, pending: map[meterKey]*metered{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	return m
}

// add counts one invocation.
func (m *meter) add(tenantID string, at time.Time, cpu time.Duration) {
	m.count(tenantID, at, 1, cpu)
}

func (m *meter) count(tenantID string, at time.Time, invocations int64, cpu time.Duration) {
	k := meterKey{tenantID, outlet.UsageDay(at)}
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.pending[k]
	if u == nil {
		u = &metered{at: at}
		m.pending[k] = u
	}
	u.invocations += invocations
	u.cpu += cpu
}

func (m *meter) run() {
	defer close(m.done)
	t := time.NewTicker(m.every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			m.flush()
			return
		case <-t.C:
			m.flush()
		}
	}
}

func (m *meter) flush() {
	m.mu.Lock()
	use := make([]outlet.FunctionUsage, 0, len(m.pending))
	taken := map[meterKey]outlet.FunctionUsage{}
	for k, u := range m.pending {
		ms := u.cpu.Milliseconds()
		if u.invocations == 0 && ms == 0 {
			continue
		}
		fu := outlet.FunctionUsage{TenantID: k.tenant, At: u.at, Invocations: u.invocations, CPUMs: ms}
		use = append(use, fu)
		taken[k] = fu
		// What is written leaves; the sub-millisecond rest stays.
		u.invocations = 0
		u.cpu -= time.Duration(ms) * time.Millisecond
	}
	today := outlet.UsageDay(time.Now())
	for k, u := range m.pending {
		// A past day's rest under a millisecond will never add up to one.
		if u.invocations == 0 && (u.cpu == 0 || k.day < today) {
			delete(m.pending, k)
		}
	}
	m.mu.Unlock()
	if len(use) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.store.AddFunctionUsage(ctx, use); err != nil {
		m.log.Error("recording function usage failed; will try again", "tenants", len(use), "err", err)
		m.mu.Lock()
		for k, fu := range taken {
			u := m.pending[k]
			if u == nil {
				u = &metered{at: fu.At}
				m.pending[k] = u
			}
			u.invocations += fu.Invocations
			u.cpu += time.Duration(fu.CPUMs) * time.Millisecond
		}
		m.mu.Unlock()
	}
}

// close writes what is pending and stops.
func (m *meter) close() {
	close(m.stop)
	<-m.done
}
