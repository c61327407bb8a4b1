package dispatch

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/netguard"
	"github.com/outlethq/outlet/internal/testwait"
	"github.com/outlethq/outlet/sqlite"
)

// bundle is what a dispatcher test works with: a dispatcher started on a
// real SQLite store, a receiver on loopback whose answers the test controls,
// and the clock the dispatcher and the store are told the time by.
type bundle struct {
	t     *testing.T
	ctx   context.Context
	store *watchedStore
	clock *testClock
	recv  *receiver
	cfg   Config // as given to New, before its defaults
	d     *Dispatcher
}

// setup starts a dispatcher named node-a. tune changes its config first.
// Everything it starts stops in t.Cleanup: held requests are let go, then
// the dispatchers shut down, then the receiver and the store close.
func setup(t *testing.T, tune ...func(*Config)) *bundle {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "outlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := &bundle{t: t, ctx: t.Context(), store: &watchedStore{Store: st}, clock: newTestClock(), recv: newReceiver(t)}
	b.cfg = Config{
		Owner:  "node-a",
		Policy: netguard.Policy{AllowPrivate: true}, // the receiver is on loopback
		Now:    b.clock.Now,
	}
	for _, f := range tune {
		f(&b.cfg)
	}
	b.d = b.node(b.cfg)
	t.Cleanup(b.recv.releaseAll) // runs first: nothing held keeps a shutdown waiting
	return b
}

// node starts another dispatcher on the bundle's store, as a second node
// sharing the database would be.
func (b *bundle) node(cfg Config) *Dispatcher {
	b.t.Helper()
	d := New(b.store, cfg)
	d.Start()
	b.t.Cleanup(func() { b.shutdown(d) })
	return d
}

// shutdown drains d, allowing it ten seconds.
func (b *bundle) shutdown(d *Dispatcher) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return d.Shutdown(ctx)
}

func (b *bundle) tenant(id string) {
	b.t.Helper()
	now := b.clock.Now()
	check(b.t, b.store.CreateTenant(b.ctx, &outlet.Tenant{ID: id, Name: id, CreatedAt: now, UpdatedAt: now}))
}

// endpoint creates an endpoint of the tenant, on the receiver, for every
// event type.
func (b *bundle) endpoint(tenant string, tune ...func(*outlet.Endpoint)) *outlet.Endpoint {
	b.t.Helper()
	now := b.clock.Now()
	ep := &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: tenant, URL: b.recv.srv.URL,
		Secret: outlet.NewEndpointSecret(), CreatedAt: now, UpdatedAt: now}
	for _, f := range tune {
		f(ep)
	}
	check(b.t, b.store.CreateEndpoint(b.ctx, ep))
	return ep
}

// function deploys a function of the tenant bound to every event type.
func (b *bundle) function(tenant, name string) {
	b.t.Helper()
	v := &outlet.FunctionVersion{TenantID: tenant, Function: name, Runtime: outlet.RuntimeJavaScript,
		Code: []byte("export default (event) => event"), Events: []string{"*"}}
	v.Seal()
	check(b.t, b.store.DeployFunction(b.ctx, v, b.clock.Now()))
}

func (b *bundle) event(tenant string) *outlet.Event {
	now := b.clock.Now()
	data := json.RawMessage(`{"amount":100}`)
	return &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: tenant, Type: "invoice.paid", Data: data,
		Timestamp: now, CreatedAt: now, PayloadHash: outlet.ContentHash("invoice.paid", data)}
}

// publish publishes an event of the tenant through d and returns the ids of
// the deliveries it made.
func (b *bundle) publish(d *Dispatcher, tenant string) []string {
	b.t.Helper()
	res, err := d.Publish(b.ctx, b.event(tenant))
	check(b.t, err)
	return b.deliveriesOf(tenant, res.Event.ID)
}

// publishOne publishes an event that makes one delivery, and returns its id.
func (b *bundle) publishOne(tenant string) string {
	b.t.Helper()
	ids := b.publish(b.d, tenant)
	if len(ids) != 1 {
		b.t.Fatalf("the event made %d deliveries; want 1", len(ids))
	}
	return ids[0]
}

// stored publishes n events of the tenant to the store alone: their
// deliveries wait there, unclaimed, for a poller.
func (b *bundle) stored(tenant string, n int) []string {
	b.t.Helper()
	var ids []string
	for range n {
		res, err := b.store.PublishEvents(b.ctx, []*outlet.PublishRequest{{Event: b.event(tenant)}}, b.clock.Now())
		check(b.t, err)
		check(b.t, res[0].Err)
		ids = append(ids, b.deliveriesOf(tenant, res[0].Event.ID)...)
	}
	return ids
}

func (b *bundle) deliveriesOf(tenant, eventID string) []string {
	b.t.Helper()
	var ids []string
	for _, d := range b.list(tenant, outlet.DeliveryFilter{EventID: eventID}) {
		ids = append(ids, d.ID)
	}
	return ids
}

// list reads every delivery of the tenant the filter matches, page by page.
func (b *bundle) list(tenant string, f outlet.DeliveryFilter) []*outlet.Delivery {
	b.t.Helper()
	f.Page = outlet.Page{Limit: outlet.MaxPageLimit}
	var all []*outlet.Delivery
	for {
		ds, next, err := b.store.ListDeliveries(b.ctx, tenant, f)
		check(b.t, err)
		all = append(all, ds...)
		if next == "" {
			return all
		}
		f.Cursor = next
	}
}

