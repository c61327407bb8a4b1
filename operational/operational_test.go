package operational_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/dispatch"
	"github.com/outlethq/outlet/functions"
	"github.com/outlethq/outlet/internal/netguard"
	"github.com/outlethq/outlet/internal/schema"
	"github.com/outlethq/outlet/internal/secrets"
	"github.com/outlethq/outlet/internal/testwait"
	"github.com/outlethq/outlet/operational"
	"github.com/outlethq/outlet/sandbox"
	"github.com/outlethq/outlet/sqlite"
)

// bundle is a node — a dispatcher telling a Raiser — on a real SQLite
// store, with the clock both are told the time by.
type bundle struct {
	t     *testing.T
	ctx   context.Context
	store *sqlite.Store
	clock *testClock
	nodes []*node
}

type node struct {
	d *dispatch.Dispatcher
	r *operational.Raiser
}

// tuning changes a node's configs before it starts.
type tuning func(*operational.Config, *dispatch.Config)

func setup(t *testing.T, tune ...tuning) *bundle {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "outlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := &bundle{t: t, ctx: t.Context(), store: st, clock: &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	b.node("node-a", tune...)
	return b
}

// node starts a dispatcher and its Raiser, as one more node sharing the
// store. They stop in t.Cleanup, the dispatcher first.
func (b *bundle) node(name string, tune ...tuning) *node {
	b.t.Helper()
	n := &node{}
	ocfg := operational.Config{Store: b.store, Now: b.clock.Now, Wake: func() { n.d.Wake() }}
	dcfg := dispatch.Config{Owner: name, Policy: netguard.Policy{AllowPrivate: true}, Now: b.clock.Now,
		Retry: outlet.RetryPolicy{Schedule: outlet.RetrySchedule{time.Hour}}}
	for _, f := range tune {
		f(&ocfg, &dcfg)
	}
	n.r = operational.New(ocfg)
	dcfg.Notifier = n.r
	n.d = dispatch.New(b.store, dcfg)
	n.d.Start()
	n.r.Start()
	b.t.Cleanup(func() { n.stop() })
	b.nodes = append(b.nodes, n)
	return n
}

// stop drains the node's dispatcher, then publishes what its Raiser holds.
func (n *node) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n.d.Shutdown(ctx)
	n.r.Close()
}

func (b *bundle) d() *dispatch.Dispatcher { return b.nodes[0].d }
func (b *bundle) r() *operational.Raiser  { return b.nodes[0].r }
func (b *bundle) stopAll()                { b.each(func(n *node) { n.stop() }) }
func (b *bundle) each(f func(*node)) {
	for _, n := range b.nodes {
		f(n)
	}
}
func (b *bundle) wake()                             { b.each(func(n *node) { n.d.Wake() }) }
func (b *bundle) now() time.Time                    { return b.clock.Now() }
func (b *bundle) advance(d time.Duration)           { b.clock.Advance(d) }
func (b *bundle) check(err error)                   { b.t.Helper(); check(b.t, err) }
func (b *bundle) event(tenant string) *outlet.Event { return newEvent(tenant, "invoice.paid", b.now()) }

func (b *bundle) tenant(id string) {
	b.t.Helper()
	now := b.now()
	b.check(b.store.CreateTenant(b.ctx, &outlet.Tenant{ID: id, Name: id, CreatedAt: now, UpdatedAt: now}))
}

// endpoint creates an endpoint of the tenant on the receiver, taking
// eventTypes (every type but Outlet's own if none).
func (b *bundle) endpoint(tenant string, recv *receiver, eventTypes ...string) *outlet.Endpoint {
	b.t.Helper()
	now := b.now()
	ep := &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: tenant, URL: recv.srv.URL, EventTypes: eventTypes,
		Secret: outlet.NewEndpointSecret(), CreatedAt: now, UpdatedAt: now}
	b.check(b.store.CreateEndpoint(b.ctx, ep))
	return ep
}

// operator creates the operator's tenant with an endpoint on recv taking
// every operational event.
func (b *bundle) operator(recv *receiver) *outlet.Endpoint {
	b.t.Helper()
	b.tenant(outlet.OperatorTenant)
	return b.endpoint(outlet.OperatorTenant, recv, "outlet.*")
}

