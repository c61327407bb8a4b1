package dispatch

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/testwait"
)

func TestShutdownLetsAttemptsInFlightFinishAndGivesBackWhatWasQueued(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Workers = 1 })
	b.tenant("acme")
	b.endpoint("acme")
	g := b.recv.hold(1)
	inFlight := b.publishOne("acme")
	b.recv.wait(t, 1)
	queued := []string{b.publishOne("acme"), b.publishOne("acme")}

	done := make(chan error, 1)
	go func() { done <- b.shutdown(b.d) }()
	// Once the workers are told to stop, the one worker takes nothing more
	// after the attempt it is making.
	testwait.Until(t, "shutdown to stop the workers", func() bool {
		select {
		case <-b.d.stopWorkers:
			return true
		default:
			return false
		}
	})
	g.release(200)
	select {
	case err := <-done:
		check(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not return within 10s of the attempt in flight finishing")
	}

	if d := b.delivery("acme", inFlight); d.Status != outlet.StatusSucceeded || d.Attempts != 1 {
		t.Errorf("the delivery in flight at shutdown is %s after %d attempts; want it finished and recorded: succeeded after 1", d.Status, d.Attempts)
	}
	for _, id := range queued {
		if d := b.delivery("acme", id); d.Status != outlet.StatusPending || d.InFlight || d.Attempts != 0 {
			t.Errorf("a queued delivery after shutdown: %s, in flight %v, %d attempts; want it given back unattempted", d.Status, d.InFlight, d.Attempts)
		}
	}
	if got := b.claimAs("node-b"); !sameIDs(got, queued) {
		t.Errorf("another node claimed %v right after shutdown; want the queued %v, due at once", got, queued)
	}
	if n := b.recv.count(); n != 1 {
		t.Errorf("the receiver got %d requests; want 1: nothing is started once shutdown begins", n)
	}
	if _, err := b.d.Publish(b.ctx, b.event("acme")); outlet.ErrorCode(err) != outlet.EUNAVAILABLE {
		t.Errorf("publishing after shutdown: %v; want %s", err, outlet.EUNAVAILABLE)
	}
}

func TestShutdownPastItsDeadlineCutsAttemptsShortAndGivesThemBack(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Workers = 1 })
	b.tenant("acme")
	b.endpoint("acme")
	b.recv.hold(1) // never answered before shutdown gives up on it
	id := b.publishOne("acme")
	b.recv.wait(t, 1)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	check(t, b.d.Shutdown(ctx))

	if d := b.delivery("acme", id); d.Status != outlet.StatusPending || d.InFlight || d.Attempts != 0 {
		t.Errorf("an attempt cut short by shutdown left the delivery %s, in flight %v, with %d attempts; want it given back, no attempt recorded",
			d.Status, d.InFlight, d.Attempts)
	}
	if got := b.claimAs("node-b"); !sameIDs(got, []string{id}) {
		t.Errorf("another node claimed %v; want the delivery cut short, due at once", got)
	}
}

func TestRenewingLeasesKeepsClaimsFromOtherNodes(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Workers = 1
		c.Lease = 300 * time.Millisecond // renewed every 100ms
	})
	b.tenant("acme")
	b.endpoint("acme")
	b.recv.hold(1)
	inFlight := b.publishOne("acme")
	b.recv.wait(t, 1)
	queued := b.publishOne("acme")

	// Unrenewed, both leases would have run out an hour ago.
	b.clock.Advance(time.Hour)
	b.waitRenewedPast(b.clock.Now())
	if got := b.claimAs("node-b"); len(got) != 0 {
		t.Errorf("another node claimed %v; the claims in flight (%s) and queued (%s) are renewed and must stay this node's", got, inFlight, queued)
	}
}

