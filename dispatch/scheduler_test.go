package dispatch

import (
	"fmt"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// flowClock is a clock the test moves by hand.
type flowClock struct{ t time.Time }

func (c *flowClock) now() time.Time          { return c.t }
func (c *flowClock) advance(d time.Duration) { c.t = c.t.Add(d) }

type flowBundle struct {
	s       *scheduler
	clock   *flowClock
	opened  int
	closed  int
	claimed int
}

func newFlow(t *testing.T, cfg FlowConfig, workers int) *flowBundle {
	t.Helper()
	cfg.defaults(1000)
	b := &flowBundle{clock: &flowClock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}}
	b.s = newScheduler(cfg, workers, 0, b.clock.now, func(_ *outlet.Claim, open bool, _ time.Time) {
		if open {
			b.opened++
		} else {
			b.closed++
		}
	})
	return b
}

// claim makes a claim of a delivery of tenant to endpoint ep.
func (b *flowBundle) claim(tenant string, ep *outlet.Endpoint) *outlet.Claim {
	b.claimed++
	return &outlet.Claim{
		Delivery: &outlet.Delivery{ID: fmt.Sprintf("dlv_%d", b.claimed), TenantID: tenant, Target: outlet.Target{Type: outlet.TargetEndpoint, ID: ep.ID}},
		Endpoint: ep,
	}
}

func (b *flowBundle) add(t *testing.T, cs ...*outlet.Claim) {
	t.Helper()
	for _, c := range cs {
		if adm, _ := b.s.add(c); adm != admitted {
			t.Fatalf("claim %s was not admitted (%d)", c.Delivery.ID, adm)
		}
	}
}

// take takes claims until the scheduler has none to give now.
func (b *flowBundle) take() []*outlet.Claim {
	var out []*outlet.Claim
	for {
		c, _ := b.s.next()
		if c == nil {
			return out
		}
		out = append(out, c)
	}
}

func endpoint(id string) *outlet.Endpoint { return &outlet.Endpoint{ID: id, TenantID: "acme"} }

func TestAnEndpointGetsNoMoreThanItsInFlightLimit(t *testing.T) {
	b := newFlow(t, FlowConfig{MaxInFlight: 3}, 64)
	own := endpoint("ep_own")
	own.MaxInFlight = 2
	def := endpoint("ep_default")
	for range 5 {
		b.add(t, b.claim("acme", own), b.claim("acme", def))
	}
	got := b.take()
	perEndpoint := map[string]int{}
	for _, c := range got {
		perEndpoint[c.Endpoint.ID]++
	}
	if perEndpoint["ep_own"] != 2 || perEndpoint["ep_default"] != 3 {
		t.Fatalf("in flight %v; want 2 to the endpoint with its own limit and 3 to the one on the default", perEndpoint)
	}
	b.s.done(got[0], reached, time.Millisecond)
	more := b.take()
	if len(more) != 1 || more[0].Endpoint.ID != got[0].Endpoint.ID {
		t.Fatalf("after one attempt ended, took %d claims; want one more for %s", len(more), got[0].Endpoint.ID)
	}
}

func TestARateLimitedEndpointWaitsForItsNextToken(t *testing.T) {
	b := newFlow(t, FlowConfig{}, 64)
	ep := endpoint("ep_slow")
	ep.RateLimit = 10 // one every 100ms, a burst of one
	for range 3 {
		b.add(t, b.claim("acme", ep))
	}
	if got := b.take(); len(got) != 1 {
		t.Fatalf("took %d at once; want 1 (burst of one)", len(got))
	}
	c, wait := b.s.next()
	if c != nil || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("next = %v, wait %s; want nothing yet and a wait of up to 100ms", c, wait)
	}
	b.clock.advance(wait)
	if got := b.take(); len(got) != 1 {
		t.Fatalf("after the wait, took %d; want 1", len(got))
	}
	b.clock.advance(50 * time.Millisecond)
	if got := b.take(); len(got) != 0 {
		t.Fatalf("half a token later, took %d; want 0", len(got))
	}
}