func (b *bundle) delivery(tenant, id string) *outlet.Delivery {
	b.t.Helper()
	d, err := b.store.Delivery(b.ctx, tenant, id)
	check(b.t, err)
	return d
}

func (b *bundle) attempts(tenant, id string) []*outlet.Attempt {
	b.t.Helper()
	as, err := b.store.ListAttempts(b.ctx, tenant, id)
	check(b.t, err)
	return as
}

// claimAs claims what is due now for another owner, as a node sharing the
// store would, and returns the delivery ids.
func (b *bundle) claimAs(owner string) []string {
	b.t.Helper()
	now := b.clock.Now()
	cs, err := b.store.ClaimDue(b.ctx, owner, now, now.Add(time.Minute), 100)
	check(b.t, err)
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.Delivery.ID)
	}
	return ids
}

// waitStatus waits until every delivery has the status. It reads the
// tenant's deliveries a page at a time, not one lookup an id, so waiting
// on a flood of them costs a few queries a poll.
func (b *bundle) waitStatus(tenant string, status outlet.DeliveryStatus, ids ...string) {
	b.t.Helper()
	testwait.Until(b.t, "deliveries to be "+string(status), func() bool {
		have := map[string]outlet.DeliveryStatus{}
		for _, d := range b.list(tenant, outlet.DeliveryFilter{}) {
			have[d.ID] = d.Status
		}
		for _, id := range ids {
			if have[id] != status {
				return false
			}
		}
		return true
	})
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

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
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

// watchedStore is the real store, telling the test when leases are renewed
// and, if asked, when outcomes are recorded.
type watchedStore struct {
	*sqlite.Store
	mu         sync.Mutex
	renewed    time.Time // the latest lease end a finished renewal set
	completed  func()    // when set, called after outcomes are committed, before the dispatcher hears so
	publishing func()    // when set, called as a publish reaches the store, before it is stored
	released   atomic.Int64
}

func (s *watchedStore) PublishEvents(ctx context.Context, reqs []*outlet.PublishRequest, now time.Time) ([]outlet.PublishOutcome, error) {
	s.mu.Lock()
	f := s.publishing
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return s.Store.PublishEvents(ctx, reqs, now)
}

func (s *watchedStore) ReleaseClaims(ctx context.Context, owner string, ids []string, now time.Time) error {
	s.released.Add(int64(len(ids)))
	return s.Store.ReleaseClaims(ctx, owner, ids, now)
}

func (s *watchedStore) CompleteAttempts(ctx context.Context, outcomes []*outlet.AttemptOutcome, now, disableBefore time.Time) ([]string, error) {
	disabled, err := s.Store.CompleteAttempts(ctx, outcomes, now, disableBefore)
	s.mu.Lock()
	f := s.completed
	s.mu.Unlock()
	if err == nil && f != nil {
		f()
	}
	return disabled, err
}

// onComplete sets what to do after outcomes are committed.
func (s *watchedStore) onComplete(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.completed = f
}

func (s *watchedStore) RenewClaims(ctx context.Context, owner string, ids []string, leaseUntil time.Time) error {
	err := s.Store.RenewClaims(ctx, owner, ids, leaseUntil)
	if err == nil {
		s.mu.Lock()
		s.renewed = leaseUntil
		s.mu.Unlock()
	}
	return err
}

// waitRenewedPast waits until a renewal has set leases to end after t.
func (b *bundle) waitRenewedPast(t time.Time) {
	b.t.Helper()
	testwait.Until(b.t, "a lease renewal past "+t.String(), func() bool {
		b.store.mu.Lock()
		defer b.store.mu.Unlock()
		return b.store.renewed.After(t)
	})
}

// receiver is a webhook receiver on loopback. It answers 200 unless the test
// holds requests at a gate, which then answers them as the test says.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	ids  []string // webhook-id of each request, in arrival order
	gate *gate
	all  []*gate
}

// gate holds the requests that arrive while it has places left.
type gate struct {
	left   int
	open   chan struct{}
	status int // the answer, set before open closes
	once   sync.Once
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.ids = append(r.ids, req.Header.Get("webhook-id"))
	g := r.gate
	if g != nil {
		if g.left--; g.left == 0 {
			r.gate = nil
		}
	}
	r.mu.Unlock()
	if g == nil {
		return
	}
	<-g.open
	w.WriteHeader(g.status)
}

// hold makes the next n requests wait until the gate it returns is released.
func (r *receiver) hold(n int) *gate {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := &gate{left: n, open: make(chan struct{})}
	r.gate = g
	r.all = append(r.all, g)
	return g
}

// release answers the requests held at the gate with status.
func (g *gate) release(status int) {
	g.once.Do(func() {
		g.status = status
		close(g.open)
	})
}

func (r *receiver) releaseAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gate = nil
	for _, g := range r.all {
		g.release(http.StatusServiceUnavailable)
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids)
}

func (r *receiver) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// wait waits until the receiver has had n requests.
func (r *receiver) wait(t *testing.T, n int) {
	t.Helper()
	testwait.Until(t, "the receiver to get requests", func() bool { return r.count() >= n })
}