// publish publishes an event of the tenant through the dispatcher of n
// and returns the ids of its deliveries.
func (b *bundle) publish(n *node, tenant string) []string {
	b.t.Helper()
	res, err := n.d.Publish(b.ctx, b.event(tenant))
	b.check(err)
	ds, _, err := b.store.ListDeliveries(b.ctx, tenant, outlet.DeliveryFilter{Page: outlet.Page{Limit: outlet.MaxPageLimit}, EventID: res.Event.ID})
	b.check(err)
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func (b *bundle) delivery(tenant, id string) *outlet.Delivery {
	b.t.Helper()
	d, err := b.store.Delivery(b.ctx, tenant, id)
	b.check(err)
	return d
}

// events lists the tenant's stored events of type typ, oldest first.
func (b *bundle) events(tenant, typ string) []*outlet.Event {
	b.t.Helper()
	evs, _, err := b.store.ListEvents(b.ctx, tenant, outlet.EventFilter{Page: outlet.Page{Limit: outlet.MaxPageLimit}, Type: typ})
	if outlet.ErrorCode(err) == outlet.ENOTFOUND {
		return nil
	}
	b.check(err)
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

// settled waits until the tenant's deliveries of operational events have
// finished: the clock may then move on without a lease running out under
// one in flight.
func (b *bundle) settled(tenant string) {
	b.t.Helper()
	testwait.Until(b.t, tenant+"'s operational deliveries to finish", func() bool {
		ds, _, err := b.store.ListDeliveries(b.ctx, tenant, outlet.DeliveryFilter{Page: outlet.Page{Limit: outlet.MaxPageLimit}})
		b.check(err)
		for _, d := range ds {
			if outlet.IsOperational(d.EventType) && d.Status == outlet.StatusPending {
				return false
			}
		}
		return true
	})
}

func newEvent(tenant, typ string, now time.Time) *outlet.Event {
	data := json.RawMessage(`{"amount":100}`)
	return &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: tenant, Type: typ, Data: data,
		Timestamp: now, CreatedAt: now, PayloadHash: outlet.ContentHash(typ, data)}
}

// received is one webhook a receiver got, checked: signed with the
// endpoint's secret, and its data as the catalog's schema for its type says.
type received struct {
	ID   string
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// receiver is a webhook receiver on loopback that answers with its status
// (200 until told otherwise) and keeps what it got.
type receiver struct {
	srv    *httptest.Server
	status atomic.Int64
	mu     sync.Mutex
	got    []*http.Request
	bodies [][]byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.status.Store(200)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got, r.bodies = append(r.got, req), append(r.bodies, body)
		r.mu.Unlock()
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// webhooks waits until the receiver has got n requests, and returns them
// checked against the endpoint's secret and the catalog.
func (r *receiver) webhooks(t *testing.T, ep *outlet.Endpoint, n int) []received {
	t.Helper()
	testwait.Until(t, "webhooks to reach "+ep.ID, func() bool { return r.count() >= n })
	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	check(t, err)
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []received
	for i, req := range r.got {
		// The test's clock is not the library's: the signature is checked,
		// the timestamp's age is not.
		if err := wh.VerifyIgnoringTimestamp(r.bodies[i], req.Header); err != nil {
			t.Errorf("webhook %d to %s: the signature doesn't verify: %v", i, ep.ID, err)
		}
		var w received
		check(t, json.Unmarshal(r.bodies[i], &w))
		w.ID = req.Header.Get("webhook-id")
		if et := outlet.OperationalEventType(w.Type); et != nil {
			s, err := schema.Compile(et.Schema)
			check(t, err)
			if err := s.Validate(w.Data, "data"); err != nil {
				t.Errorf("webhook %d (%s) doesn't match the catalog: %v", i, w.Type, err)
			}
		}
		out = append(out, w)
	}
	return out
}

func decode[T any](t *testing.T, w received) T {
	t.Helper()
	var v T
	check(t, json.Unmarshal(w.Data, &v))
	return v
}

func types(ws []received) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Type)
	}
	return out
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testClock is the time as the test sets it: it moves only by Advance.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestACircuitsOpeningAndClosingReachTheOperatorAndTheTenantsSubscribedEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ *operational.Config, d *dispatch.Config) {
		d.Flow = dispatch.FlowConfig{BreakerFailures: 2, BreakerCooldown: 10 * time.Second}
	})
	ops, failing, watch := newReceiver(t), newReceiver(t), newReceiver(t)
	opsEP := b.operator(ops)
	b.tenant("acme")
	ep := b.endpoint("acme", failing)
	// The tenant's own endpoint for what Outlet says about its endpoints.
	watchEP := b.endpoint("acme", watch, "outlet.endpoint.*")
	failing.status.Store(503)
	b.publish(b.nodes[0], "acme")
	b.publish(b.nodes[0], "acme")

	got := ops.webhooks(t, opsEP, 1)
	if types(got)[0] != outlet.EventEndpointCircuitOpened {
		t.Fatalf("the operator got %v; want %s", types(got), outlet.EventEndpointCircuitOpened)
	}
	opened := decode[outlet.CircuitOpened](t, got[0])
	want := outlet.CircuitOpened{TenantID: "acme", EndpointID: ep.ID, URL: ep.URL, ConsecutiveFailures: 2,
		OpenedAt: outlet.JSONTime(b.now()), ProbeAt: outlet.JSONTime(b.now().Add(10 * time.Second))}
	if opened != want {
		t.Errorf("circuit_opened says %+v; want %+v", opened, want)
	}

	// The endpoint recovers: the next attempt, the probe, closes the circuit.
	failing.status.Store(200)
	b.settled(outlet.OperatorTenant)
	b.settled("acme")
	b.advance(2 * time.Hour)
	b.wake()
	got = ops.webhooks(t, opsEP, 2)
	if types(got)[1] != outlet.EventEndpointCircuitClosed {
		t.Fatalf("the operator got %v; want the closing second", types(got))
	}
	closed := decode[outlet.CircuitClosed](t, got[1])
	if closed.TenantID != "acme" || closed.EndpointID != ep.ID || closed.URL != ep.URL {
		t.Errorf("circuit_closed says %+v; want it about %s", closed, ep.ID)
	}
	tenants := watch.webhooks(t, watchEP, 2)
	if types(tenants)[0] != outlet.EventEndpointCircuitOpened || types(tenants)[1] != outlet.EventEndpointCircuitClosed {
		t.Errorf("the tenant's subscribed endpoint got %v; want the opening and the closing", types(tenants))
	}
	b.stopAll()
	// Once each, and the endpoint that takes every type got none of them.
	if n := ops.count(); n != 2 {
		t.Errorf("the operator got %d webhooks; want 2", n)
	}
	for _, w := range failing.webhooks(t, ep, 0) {
		if outlet.IsOperational(w.Type) {
			t.Errorf("the endpoint taking every type got %s", w.Type)
		}
	}
}