func TestACircuitOpensAfterFailuresProbesAndCloses(t *testing.T) {
	b := newFlow(t, FlowConfig{BreakerFailures: 3, BreakerCooldown: 10 * time.Second, BreakerMaxCooldown: 15 * time.Second, MaxInFlight: 3}, 64)
	ep := endpoint("ep_down")
	for range 6 {
		b.add(t, b.claim("acme", ep))
	}
	first := b.take()
	if len(first) != 3 {
		t.Fatalf("took %d; want 3", len(first))
	}
	b.s.done(first[0], unreached, time.Millisecond)
	b.s.done(first[1], unreached, time.Millisecond)
	back, due := b.s.done(first[2], unreached, time.Millisecond)
	if b.opened != 1 || len(back) != 3 || !due.Equal(b.clock.now().Add(10*time.Second)) {
		t.Fatalf("after 3 failures: opened %d, gave back %d due %v; want the circuit open and 3 claims back due in 10s", b.opened, len(back), due)
	}
	if adm, until := b.s.add(b.claim("acme", ep)); adm != heldOpen || !until.Equal(due) {
		t.Fatalf("a new claim while open: %d until %v; want held until %v", adm, until, due)
	}
	if h := b.s.holds("acme", b.clock.now()); !h["ep_down"].Equal(due) {
		t.Fatalf("holds = %v; want ep_down held until %v", h, due)
	}
	if h := b.s.holds("globex", b.clock.now()); len(h) != 0 {
		t.Fatalf("holds of another tenant = %v; want none", h)
	}

	// Half-open: one probe at a time.
	b.clock.advance(10 * time.Second)
	b.add(t, b.claim("acme", ep), b.claim("acme", ep))
	probe := b.take()
	if len(probe) != 1 {
		t.Fatalf("half-open, took %d; want one probe", len(probe))
	}
	back, due = b.s.done(probe[0], unreached, time.Millisecond)
	if len(back) != 1 || !due.Equal(b.clock.now().Add(15*time.Second)) {
		t.Fatalf("failed probe: gave back %d due %v; want 1 due after the doubled cooldown, capped at 15s", len(back), due)
	}

	b.clock.advance(15 * time.Second)
	b.add(t, b.claim("acme", ep), b.claim("acme", ep))
	probe = b.take()
	if len(probe) != 1 {
		t.Fatalf("half-open again, took %d; want one probe", len(probe))
	}
	if back, _ := b.s.done(probe[0], reached, time.Millisecond); len(back) != 0 || b.closed != 1 {
		t.Fatalf("probe succeeded: gave back %d, closed %d; want the circuit closed", len(back), b.closed)
	}
	if got := b.take(); len(got) != 1 {
		t.Fatalf("closed again, took %d; want the one waiting", len(got))
	}
	if h := b.s.holds("acme", b.clock.now()); len(h) != 0 {
		t.Fatalf("holds after closing = %v; want none", h)
	}
}

func TestAnsweredFailuresDontOpenTheCircuit(t *testing.T) {
	b := newFlow(t, FlowConfig{BreakerFailures: 2}, 64)
	ep := endpoint("ep_400")
	for range 4 {
		b.add(t, b.claim("acme", ep))
		c, _ := b.s.next()
		b.s.done(c, verdictOf(&outlet.Attempt{StatusCode: 400}), time.Millisecond)
	}
	if b.opened != 0 {
		t.Fatalf("a receiver answering 400 opened its circuit")
	}
	for _, a := range []*outlet.Attempt{{StatusCode: 0}, {StatusCode: 503}, {StatusCode: 429}} {
		if verdictOf(a) == reached {
			t.Errorf("status %d counts as answered; want it to count towards the breaker", a.StatusCode)
		}
	}
}

func TestTheBreakerCanBeTurnedOff(t *testing.T) {
	b := newFlow(t, FlowConfig{BreakerFailures: 1, BreakerOff: true}, 64)
	ep := endpoint("ep_down")
	for range 5 {
		b.add(t, b.claim("acme", ep))
		c, _ := b.s.next()
		b.s.done(c, unreached, time.Millisecond)
	}
	if b.opened != 0 {
		t.Fatalf("circuit opened %d times with the breaker off", b.opened)
	}
}

func TestTenantsTakeTurns(t *testing.T) {
	b := newFlow(t, FlowConfig{MaxInFlight: 1000}, 64)
	flood, quiet := endpoint("ep_flood"), endpoint("ep_quiet")
	for range 50 {
		b.add(t, b.claim("flood", flood))
	}
	b.add(t, b.claim("quiet", quiet))
	var order []string
	for range 4 {
		c, _ := b.s.next()
		order = append(order, c.Delivery.TenantID)
	}
	if order[0] != "quiet" && order[1] != "quiet" {
		t.Fatalf("order %v; want the quiet tenant within the first two turns", order)
	}
}

func TestNoTenantTakesEveryWorker(t *testing.T) {
	b := newFlow(t, FlowConfig{MaxInFlight: 1000}, 8)
	flood := endpoint("ep_flood")
	for range 20 {
		b.add(t, b.claim("flood", flood))
	}
	if got := b.take(); len(got) != 7 {
		t.Fatalf("one tenant got %d of 8 workers; want 7, one left for others", len(got))
	}
	b.add(t, b.claim("quiet", endpoint("ep_quiet")))
	if got := b.take(); len(got) != 1 || got[0].Delivery.TenantID != "quiet" {
		t.Fatalf("took %v; want the other tenant's claim", got)
	}
}