func TestAClaimWhoseLeaseRanOutIsTakenOverAndTheOldOwnersOutcomeIsDropped(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		// node-a is cut off: it neither renews its lease nor looks for work
		// during the test.
		c.Lease = time.Hour
		c.PollInterval = time.Hour
	})
	b.tenant("acme")
	b.endpoint("acme")
	stale := b.recv.hold(1)
	id := b.publishOne("acme")
	b.recv.wait(t, 1)

	b.clock.Advance(time.Hour + time.Millisecond)
	cfg := b.cfg
	cfg.Owner, cfg.PollInterval = "node-b", 0
	nodeB := b.node(cfg)
	b.waitStatus("acme", outlet.StatusSucceeded, id)

	// node-a's attempt ends now, failed; it must not overwrite node-b's.
	stale.release(500)
	check(t, b.shutdown(b.d))
	check(t, b.shutdown(nodeB))

	if got := b.recv.requests(); len(got) != 2 || got[0] != got[1] {
		t.Fatalf("the receiver got %v; want the same delivery twice, once from each node", got)
	}
	d := b.delivery("acme", id)
	as := b.attempts("acme", id)
	if d.Status != outlet.StatusSucceeded || len(as) != 1 || as[0].StatusCode != 200 {
		t.Errorf("after the takeover the delivery is %s with attempts %v; want node-b's one successful attempt alone", d.Status, statusCodes(as))
	}
}

func TestAnOpeningCircuitSendsQueuedClaimsBackDueWhenItHalfOpens(t *testing.T) {
	t.Parallel()
	const cooldown = 10 * time.Second
	b := setup(t, func(c *Config) {
		c.Workers = 1
		c.Flow = FlowConfig{BreakerFailures: 1, BreakerCooldown: cooldown}
		c.Retry.Schedule = outlet.RetrySchedule{time.Hour}
	})
	b.tenant("acme")
	b.endpoint("acme")
	g := b.recv.hold(1)
	first := b.publishOne("acme")
	b.recv.wait(t, 1)
	queued := []string{b.publishOne("acme"), b.publishOne("acme")}
	halfOpen := b.clock.Now().Add(cooldown)
	g.release(503)

	testwait.Until(t, "the queued deliveries to go back to the store", func() bool {
		for _, id := range queued {
			if b.delivery("acme", id).InFlight {
				return false
			}
		}
		return true
	})
	for _, id := range queued {
		d := b.delivery("acme", id)
		if d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(halfOpen) || d.Attempts != 0 {
			t.Errorf("a delivery queued when the circuit opened is due %v with %d attempts; want due %v, when the circuit half-opens, unattempted",
				d.NextAttemptAt, d.Attempts, halfOpen)
		}
	}
	// Published while the circuit is open: stored, not claimed, due at the same time.
	later := b.publishOne("acme")
	if d := b.delivery("acme", later); d.InFlight || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(halfOpen) {
		t.Errorf("a delivery published while the circuit is open: in flight %v, due %v; want it left in the store, due %v", d.InFlight, d.NextAttemptAt, halfOpen)
	}
	// Its outcome and the queued ones' return are recorded by different
	// batchers, in either order.
	testwait.Until(t, "the failed attempt to be recorded", func() bool { return b.delivery("acme", first).Attempts == 1 })
	if d := b.delivery("acme", first); d.Status != outlet.StatusPending || d.Attempts != 1 {
		t.Errorf("the failed attempt left its delivery %s after %d attempts; want pending after 1", d.Status, d.Attempts)
	}
	if n := b.recv.count(); n != 1 {
		t.Errorf("the receiver got %d requests; want 1: the circuit opened after the first failure", n)
	}
}

func TestAFloodBeyondAnEndpointsQueueIsParkedInTheStoreAndPulledWithoutBeingSentBack(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Workers = 1
		c.Flow = FlowConfig{MaxQueued: 1000} // publishes park beyond 500 queued
	})
	b.tenant("acme")
	b.endpoint("acme")
	g := b.recv.hold(1)
	ids := []string{b.publishOne("acme")}
	b.recv.wait(t, 1) // in flight: now the scheduler knows the endpoint
	evs := make([]*outlet.Event, 1200)
	for i := range evs {
		evs[i] = b.event("acme")
	}
	if _, err := b.d.PublishBatch(b.ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, d := range b.list("acme", outlet.DeliveryFilter{}) {
		if d.ID != ids[0] {
			ids = append(ids, d.ID)
		}
	}
	if len(ids) != 1+len(evs) {
		t.Fatalf("%d deliveries stored; want %d, one an event", len(ids), 1+len(evs))
	}
	// The clock stands still: the parked deliveries are never due, so only
	// being pulled gets them sent.
	g.release(200)
	b.waitStatus("acme", outlet.StatusSucceeded, ids...)
	if n := b.store.released.Load(); n != 0 {
		t.Errorf("%d deliveries were claimed and then given back to the store; want none: parked until the endpoint had room", n)
	}
}