func TestNodesOpeningTheirCircuitsForAnEndpointRaiseOneEvent(t *testing.T) {
	t.Parallel()
	breaker := func(_ *operational.Config, d *dispatch.Config) { d.Flow = dispatch.FlowConfig{BreakerFailures: 1} }
	b := setup(t, breaker)
	second := b.node("node-b", breaker)
	ops, failing := newReceiver(t), newReceiver(t)
	b.operator(ops)
	b.tenant("acme")
	b.endpoint("acme", failing)
	failing.status.Store(503)
	// Each node sends what was published through it, and each opens its circuit.
	a := b.publish(b.nodes[0], "acme")[0]
	c := b.publish(second, "acme")[0]
	testwait.Until(t, "both nodes' attempts", func() bool {
		return b.delivery("acme", a).Attempts == 1 && b.delivery("acme", c).Attempts == 1
	})
	b.stopAll()
	if evs := b.events(outlet.OperatorTenant, outlet.EventEndpointCircuitOpened); len(evs) != 1 {
		t.Errorf("the operator's tenant has %d circuit_opened events; want 1", len(evs))
	}
}

func TestADeliveryThatExhaustsItsScheduleIsRaisedOnceWithItsIDs(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ *operational.Config, d *dispatch.Config) {
		d.Retry.Schedule = outlet.RetrySchedule{} // the first attempt is the last
	})
	ops, failing, deaf := newReceiver(t), newReceiver(t), newReceiver(t)
	opsEP := b.operator(ops)
	// An endpoint of the operator that fails too: its own failures raise
	// nothing more.
	deaf.status.Store(500)
	b.endpoint(outlet.OperatorTenant, deaf, "outlet.*")
	b.tenant("acme")
	ep := b.endpoint("acme", failing)
	failing.status.Store(503)
	id := b.publish(b.nodes[0], "acme")[0]

	got := ops.webhooks(t, opsEP, 1)
	ex := decode[outlet.DeliveryExhausted](t, got[0])
	dl := b.delivery("acme", id)
	if got[0].Type != outlet.EventDeliveryExhausted || ex.TenantID != "acme" || ex.DeliveryID != id || ex.EventID != dl.EventID ||
		ex.EventType != "invoice.paid" || ex.Target != dl.Target || ex.URL != ep.URL || ex.Attempts != 1 || ex.LastAttempt.StatusCode != 503 {
		t.Errorf("the operator got %s %+v; want delivery.exhausted of %s", got[0].Type, ex, id)
	}
	testwait.Until(t, "the operator's failing endpoint to be tried", func() bool { return deaf.count() == 1 })

	// One more attempt, asked for and failed, is not the schedule running out again.
	_, err := b.d().Retry(b.ctx, "acme", id)
	check(t, err)
	testwait.Until(t, "the retry", func() bool { return b.delivery("acme", id).Attempts == 2 })
	b.stopAll()
	if evs := b.events(outlet.OperatorTenant, ""); len(evs) != 1 {
		t.Errorf("the operator's tenant has %d events; want the one delivery.exhausted", len(evs))
	}
}

