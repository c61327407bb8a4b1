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
	pending map[meterKey]*outlet.FunctionUsage

	stop chan struct{}
	done chan struct{}
}

type meterKey struct {
	tenant string
	day    int64
}

func newMeter(store interface {
	AddFunctionUsage(ctx context.Context, use []outlet.FunctionUsage) error
}, log *slog.Logger, every time.Duration) *meter {
	m := &meter{store: store, log: log, every: every, pending: map[meterKey]*outlet.FunctionUsage{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	return m
}

// add counts one invocation.
func (m *meter) add(tenantID string, at time.Time, cpu time.Duration) {
	k := meterKey{tenantID, outlet.UsageDay(at)}
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.pending[k]
	if u == nil {
		u = &outlet.FunctionUsage{TenantID: tenantID, At: at}
		m.pending[k] = u
	}
	u.Invocations++
	u.CPUMs += cpu.Milliseconds()
	if cpu%time.Millisecond >= time.Millisecond/2 {
		u.CPUMs++ // rounded to the nearest millisecond
	}
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
	taken := m.pending
	m.pending = map[meterKey]*outlet.FunctionUsage{}
	m.mu.Unlock()
	if len(taken) == 0 {
		return
	}
	use := make([]outlet.FunctionUsage, 0, len(taken))
	for _, u := range taken {
		use = append(use, *u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.store.AddFunctionUsage(ctx, use); err != nil {
		m.log.Error("recording function usage failed; will try again", "tenants", len(use), "err", err)
		m.mu.Lock()
		for k, u := range taken {
			if p := m.pending[k]; p != nil {
				p.Invocations += u.Invocations
				p.CPUMs += u.CPUMs
			} else {
				m.pending[k] = u
			}
		}
		m.mu.Unlock()
	}
}

// close writes what is pending and stops.
func (m *meter) close() {
	close(m.stop)
	<-m.done
}