// A pull of an endpoint's parked deliveries that runs while a publish
// parking more is on its way to the store finds none of that publish's:
// the publish, once stored, must still get its deliveries pulled, though
// the pull before it found nothing and the endpoint went idle.
func TestDeliveriesParkedByAPublishStoredAfterAPullAreStillPulled(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Workers = 1
		c.Flow = FlowConfig{MaxQueued: 2}
	})
	b.tenant("acme")
	ep := b.endpoint("acme")
	g := b.recv.hold(1)
	ids := []string{b.publishOne("acme")}
	b.recv.wait(t, 1)
	ids = append(ids, b.publishOne("acme"), b.publishOne("acme")) // the endpoint's queue is full

	// The next publish parks its delivery; before it is stored, the
	// endpoint drains and goes idle, and any pull this sets off runs.
	key := targetKey{"acme", outlet.Target{Type: outlet.TargetEndpoint, ID: ep.ID}}
	var once sync.Once
	b.store.mu.Lock()
	b.store.publishing = func() {
		once.Do(func() {
			g.release(200)
			testwait.Until(t, "the endpoint to drain and be forgotten", func() bool {
				b.d.sched.mu.Lock()
				defer b.d.sched.mu.Unlock()
				return b.d.sched.targets[key] == nil
			})
		})
	}
	b.store.mu.Unlock()
	over := b.publishOne("acme")

	// The clock stands still: the parked delivery is never due, so only a
	// pull gets it sent.
	b.waitStatus("acme", outlet.StatusSucceeded, append(ids, over)...)
}

func TestAnEndpointsBacklogBeyondItsQueueWaitsInTheStore(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Workers = 1
		c.Flow = FlowConfig{MaxQueued: 2}
	})
	b.tenant("acme")
	b.endpoint("acme")
	g := b.recv.hold(1)
	first := b.publishOne("acme")
	b.recv.wait(t, 1)
	queued := []string{b.publishOne("acme"), b.publishOne("acme")}
	over := b.publishOne("acme")

	// Parked: stored unclaimed, due only if no node pulls it before then.
	if d := b.delivery("acme", over); d.InFlight || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(b.clock.Now().Add(parkFor)) {
		t.Errorf("the delivery beyond the endpoint's queue: in flight %v, due %v; want it in the store, due in %v", d.InFlight, d.NextAttemptAt, parkFor)
	}
	for _, id := range queued {
		if d := b.delivery("acme", id); !d.InFlight {
			t.Errorf("a delivery within the endpoint's queue was given back; want it held")
		}
	}

	// Sent as soon as the endpoint has room, long before it is due.
	g.release(200)
	b.waitStatus("acme", outlet.StatusSucceeded, append(queued, first, over)...)
}

// Claims beyond what an endpoint may queue (a poller's round, or publishes
// that each saw room) go back to the store parked, and are pulled as soon
// as the endpoint drains, not left until a guess of when it would have.
func TestClaimsBeyondAnEndpointsQueueGoBackParkedAndArePulledAsItDrains(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Workers = 1
		c.Flow = FlowConfig{MaxQueued: 2}
	})
	b.tenant("acme")
	b.endpoint("acme")
	ids := b.stored("acme", 12)
	b.d.nudge() // the poller claims all twelve; the endpoint may queue two
	// The clock stands still: whatever went back due later than now is
	// never due, so only pulls get it sent.
	b.waitStatus("acme", outlet.StatusSucceeded, ids...)
	if n := b.store.released.Load(); n == 0 {
		t.Errorf("nothing was given back; want the claims beyond the endpoint's queue given back, parked")
	}
}

