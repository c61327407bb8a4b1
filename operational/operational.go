// Package operational raises Outlet's operational events: an endpoint's
// circuit opening and closing, an endpoint disabled, a delivery exhausted, a
// function failing, a tenant's usage passing a threshold. The dispatcher,
// the functions service and the usage counters tell a Raiser what happened;
// it publishes ordinary events — stored, signed, retried and logged as any
// other — into the operator's tenant and into the tenant they are about,
// each only when an endpoint (or a function) there subscribes to them.
//
// Two rules keep it quiet. Nothing is raised about the operator's tenant,
// nor by an attempt or a run on an operational event: an endpoint that
// fails to take operational events can't feed more of them to itself. And
// each change is raised once: a circuit's opening and closing through the
// store's record of them (the first node to change it raises it), the rest
// under an idempotency key that names the change, so that nodes raising
// the same one make one event.
package operational

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/groupcommit"
)

// Store is what raising operational events needs of the store.
type Store interface {
	PublishEvents(ctx context.Context, reqs []*outlet.PublishRequest, now time.Time) ([]outlet.PublishOutcome, error)
	ListEndpoints(ctx context.Context, tenantID string, page outlet.Page) ([]*outlet.Endpoint, string, error)
	ListFunctions(ctx context.Context, tenantID string) ([]*outlet.Function, error)
	MarkEndpointCircuit(ctx context.Context, tenantID, id string, open bool, now time.Time) (bool, error)
	UsageOver(ctx context.Context, day time.Time, over outlet.Usage, after string, limit int) ([]outlet.TenantUsage, error)
}

