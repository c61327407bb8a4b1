// Package usage counts what tenants' functions use — runs and CPU time — and
// writes it to the store for billing every few seconds.
package usage

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/outlethq/outlet"
)

// Store is what the meter writes to.
type Store interface {
	AddFunctionUsage(ctx context.Context, use []outlet.FunctionUsage) error
}

// Meter adds up the tenants' function use and writes it to the store every
// few seconds, so billing doesn't cost a write per invocation. What hasn't
// been written when the process dies unannounced is lost: at most one
// interval's worth. A failed write is kept and tried again. The sandbox
// charges it the CPU time it spends for each tenant (sandbox.Meter); the
// functions service counts the runs. It is safe for concurrent use.
type Meter struct {
	store Store
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

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

// DefaultInterval is how often a Meter writes what it counted.
const DefaultInterval = 2 * time.Second

// New starts a Meter that writes every interval (DefaultInterval when 0);
// Close writes what is left and stops it. now is its clock (time.Now when
// nil): it says which day a use belongs to.
func New(store Store, log *slog.Logger, interval time.Duration, now func() time.Time) *Meter {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	m := &Meter{store: store, log: log, every: interval, now: now, pending: map[meterKey]*metered{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	return m
}

// Run counts one run of a tenant's function. Its CPU time is charged
// separately, by whoever measured it.
func (m *Meter) Run(tenantID string) {
	m.count(tenantID, m.now(), 1, 0)
}

// ChargeCPU adds CPU time spent for a tenant: a run, a deploy, warming an
// engine.
func (m *Meter) ChargeCPU(tenantID string, cpu time.Duration) {
	m.count(tenantID, m.now(), 0, cpu)
}

func (m *Meter) count(tenantID string, at time.Time, invocations int64, cpu time.Duration) {
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

func (m *Meter) run() {
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

func (m *Meter) flush() {
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
	today := outlet.UsageDay(m.now())
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

// Close writes what is pending and stops.
func (m *Meter) Close() {
	close(m.stop)
	<-m.done
}