func TestThePollerStopsClaimingWhenMemoryIsFullAndResumesWhenRoomFrees(t *testing.T) {
	t.Parallel()
	const maxHeld = 20
	pollerRoom := maxHeld - maxHeld/10 // a tenth is kept for fresh publishes
	b := setup(t, func(c *Config) {
		c.MaxHeld = maxHeld
		c.Workers = 32
		c.Flow = FlowConfig{MaxInFlight: 32, MaxQueued: 32}
	})
	b.tenant("acme")
	b.endpoint("acme")
	g := b.recv.hold(pollerRoom)
	ids := b.stored("acme", 30)
	b.d.nudge()

	b.recv.wait(t, pollerRoom)
	testwait.Until(t, "the poller to stop claiming", b.d.starved.Load)
	inFlight := 0
	for _, id := range ids {
		if b.delivery("acme", id).InFlight {
			inFlight++
		}
	}
	if inFlight != pollerRoom {
		t.Errorf("the poller claimed %d of %d due deliveries with room for %d; want it to stop at %d", inFlight, len(ids), maxHeld, pollerRoom)
	}

	g.release(200)
	b.waitStatus("acme", outlet.StatusSucceeded, ids...)
	if n := b.recv.count(); n != len(ids) {
		t.Errorf("the receiver got %d requests; want %d, one per delivery", n, len(ids))
	}
}

func TestAPublishBeyondWhatATenantMayHoldWaitsInTheStoreForThePoller(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.MaxHeld = 4 // a tenant may hold 2
		c.Workers = 8
		c.Flow.MaxQueued = 4
	})
	b.tenant("acme")
	b.endpoint("acme")
	g := b.recv.hold(2)
	var ids []string
	for i := range 4 {
		res, err := b.d.Publish(b.ctx, b.event("acme"))
		check(t, err)
		ids = append(ids, b.deliveriesOf("acme", res.Event.ID)...)
		if want := i < 2; (len(res.Claims) == 1) != want {
			t.Errorf("publish %d claimed %d deliveries for this node; want claimed: %v (a tenant may hold 2)", i+1, len(res.Claims), want)
		}
		if i == 1 {
			b.recv.wait(t, 2)
		}
	}
	g.release(200)
	b.waitStatus("acme", outlet.StatusSucceeded, ids...)
}

func TestAManualRetryMakesOneMoreAttemptAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenant("acme")
	b.endpoint("acme")
	id := b.publishOne("acme")
	b.waitStatus("acme", outlet.StatusSucceeded, id)

	got, err := b.d.Retry(b.ctx, "acme", id)
	check(t, err)
	if got.ID != id {
		t.Fatalf("retry answered delivery %s; want %s", got.ID, id)
	}
	testwait.Until(t, "the retried attempt to be recorded", func() bool { return len(b.attempts("acme", id)) == 2 })
	if reqs := b.recv.requests(); len(reqs) != 2 || reqs[0] != reqs[1] {
		t.Errorf("the receiver got %v; want the same webhook twice", reqs)
	}
	as := b.attempts("acme", id)
	if as[1].Trigger != outlet.TriggerManual {
		t.Errorf("the retried attempt's trigger is %q; want %q", as[1].Trigger, outlet.TriggerManual)
	}
	if _, err := b.d.Retry(b.ctx, "acme", "dlv_nope"); outlet.ErrorCode(err) != outlet.ENOTFOUND {
		t.Errorf("retrying an unknown delivery: %v; want %s", err, outlet.ENOTFOUND)
	}
}