// Config is what a Raiser is built from. Zero values take the defaults in
// brackets.
type Config struct {
	Store Store
	// FunctionFailingRate is the share of a function's runs in a window
	// that must fail (0.5: half or more) to raise outlet.function.failing;
	// 0 raises none.
	FunctionFailingRate float64
	// FunctionFailingWindow is that window [5m]. Windows start at multiples
	// of it, so that every node counts in the same ones.
	FunctionFailingWindow time.Duration
	// FunctionFailingMinRuns is how many runs a window needs before it can
	// be failing [10].
	FunctionFailingMinRuns int
	// UsageThresholds are the daily counts of a tenant's events,
	// deliveries and function invocations that raise
	// outlet.tenant.usage_threshold; a zero one raises nothing.
	UsageThresholds outlet.Usage
	// UsageCheckInterval is how often the day's usage is compared with the
	// thresholds, on the node that leads maintenance [1m].
	UsageCheckInterval time.Duration
	// CacheTTL is how long a tenant's endpoints are remembered, to tell
	// whether any subscribes to an event [5s].
	CacheTTL time.Duration
	// Wake is called once events are published, so that they are sent at
	// once (the dispatcher's Wake); nil leaves them to its next poll.
	Wake   func()
	Now    func() time.Time
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.FunctionFailingWindow <= 0 {
		c.FunctionFailingWindow = 5 * time.Minute
	}
	if c.FunctionFailingMinRuns <= 0 {
		c.FunctionFailingMinRuns = 10
	}
	if c.UsageCheckInterval <= 0 {
		c.UsageCheckInterval = time.Minute
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = 5 * time.Second
	}
	if c.Wake == nil {
		c.Wake = func() {}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	clock := c.Now
	c.Now = func() time.Time { return clock().UTC().Truncate(time.Millisecond) }
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Raiser raises operational events. It implements dispatch.Notifier and
// functions.RunWatcher; what it is told, it queues and publishes from a
// goroutine of its own, so that telling it costs its callers nothing.
type Raiser struct {
	cfg     Config
	store   Store
	log     *slog.Logger
	queue   *groupcommit.Batcher[raise]
	dropped atomic.Int64

	mu          sync.Mutex
	windows     map[fnKey]*window     // functions' runs in the current window
	subs        map[string]*listeners // tenants' endpoints, for a while
	usageDay    int64
	usageRaised map[string]bool // today's usage raises, by key

	stop     chan struct{}
	loop     sync.WaitGroup
	stopOnce sync.Once
}

// raise is an operational event on its way to be published.
type raise struct {
	typ      string
	tenantID string // the tenant it is about
	// key is its idempotency key: the same change raised by several nodes
	// is one event.
	key  string
	data any
	at   time.Time
	// circuit, when set, is the change of a circuit that the store must
	// take as new for the event to be raised.
	circuit *circuitChange
}

type circuitChange struct {
	endpointID string
	open       bool
}

// queueSize bounds the raises waiting to be published; beyond it they are
// dropped (and the drop logged), never waited for.
const queueSize = 4096

// New makes a Raiser; Start starts its usage checks and Close stops it.
func New(cfg Config) *Raiser {
	cfg.defaults()
	r := &Raiser{cfg: cfg, store: cfg.Store, log: cfg.Logger, windows: map[fnKey]*window{}, subs: map[string]*listeners{},
		usageRaised: map[string]bool{}, stop: make(chan struct{})}
	r.queue = groupcommit.New(queueSize, r.flush)
	return r
}

// Start checks the tenants' usage against the thresholds, if any is set,
// every UsageCheckInterval.
func (r *Raiser) Start() {
	th := r.cfg.UsageThresholds
	if th.Events <= 0 && th.Deliveries <= 0 && th.FunctionInvocations <= 0 {
		return
	}
	r.loop.Add(1)
	go func() {
		defer r.loop.Done()
		t := time.NewTicker(r.cfg.UsageCheckInterval)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
			if r.leading() {
				ctx, cancel := context.WithTimeout(context.Background(), r.cfg.UsageCheckInterval)
				r.CheckUsage(ctx)
				cancel()
			}
		}
	}()
}

// Close stops the usage checks and publishes what was raised. Close the
// dispatcher first: what it tells while it drains is published too.
func (r *Raiser) Close() {
	r.stopOnce.Do(func() {
		close(r.stop)
		r.loop.Wait()
		r.queue.Stop()
	})
}

// leading reports whether this node runs the usage checks: always on a
// store of its own, and on a shared one while the store says it leads.
func (r *Raiser) leading() bool {
	lead, err := outlet.Leads(r.store)
	if err != nil {
		r.log.Warn("can't tell whether this node leads maintenance; skipping this round of usage checks", "err", err)
	}
	return lead
}

func (r *Raiser) add(rs raise) {
	if !r.queue.TryAdd(rs) {
		r.dropped.Add(1)
	}
}

// quiet reports whether nothing may be raised about a claim's attempt:
// one of the operator's own, or of an operational event.
func quiet(c *outlet.Claim) bool {
	return c.Delivery.TenantID == outlet.OperatorTenant || outlet.IsOperational(c.Delivery.EventType) || c.Endpoint == nil
}

// CircuitOpened raises outlet.endpoint.circuit_opened, unless another node
// raised it for the same opening.
func (r *Raiser) CircuitOpened(c *outlet.Claim, failures int, probeAt time.Time) {
	if quiet(c) {
		return
	}
	now, ep := r.cfg.Now(), c.Endpoint
	r.add(raise{typ: outlet.EventEndpointCircuitOpened, tenantID: ep.TenantID, at: now, circuit: &circuitChange{ep.ID, true},
		key:  fmt.Sprintf("%s:%s:%d", outlet.EventEndpointCircuitOpened, ep.ID, now.UnixMilli()),
		data: outlet.CircuitOpened{TenantID: ep.TenantID, EndpointID: ep.ID, URL: ep.URL, ConsecutiveFailures: failures, OpenedAt: outlet.JSONTime(now), ProbeAt: outlet.JSONTime(probeAt)}})
}

// CircuitClosed raises outlet.endpoint.circuit_closed if an opening was
// raised, and no node has raised a closing since. Unlike an opening, it is
// raised whatever the probe carried: it ends what an opening began.
func (r *Raiser) CircuitClosed(c *outlet.Claim) {
	if c.Delivery.TenantID == outlet.OperatorTenant || c.Endpoint == nil {
		return
	}
	now, ep := r.cfg.Now(), c.Endpoint
	r.add(raise{typ: outlet.EventEndpointCircuitClosed, tenantID: ep.TenantID, at: now, circuit: &circuitChange{ep.ID, false},
		key:  fmt.Sprintf("%s:%s:%d", outlet.EventEndpointCircuitClosed, ep.ID, now.UnixMilli()),
		data: outlet.CircuitClosed{TenantID: ep.TenantID, EndpointID: ep.ID, URL: ep.URL, ClosedAt: outlet.JSONTime(now)}})
}

// EndpointDisabled raises outlet.endpoint.disabled.
func (r *Raiser) EndpointDisabled(c *outlet.Claim, at time.Time) {
	if quiet(c) {
		return
	}
	ep := c.Endpoint
	r.add(raise{typ: outlet.EventEndpointDisabled, tenantID: ep.TenantID, at: at,
		key: fmt.Sprintf("%s:%s:%d", outlet.EventEndpointDisabled, ep.ID, at.UnixMilli()),
		data: outlet.EndpointDisabled{TenantID: ep.TenantID, EndpointID: ep.ID, URL: ep.URL, Reason: outlet.DisabledFailing,
			FailingSince: outlet.JSONTimePtr(ep.FailingSince), DisabledAt: outlet.JSONTime(at)}})
}

// DeliveryExhausted raises outlet.delivery.exhausted, once per delivery.
func (r *Raiser) DeliveryExhausted(c *outlet.Claim, last *outlet.Attempt) {
	if c.Delivery.TenantID == outlet.OperatorTenant || outlet.IsOperational(c.Delivery.EventType) {
		return
	}
	dl := c.Delivery
	data := outlet.DeliveryExhausted{TenantID: dl.TenantID, DeliveryID: dl.ID, EventID: dl.EventID, EventType: dl.EventType, Target: dl.Target,
		Attempts: dl.Attempts + 1, LastAttempt: outlet.AttemptBrief{StartedAt: outlet.JSONTime(last.StartedAt), StatusCode: last.StatusCode, Error: last.Error}}
	if c.Endpoint != nil {
		data.URL = c.Endpoint.URL
	}
	r.add(raise{typ: outlet.EventDeliveryExhausted, tenantID: dl.TenantID, at: r.cfg.Now(), data: data,
		key: outlet.EventDeliveryExhausted + ":" + dl.ID})
}

type fnKey struct{ tenant, function string }

// window counts a function's runs since start.
type window struct {
	start    time.Time
	runs     int
	failures int
	raised   bool
}

// maxWindows bounds the functions whose runs are counted at once; past it,
// the windows that ended are forgotten.
const maxWindows = 10000

// FunctionRan counts a run of a tenant's function, and raises
// outlet.function.failing when the failures in its window reach the rate,
// once per window.
func (r *Raiser) FunctionRan(tenantID, function, eventType, errCode, errMsg string) {
	rate := r.cfg.FunctionFailingRate
	if rate <= 0 || tenantID == outlet.OperatorTenant || outlet.IsOperational(eventType) {
		return
	}
	now := r.cfg.Now()
	start := now.Truncate(r.cfg.FunctionFailingWindow)
	k := fnKey{tenantID, function}
	r.mu.Lock()
	w := r.windows[k]
	if w == nil || !w.start.Equal(start) {
		if len(r.windows) >= maxWindows {
			for k, w := range r.windows {
				if w.start.Before(start) {
					delete(r.windows, k)
				}
			}
		}
		w = &window{start: start}
		r.windows[k] = w
	}
	w.runs++
	if errCode != "" {
		w.failures++
	}
	crossed := errCode != "" && !w.raised && w.runs >= r.cfg.FunctionFailingMinRuns && float64(w.failures) >= rate*float64(w.runs)
	if crossed {
		w.raised = true
	}
	runs, failures := w.runs, w.failures
	r.mu.Unlock()
	if !crossed {
		return
	}
	if len(errMsg) > 500 {
		errMsg = errMsg[:500] + "…"
	}
	r.add(raise{typ: outlet.EventFunctionFailing, tenantID: tenantID, at: now,
		key: fmt.Sprintf("%s:%s:%s:%d", outlet.EventFunctionFailing, tenantID, function, start.UnixMilli()),
		data: outlet.FunctionFailing{TenantID: tenantID, Function: function, WindowStart: outlet.JSONTime(start),
			WindowSeconds: int64(r.cfg.FunctionFailingWindow / time.Second), Runs: runs, Failures: failures,
			ErrorRate: float64(failures) / float64(runs), Threshold: rate, LastError: outlet.FunctionFailure{Code: errCode, Message: errMsg}}})
}

// usagePage is how many tenants over a threshold one read of the store
// returns.
const usagePage = 500

// CheckUsage raises outlet.tenant.usage_threshold for every tenant whose
// use today reached a threshold it hadn't reached before today. Start
// calls it every UsageCheckInterval on the node that leads maintenance.
func (r *Raiser) CheckUsage(ctx context.Context) {
	th := r.cfg.UsageThresholds
	now := r.cfg.Now()
	day := outlet.UsageDay(now)
	r.mu.Lock()
	if r.usageDay != day {
		r.usageDay, r.usageRaised = day, map[string]bool{}
	}
	r.mu.Unlock()
	after := ""
	for range 10000 {
		us, err := r.store.UsageOver(ctx, now, th, after, usagePage)
		if err != nil {
			r.log.Error("checking usage against the thresholds failed; trying again at the next check", "err", err)
			return
		}
		for _, u := range us {
			if u.TenantID == outlet.OperatorTenant {
				continue
			}
			for _, m := range []struct {
				name             string
				threshold, value int64
			}{
				{outlet.MetricEvents, th.Events, u.Events},
				{outlet.MetricDeliveries, th.Deliveries, u.Deliveries},
				{outlet.MetricFunctionInvocations, th.FunctionInvocations, u.FunctionInvocations},
			} {
				if m.threshold <= 0 || m.value < m.threshold {
					continue
				}
				key := fmt.Sprintf("%s:%s:%s:%s", outlet.EventTenantUsageThreshold, u.TenantID, u.Day, m.name)
				r.mu.Lock()
				seen := r.usageRaised[key]
				r.usageRaised[key] = true
				r.mu.Unlock()
				if !seen {
					r.add(raise{typ: outlet.EventTenantUsageThreshold, tenantID: u.TenantID, at: now, key: key,
						data: outlet.UsageThreshold{TenantID: u.TenantID, Day: u.Day, Metric: m.name, Threshold: m.threshold, Value: m.value}})
				}
			}
		}
		if len(us) < usagePage {
			return
		}
		after = us[len(us)-1].TenantID
	}
}

// flush publishes a batch of raises: each into the operator's tenant and
// the tenant it is about, where an endpoint or a function subscribes to it.
func (r *Raiser) flush(batch []raise) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if n := r.dropped.Swap(0); n > 0 {
		r.log.Warn("operational events dropped: more were raised at once than could wait to be published", "dropped", n)
	}
	now := r.cfg.Now()
	var reqs []*outlet.PublishRequest
	for _, rs := range batch {
		if c := rs.circuit; c != nil {
			changed, err := r.store.MarkEndpointCircuit(ctx, rs.tenantID, c.endpointID, c.open, rs.at)
			if err != nil {
				r.log.Error("recording a circuit's change failed; it isn't raised", "type", rs.typ, "tenant", rs.tenantID, "endpoint", c.endpointID, "err", err)
				continue
			}
			if !changed {
				continue // another node raised it
			}
		}
		data, err := json.Marshal(rs.data)
		if err != nil {
			r.log.Error("an operational event can't be written", "type", rs.typ, "err", err)
			continue
		}
		for _, tenant := range []string{outlet.OperatorTenant, rs.tenantID} {
			if !r.subscribed(ctx, tenant, rs.typ) {
				continue
			}
			reqs = append(reqs, &outlet.PublishRequest{Event: &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: tenant, Type: rs.typ,
				Timestamp: rs.at, Data: data, IdempotencyKey: rs.key, CreatedAt: now, PayloadHash: outlet.ContentHash(rs.typ, data)}})
		}
	}
	published := false
	for len(reqs) > 0 {
		chunk := reqs[:min(len(reqs), 500)]
		reqs = reqs[len(chunk):]
		published = r.publish(ctx, chunk, now) || published
	}
	if published {
		r.cfg.Wake()
	}
}