func TestAnEndpointCantQueueMoreThanItsShare(t *testing.T) {
	b := newFlow(t, FlowConfig{MaxQueued: 3}, 64)
	ep := endpoint("ep_slow")
	b.add(t, b.claim("acme", ep), b.claim("acme", ep), b.claim("acme", ep))
	adm, due := b.s.add(b.claim("acme", ep))
	if adm != heldParked || !due.Equal(b.clock.now().Add(parkFor)) {
		t.Fatalf("fourth claim: %d due %v; want it sent back parked, due in %v", adm, due, parkFor)
	}
	retry := b.claim("acme", ep)
	retry.Delivery.Attempts = 1 // a pull takes only what was never attempted
	if adm, due := b.s.add(retry); adm != heldBacklog || !due.After(b.clock.now()) {
		t.Fatalf("a retry beyond the queue: %d due %v; want it sent back for later", adm, due)
	}
	b.add(t, b.claim("acme", endpoint("ep_other")))
}

func TestFunctionsHaveNoEndpointLimits(t *testing.T) {
	b := newFlow(t, FlowConfig{MaxInFlight: 1}, 64)
	for i := range 5 {
		c := &outlet.Claim{Delivery: &outlet.Delivery{ID: fmt.Sprint(i), TenantID: "acme", Target: outlet.Target{Type: outlet.TargetFunction, ID: "sync"}}}
		b.add(t, c)
	}
	got := b.take()
	if len(got) != 5 {
		t.Fatalf("took %d function claims at once; want all 5", len(got))
	}
	for _, c := range got {
		if back, _ := b.s.done(c, unreached, time.Millisecond); len(back) != 0 || b.opened != 0 {
			t.Fatalf("a failing function opened a circuit")
		}
	}
}

func TestDrainGivesBackEverythingQueuedAndForgetsIdleState(t *testing.T) {
	b := newFlow(t, FlowConfig{MaxInFlight: 1}, 64)
	a, z := endpoint("ep_a"), endpoint("ep_z")
	b.add(t, b.claim("acme", a), b.claim("acme", a), b.claim("globex", z))
	inFlight := b.take()
	if len(inFlight) != 2 {
		t.Fatalf("took %d; want 2", len(inFlight))
	}
	if got := b.s.drain(); len(got) != 1 {
		t.Fatalf("drained %d; want the 1 queued", len(got))
	}
	for _, c := range inFlight {
		b.s.done(c, reached, time.Millisecond)
	}
	if len(b.s.tenants) != 0 || len(b.s.targets) != 0 || len(b.s.turns) != 0 || b.s.queued != 0 {
		t.Fatalf("state left after drain: %d tenants, %d targets, %d turns, %d queued", len(b.s.tenants), len(b.s.targets), len(b.s.turns), b.s.queued)
	}
}

func TestTenantsWithFunctionsOfTheSameNameKeepApart(t *testing.T) {
	b := newFlow(t, FlowConfig{}, 4) // a tenant may have 3 in flight
	fn := func(tenant string) *outlet.Claim {
		b.claimed++
		return &outlet.Claim{Delivery: &outlet.Delivery{ID: fmt.Sprint(b.claimed), TenantID: tenant, Target: outlet.Target{Type: outlet.TargetFunction, ID: "handler"}}}
	}
	for round := range 3 {
		for range 3 {
			b.add(t, fn("acme"), fn("globex"))
		}
		got := b.take()
		perTenant := map[string]int{}
		for _, c := range got {
			perTenant[c.Delivery.TenantID]++
		}
		if perTenant["acme"] != 3 || perTenant["globex"] != 3 {
			t.Fatalf("round %d: took %v; want 3 of each tenant", round, perTenant)
		}
		for _, c := range got {
			b.s.done(c, reached, time.Millisecond)
		}
	}
	if len(b.s.tenants) != 0 || b.s.queued != 0 {
		t.Fatalf("left %d tenants, %d queued; want none", len(b.s.tenants), b.s.queued)
	}
}

func TestAProbeThatWasntSentNeitherClosesNorReopensTheCircuit(t *testing.T) {
	b := newFlow(t, FlowConfig{BreakerFailures: 1, BreakerCooldown: time.Second, MaxInFlight: 5}, 64)
	ep := endpoint("ep_down")
	b.add(t, b.claim("acme", ep))
	c, _ := b.s.next()
	b.s.done(c, unreached, time.Millisecond)
	b.clock.advance(time.Second)
	b.add(t, b.claim("acme", ep), b.claim("acme", ep))
	probe := b.take()
	if len(probe) != 1 {
		t.Fatalf("took %d; want one probe", len(probe))
	}
	if back, _ := b.s.done(probe[0], untried, 0); len(back) != 0 || b.closed != 0 {
		t.Fatalf("an unsent probe gave back %d and closed %d circuits; want neither", len(back), b.closed)
	}
	if next := b.take(); len(next) != 1 {
		t.Fatalf("after an unsent probe, took %d; want the next claim as the probe", len(next))
	}
}