func TestAFunctionFailingOverTheThresholdIsRaisedOncePerWindow(t *testing.T) {
	t.Parallel()
	const window = 5 * time.Minute
	b := setup(t, func(o *operational.Config, _ *dispatch.Config) {
		o.FunctionFailingRate, o.FunctionFailingMinRuns, o.FunctionFailingWindow = 0.5, 4, window
	})
	ops := newReceiver(t)
	opsEP := b.operator(ops)
	b.tenant("acme")
	fns := b.functions()
	now := b.now()
	b.check(b.store.CreateHook(b.ctx, &outlet.Hook{Name: "checkout", TimeoutMs: 5000, OnError: outlet.FailOpen, CreatedAt: now, UpdatedAt: now}))
	v := &outlet.FunctionVersion{TenantID: "acme", Function: "pricing", Runtime: outlet.RuntimeJavaScript,
		Code: []byte(`export default (i) => { if (i.fail) throw new Error("no price for " + i.sku); return i }`), Events: []string{}, Hooks: []string{"checkout"}}
	_, err := fns.Deploy(b.ctx, b.store, v)
	check(t, err)
	invoke := func(fail bool) {
		t.Helper()
		in, _ := json.Marshal(map[string]any{"fail": fail, "sku": "A-1"})
		_, err := fns.Invoke(b.ctx, "acme", "checkout", in)
		check(t, err)
	}

	// 2 of 4 runs fail: the rate is reached, once.
	for _, fail := range []bool{false, false, true, true, true, false} {
		invoke(fail)
	}
	// Runs on Outlet's own events don't count.
	for range 10 {
		b.r().FunctionRan("acme", "pricing", outlet.EventDeliveryExhausted, "runtime_error", "x")
	}
	got := ops.webhooks(t, opsEP, 1)
	ff := decode[outlet.FunctionFailing](t, got[0])
	if got[0].Type != outlet.EventFunctionFailing || ff.TenantID != "acme" || ff.Function != "pricing" || ff.Runs != 4 || ff.Failures != 2 ||
		ff.ErrorRate != 0.5 || ff.Threshold != 0.5 || ff.WindowSeconds != 300 || ff.LastError.Code != "runtime_error" ||
		!time.Time(ff.WindowStart).Equal(b.now().Truncate(window)) {
		t.Errorf("the operator got %s %+v; want function.failing of acme's pricing after 2 of 4 runs failed", got[0].Type, ff)
	}

	// The next window is counted afresh, and may fail again.
	b.settled(outlet.OperatorTenant)
	b.advance(window)
	for range 4 {
		invoke(true)
	}
	got = ops.webhooks(t, opsEP, 2)
	if ff2 := decode[outlet.FunctionFailing](t, got[1]); ff2.Runs != 4 || ff2.Failures != 4 || !time.Time(ff2.WindowStart).Equal(b.now().Truncate(window)) {
		t.Errorf("the second window's function.failing: %+v", ff2)
	}
	b.stopAll()
	if n := ops.count(); n != 2 {
		t.Errorf("the operator got %d webhooks; want one per window", n)
	}
}

// functions starts a functions service on the bundle's store whose runs
// the first node's Raiser hears of.
func (b *bundle) functions() *functions.Service {
	b.t.Helper()
	sb := sandbox.New(sandbox.Config{Policy: netguard.Policy{}})
	b.t.Cleanup(func() { sb.Close(context.Background()) })
	box, err := secrets.NewBox(make([]byte, secrets.KeySize))
	b.check(err)
	fns := functions.New(functions.Config{Store: b.store, Sandbox: sb, Secrets: box, Runs: b.r(), Now: b.clock.Now})
	b.t.Cleanup(fns.Close)
	return fns
}