func TestAManualRetryClaimedJustAsTheLastOutcomeIsRecordedIsSent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	committed, proceed := make(chan struct{}), make(chan struct{})
	b.store.onComplete(sync.OnceFunc(func() {
		close(committed)
		<-proceed
	}))
	b.tenant("acme")
	b.endpoint("acme")
	id := b.publishOne("acme")
	select {
	case <-committed:
	case <-time.After(10 * time.Second):
		t.Fatal("the first attempt's outcome was not recorded within 10s")
	}
	// The store has the outcome; the node hasn't heard back yet.
	_, err := b.d.Retry(b.ctx, "acme", id)
	check(t, err)
	close(proceed)
	testwait.Until(t, "the retried attempt to be recorded", func() bool { return len(b.attempts("acme", id)) == 2 })
}

func TestRecoverSendsAnEndpointsFailedDeliveriesAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Retry.Schedule = outlet.RetrySchedule{} }) // one attempt, then failed
	b.tenant("acme")
	ep := b.endpoint("acme")
	g := b.recv.hold(2)
	since := b.clock.Now()
	ids := []string{b.publishOne("acme"), b.publishOne("acme")}
	g.release(500)
	b.waitStatus("acme", outlet.StatusFailed, ids...)

	n, err := b.d.Recover(b.ctx, "acme", ep.ID, since)
	check(t, err)
	if n != 2 {
		t.Errorf("recover re-sent %d deliveries; want 2", n)
	}
	b.waitStatus("acme", outlet.StatusSucceeded, ids...)
}

func TestADeliveryToAFunctionRecordsItsRun(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Functions = runnerFunc(func(ctx context.Context, e EventRun) FunctionRun {
			if e.Attempt == 1 {
				return FunctionRun{Version: 1, ErrCode: "runtime_error", ErrMsg: "Error: not yet", Logs: "trying\n"}
			}
			return FunctionRun{Version: 1, Output: []byte(`{"ok":true}`), Logs: "done\n", Duration: 3 * time.Millisecond}
		})
		c.Retry.Schedule = outlet.RetrySchedule{time.Minute}
	})
	b.tenant("acme")
	b.function("acme", "on-paid")
	id := b.publishOne("acme")
	testwait.Until(t, "the first attempt", func() bool { return b.delivery("acme", id).Attempts == 1 })
	b.clock.Advance(2 * time.Minute) // past the retry's due time, jitter and all
	b.d.nudge()
	b.waitStatus("acme", outlet.StatusSucceeded, id)

	as := b.attempts("acme", id)
	if len(as) != 2 {
		t.Fatalf("%d attempts; want 2", len(as))
	}
	if a := as[0]; a.Succeeded || a.Error != "runtime_error: Error: not yet" || a.Logs != "trying\n" || a.URL != "function:on-paid" {
		t.Errorf("the failed run was recorded as %+v", a)
	}
	if a := as[1]; !a.Succeeded || a.ResponseBody != `{"ok":true}` || a.FunctionVersion != 1 || a.DurationMs != 3 {
		t.Errorf("the successful run was recorded as %+v", a)
	}
}

func TestANodeWithoutFunctionsFailsDeliveriesToThem(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Retry.Schedule = outlet.RetrySchedule{} })
	b.tenant("acme")
	b.function("acme", "on-paid")
	id := b.publishOne("acme")
	b.waitStatus("acme", outlet.StatusFailed, id)
	if as := b.attempts("acme", id); len(as) != 1 || as[0].Error != "functions are not enabled on this node" {
		t.Errorf("attempts %+v; want one saying functions are not enabled", as)
	}
}

// runnerFunc is a FunctionRunner written as a function.
type runnerFunc func(ctx context.Context, e EventRun) FunctionRun

func (f runnerFunc) RunEvent(ctx context.Context, e EventRun) FunctionRun { return f(ctx, e) }