// publish stores a chunk of operational events, trying a few times over a
// few seconds while the store fails, and reports whether any was new.
func (r *Raiser) publish(ctx context.Context, reqs []*outlet.PublishRequest, now time.Time) bool {
	wait := 100 * time.Millisecond
	for try := 1; ; try++ {
		res, err := r.store.PublishEvents(ctx, reqs, now)
		if err == nil {
			published := false
			for i, o := range res {
				ev := reqs[i].Event
				switch {
				case o.Err == nil && !o.Replayed:
					published = true
					r.log.Debug("operational event raised", "type", ev.Type, "tenant", ev.TenantID, "event", ev.ID, "deliveries", o.Deliveries)
				case o.Err != nil && outlet.ErrorCode(o.Err) != outlet.ECONFLICT:
					// A conflict is the same change, raised by another node.
					r.log.Error("an operational event was refused", "type", ev.Type, "tenant", ev.TenantID, "err", o.Err)
				}
			}
			return published
		}
		if try == 5 || ctx.Err() != nil {
			r.log.Error("publishing operational events failed; they are dropped", "count", len(reqs), "err", err)
			return false
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait *= 2
	}
}

// listeners are what a tenant's endpoints and functions subscribe to, as
// read at loadedAt.
type listeners struct {
	endpoints []outlet.Endpoint // their filters and whether they are disabled, nothing more
	functions [][]string        // the event filters of their active versions
	loadedAt  time.Time
}

// subscribed reports whether an enabled endpoint, or a function, of the
// tenant takes events of type typ. What they take is read again after
// CacheTTL; a tenant that doesn't exist has none.
func (r *Raiser) subscribed(ctx context.Context, tenantID, typ string) bool {
	now := r.cfg.Now()
	r.mu.Lock()
	l := r.subs[tenantID]
	r.mu.Unlock()
	if l == nil || now.Sub(l.loadedAt) >= r.cfg.CacheTTL {
		var err error
		if l, err = r.listeners(ctx, tenantID, now); err != nil {
			r.log.Error("reading what a tenant subscribes to failed; the operational event isn't raised for it", "tenant", tenantID, "err", err)
			return false
		}
		r.mu.Lock()
		if len(r.subs) >= maxWindows {
			clear(r.subs)
		}
		r.subs[tenantID] = l
		r.mu.Unlock()
	}
	for _, ep := range l.endpoints {
		if ep.Accepts(typ) {
			return true
		}
	}
	for _, events := range l.functions {
		if outlet.MatchEventType(events, typ) {
			return true
		}
	}
	return false
}

// listeners reads what the tenant's endpoints and functions subscribe to.
func (r *Raiser) listeners(ctx context.Context, tenantID string, now time.Time) (*listeners, error) {
	l := &listeners{loadedAt: now}
	cursor := ""
	for range 1000 {
		eps, next, err := r.store.ListEndpoints(ctx, tenantID, outlet.Page{Limit: outlet.MaxPageLimit, Cursor: cursor})
		if outlet.ErrorCode(err) == outlet.ENOTFOUND {
			return l, nil
		}
		if err != nil {
			return nil, err
		}
		for _, ep := range eps {
			l.endpoints = append(l.endpoints, outlet.Endpoint{EventTypes: ep.EventTypes, Disabled: ep.Disabled})
		}
		if next == "" {
			break
		}
		cursor = next
	}
	fns, err := r.store.ListFunctions(ctx, tenantID)
	if err != nil && outlet.ErrorCode(err) != outlet.ENOTFOUND {
		return nil, err
	}
	for _, fn := range fns {
		l.functions = append(l.functions, fn.Events)
	}
	return l, nil
}