func TestUsageOverAThresholdIsRaisedOncePerTenantDayAndMetric(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *operational.Config, _ *dispatch.Config) {
		o.UsageThresholds = outlet.Usage{Events: 3, Deliveries: 100}
	})
	ops := newReceiver(t)
	opsEP := b.operator(ops)
	b.tenant("acme")
	b.tenant("globex")
	publish := func(tenant string, n int) {
		t.Helper()
		for range n {
			res, err := b.store.PublishEvents(b.ctx, []*outlet.PublishRequest{{Event: b.event(tenant)}}, b.now())
			check(t, err)
			check(t, res[0].Err)
		}
	}
	publish("acme", 2)
	publish("globex", 3)
	b.r().CheckUsage(b.ctx)
	publish("acme", 1)
	b.r().CheckUsage(b.ctx)
	publish("acme", 5)
	b.r().CheckUsage(b.ctx)

	got := ops.webhooks(t, opsEP, 2)
	seen := map[string]outlet.UsageThreshold{}
	for _, w := range got {
		u := decode[outlet.UsageThreshold](t, w)
		seen[u.TenantID] = u
	}
	day := b.now().Format(time.DateOnly)
	if u := seen["globex"]; u != (outlet.UsageThreshold{TenantID: "globex", Day: day, Metric: "events", Threshold: 3, Value: 3}) {
		t.Errorf("globex's usage_threshold: %+v", u)
	}
	if u := seen["acme"]; u != (outlet.UsageThreshold{TenantID: "acme", Day: day, Metric: "events", Threshold: 3, Value: 3}) {
		t.Errorf("acme's usage_threshold: %+v", u)
	}

	// The next day is counted afresh.
	b.settled(outlet.OperatorTenant)
	b.advance(24 * time.Hour)
	publish("acme", 3)
	b.r().CheckUsage(b.ctx)
	got = ops.webhooks(t, opsEP, 3)
	if u := decode[outlet.UsageThreshold](t, got[2]); u.TenantID != "acme" || u.Day != b.now().Format(time.DateOnly) {
		t.Errorf("the next day's usage_threshold: %+v", u)
	}
	b.stopAll()
	if n := ops.count(); n != 3 {
		t.Errorf("the operator got %d webhooks; want 3", n)
	}
}

func TestNothingIsStoredThatNoEndpointSubscribesTo(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ *operational.Config, d *dispatch.Config) {
		d.Flow = dispatch.FlowConfig{BreakerFailures: 1}
	})
	failing := newReceiver(t)
	b.tenant("acme")
	ep := b.endpoint("acme", failing) // every type: not Outlet's own
	failing.status.Store(503)
	id := b.publish(b.nodes[0], "acme")[0]
	testwait.Until(t, "the attempt", func() bool { return b.delivery("acme", id).Attempts == 1 })
	b.stopAll()
	if evs := b.events("acme", ""); len(evs) != 1 {
		t.Errorf("acme has %d events; want only the one published", len(evs))
	}
	// The opening was recorded all the same: no node raises it again.
	changed, err := b.store.MarkEndpointCircuit(b.ctx, "acme", ep.ID, true, b.now())
	check(t, err)
	if changed {
		t.Error("the circuit's opening wasn't recorded")
	}
}

func TestATenantsFunctionSubscribedToOperationalEventsGetsThem(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ *operational.Config, d *dispatch.Config) {
		d.Flow = dispatch.FlowConfig{BreakerFailures: 1}
	})
	failing := newReceiver(t)
	b.tenant("acme")
	b.endpoint("acme", failing)
	v := &outlet.FunctionVersion{TenantID: "acme", Function: "pager", Runtime: outlet.RuntimeJavaScript,
		Code: []byte("export default (e) => e"), Events: []string{"outlet.endpoint.*"}}
	v.Seal()
	b.check(b.store.DeployFunction(b.ctx, v, b.now()))
	failing.status.Store(503)
	b.publish(b.nodes[0], "acme")
	testwait.Until(t, "circuit_opened in acme", func() bool { return len(b.events("acme", outlet.EventEndpointCircuitOpened)) == 1 })
	ev := b.events("acme", outlet.EventEndpointCircuitOpened)[0]
	ds, _, err := b.store.ListDeliveries(b.ctx, "acme", outlet.DeliveryFilter{Page: outlet.Page{Limit: 10}, EventID: ev.ID})
	b.check(err)
	if len(ds) != 1 || ds[0].Target != (outlet.Target{Type: outlet.TargetFunction, ID: "pager"}) {
		t.Errorf("circuit_opened went to %+v; want the function pager alone", ds)
	}
}