func sameIDs(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func statusCodes(as []*outlet.Attempt) []int {
	var out []int
	for _, a := range as {
		out = append(out, a.StatusCode)
	}
	return out
}

func TestFunctionsWaitingForTheSandboxDontHoldUpAnotherTenantsWebhooks(t *testing.T) {
	t.Parallel()
	// A runner saturated as the sandbox would be: every run blocks until the
	// test lets it finish.
	sandbox := newSaturatedRunner()
	b := setup(t, func(c *Config) {
		c.Workers = 4
		c.FunctionWorkers = 4
		c.FunctionTenantMax = 1
		c.Functions = sandbox
	})
	t.Cleanup(sandbox.finish) // before the dispatcher's shutdown
	for _, tenant := range []string{"fn-a", "fn-b"} {
		b.tenant(tenant)
		b.function(tenant, "slow")
	}
	b.tenant("hooks")
	b.endpoint("hooks")
	fns := map[string][]string{}
	for range 6 {
		for _, tenant := range []string{"fn-a", "fn-b"} {
			fns[tenant] = append(fns[tenant], b.publishOne(tenant))
		}
	}
	testwait.Until(t, "both tenants' functions to be running", func() bool { return sandbox.started("fn-a") && sandbox.started("fn-b") })

	webhook := b.publishOne("hooks")
	testwait.Until(t, "the other tenant's webhook to reach its receiver while the functions still run", func() bool { return b.recv.count() == 1 })
	if n := sandbox.finished(); n != 0 {
		t.Fatalf("%d function runs had finished; the test lets none finish before the webhook arrives", n)
	}
	b.waitStatus("hooks", outlet.StatusSucceeded, webhook)

	sandbox.finish()
	for tenant, ids := range fns {
		b.waitStatus(tenant, outlet.StatusSucceeded, ids...)
	}
	for tenant, most := range sandbox.most() {
		if most > 1 {
			t.Errorf("tenant %s had %d function deliveries handed to the sandbox at once; FunctionTenantMax 1 allows 1", tenant, most)
		}
	}
}

func TestShutdownGivesBackFunctionDeliveriesRunningAndWaitingTheirTurn(t *testing.T) {
	t.Parallel()
	sandbox := newSaturatedRunner()
	b := setup(t, func(c *Config) {
		c.FunctionTenantMax = 1
		c.Functions = sandbox
	})
	t.Cleanup(sandbox.finish)
	b.tenant("acme")
	b.function("acme", "slow")
	ids := []string{b.publishOne("acme"), b.publishOne("acme"), b.publishOne("acme")}
	testwait.Until(t, "a run to start", func() bool { return sandbox.started("acme") })

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // past the deadline at once: the run is cut short
	check(t, b.d.Shutdown(ctx))

	for _, id := range ids {
		if d := b.delivery("acme", id); d.Status != outlet.StatusPending || d.InFlight || d.Attempts != 0 {
			t.Errorf("a function delivery after shutdown: %s, in flight %v, %d attempts; want it given back unattempted", d.Status, d.InFlight, d.Attempts)
		}
	}
	if got := b.claimAs("node-b"); !sameIDs(got, ids) {
		t.Errorf("another node claimed %v right after shutdown; want all three function deliveries %v", got, ids)
	}
}

// saturatedRunner holds every run until finish, counting the runs of each
// tenant in it at once.
type saturatedRunner struct {
	mu      sync.Mutex
	running map[string]int
	peak    map[string]int
	done    int
	gate    chan struct{}
	once    sync.Once
}

func newSaturatedRunner() *saturatedRunner {
	return &saturatedRunner{running: map[string]int{}, peak: map[string]int{}, gate: make(chan struct{})}
}

func (r *saturatedRunner) RunEvent(ctx context.Context, e EventRun) FunctionRun {
	r.mu.Lock()
	r.running[e.TenantID]++
	r.peak[e.TenantID] = max(r.peak[e.TenantID], r.running[e.TenantID])
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running[e.TenantID]--
		r.done++
		r.mu.Unlock()
	}()
	select {
	case <-r.gate:
		return FunctionRun{Version: 1, Output: []byte(`{}`)}
	case <-ctx.Done():
		return FunctionRun{Version: 1, ErrCode: "timeout", ErrMsg: "the node is shutting down"}
	}
}

func (r *saturatedRunner) finish() { r.once.Do(func() { close(r.gate) }) }

func (r *saturatedRunner) started(tenant string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running[tenant] > 0
}

func (r *saturatedRunner) finished() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

func (r *saturatedRunner) most() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.peak)
}
