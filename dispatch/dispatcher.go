// Package dispatch turns published events into deliveries and delivers them:
// fan-out at publish, the delivery workers, retries, signing, and the
// SSRF-safe dialer.
package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/groupcommit"
	"github.com/outlethq/outlet/internal/metrics"
	"github.com/outlethq/outlet/internal/netguard"
	"github.com/outlethq/outlet/internal/tracing"
)

// Store is what the dispatcher needs of the store.
type Store interface {
	PublishEvents(ctx context.Context, reqs []*outlet.PublishRequest, now time.Time) ([]outlet.PublishOutcome, error)
	ClaimDue(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*outlet.Claim, error)
	ClaimParked(ctx context.Context, owner, endpointID string, before, leaseUntil time.Time, limit int) ([]*outlet.Claim, error)
	CompleteAttempts(ctx context.Context, outcomes []*outlet.AttemptOutcome, now, disableBefore time.Time) ([]string, error)
	ReleaseClaims(ctx context.Context, owner string, deliveryIDs []string, now time.Time) error
	RenewClaims(ctx context.Context, owner string, deliveryIDs []string, leaseUntil time.Time) error
	RetryDelivery(ctx context.Context, tenantID, id, owner string, now, leaseUntil time.Time) (*outlet.Claim, error)
	RecoverEndpoint(ctx context.Context, tenantID, endpointID string, since, now time.Time) (int, error)
	NextDue(ctx context.Context) (*time.Time, error)
	PurgeExpired(ctx context.Context, cutoff time.Time, limit int) (outlet.Purged, error)
	PurgeAuditLog(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// Config tunes a dispatcher. Zero values take the defaults in brackets.
type Config struct {
	Owner          string        // this node's name on the leases it takes
	Workers        int           // webhook attempts in flight at once [64]
	AttemptTimeout time.Duration // one attempt, connect to last byte [15s]
	Lease          time.Duration // how long a claim lasts unless renewed [60s]
	Retry          outlet.RetryPolicy
	DisableAfter   time.Duration // an endpoint failing this long is disabled [120h]
	PollInterval   time.Duration // the longest the dispatcher sleeps without looking for due work [1s]
	MaxHeld        int           // claims held in memory, queued or in flight [10000]
	Retention      time.Duration // keep events, deliveries and attempts this long; 0 keeps them forever
	AuditRetention time.Duration // keep the audit log's entries this long; 0 keeps them forever
	Policy         netguard.Policy
	Functions      FunctionRunner // runs deliveries to functions; nil refuses them
	// FunctionWorkers is how many deliveries to functions run at once, in a
	// pool of their own beside Workers, so that functions waiting for the
	// sandbox never keep a webhook waiting. Match the sandbox's limit for all
	// tenants (--function-max-parallel) [64].
	FunctionWorkers int
	// FunctionTenantMax is how many deliveries to one tenant's functions run
	// at once; the rest wait in the scheduler's queue rather than in a
	// worker. Match the sandbox's limit per tenant (--function-concurrency) [8].
	FunctionTenantMax int
	Flow              FlowConfig // per-endpoint limits and circuit breaking
	// Notifier hears of circuits opening and closing, endpoints disabled and
	// deliveries exhausted; nil: nobody.
	Notifier Notifier
	Now      func() time.Time
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
	// TracerProvider makes a span of every publish and every attempt; nil:
	// none, though a publish's trace context still reaches receivers.
	TracerProvider trace.TracerProvider
}

func (c *Config) defaults() {
	// Publishing claims deliveries for the owner, so every dispatcher needs a
	// name of its own.
	setDefault(&c.Owner, outlet.NewID("node_"))
	setDefault(&c.Workers, 64)
	setDefault(&c.FunctionWorkers, 64)
	setDefault(&c.FunctionTenantMax, 8)
	setDefault(&c.AttemptTimeout, 15*time.Second)
	setDefault(&c.Lease, 60*time.Second)
	setDefault(&c.DisableAfter, 120*time.Hour)
	setDefault(&c.PollInterval, time.Second)
	setDefault(&c.MaxHeld, 10000)
	if c.Retry.Schedule == nil {
		c.Retry.Schedule = outlet.DefaultRetrySchedule
	}
	setDefault(&c.Retry.MaxRetryAfter, time.Hour)
	c.Flow.defaults(c.MaxHeld)
	if c.Now == nil {
		c.Now = time.Now
	}
	clock := c.Now
	c.Now = func() time.Time { return clock().UTC().Truncate(time.Millisecond) }
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = metrics.New()
	}
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Dispatcher accepts events, and delivers them from this node.
//
// Deliveries of an event published here are created already claimed by this
// node and handed to the workers in memory, so the common case costs one
// commit to accept and one to record the outcome. Everything else — retries,
// work left by a node that stopped, deliveries beyond what fits in memory —
// is claimed from the store by the poller. Claims are leases: a node that dies
// stops renewing them, and when they run out the work is due again for any
// node.
type Dispatcher struct {
	cfg    Config
	store  Store
	sender *Sender
	log    *slog.Logger
	tracer trace.Tracer

	sched    *scheduler                     // webhooks, for the Workers
	fnSched  *scheduler                     // deliveries to functions, for the FunctionWorkers
	deferred *groupcommit.Batcher[deferral] // claims going back to the store for later
	held     sync.Map                       // delivery id → *hold: the claims to renew, queued or in flight
	heldN    atomic.Int64
	wake     chan struct{}
	starved  atomic.Bool // the poller stopped claiming because memory was full
	stopped  atomic.Bool // no more publishes
	complete *groupcommit.Batcher[outcome]

	stopClaiming  chan struct{}
	pollDone      chan struct{} // closed when the poller has stopped
	started       atomic.Bool
	stopWorkers   chan struct{}
	attemptCtx    context.Context
	cancelAttempt context.CancelFunc
	workers       sync.WaitGroup
	background    sync.WaitGroup
	stopOnce      sync.Once

	pullMu sync.Mutex
	pulls  map[targetKey]struct{} // endpoints with parked deliveries and room for them

	// firstMaintenance is the longest maintenance waits after Start for its
	// first round. Tests shorten it: without retention, rounds are an hour
	// apart and the first comes a minute after Start.
	firstMaintenance time.Duration
}

// New makes a dispatcher; Start sets it going.
func New(store Store, cfg Config) *Dispatcher {
	cfg.defaults()
	d := &Dispatcher{
		cfg:          cfg,
		store:        store,
		sender:       NewSender(cfg.Policy, cfg.AttemptTimeout, cfg.Now, cfg.Logger),
		log:          cfg.Logger,
		tracer:       tracing.Tracer(cfg.TracerProvider, "dispatch"),
		wake:         make(chan struct{}, 1),
		stopClaiming: make(chan struct{}),
		pollDone:     make(chan struct{}),
		stopWorkers:  make(chan struct{}),

		firstMaintenance: time.Minute,
	}
	d.attemptCtx, d.cancelAttempt = context.WithCancel(context.Background())
	d.complete = groupcommit.NewLingering(512, completeLinger, outcome.urgent, d.flushOutcomes)
	d.deferred = groupcommit.New(512, d.flushDeferred)
	d.sched = newScheduler(cfg.Flow, cfg.Workers, 0, cfg.Now, d.breakerChanged)
	d.fnSched = newScheduler(cfg.Flow, cfg.FunctionWorkers, cfg.FunctionTenantMax, cfg.Now, d.breakerChanged)
	d.sched.onRoom = d.pullLater
	return d
}

// schedulerOf returns the scheduler a claim is queued in.
func (d *Dispatcher) schedulerOf(c *outlet.Claim) *scheduler {
	if c.Delivery.Target.Type == outlet.TargetFunction {
		return d.fnSched
	}
	return d.sched
}

// Start runs the workers, the poller, lease renewal and retention.
func (d *Dispatcher) Start() {
	for range d.cfg.Workers {
		d.workers.Add(1)
		go d.work(d.sched)
	}
	for range d.cfg.FunctionWorkers {
		d.workers.Add(1)
		go d.work(d.fnSched)
	}
	d.started.Store(true)
	d.goBackground(func() {
		defer close(d.pollDone)
		d.poll()
	})
	d.goBackground(d.renewLeases)
	if _, partitioned := d.store.(outlet.Partitioner); partitioned || d.cfg.Retention > 0 || d.cfg.AuditRetention > 0 {
		d.goBackground(d.maintain)
	}
}

func (d *Dispatcher) goBackground(f func()) {
	d.background.Add(1)
	go func() {
		defer d.background.Done()
		f()
	}()
}

// Shutdown drains the dispatcher: it claims nothing new, lets attempts in
// flight finish (cutting them short when ctx ends), gives back the claims it
// didn't start, and records every outcome. Stop accepting publishes (the HTTP
// server) before calling it.
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	var err error
	d.stopOnce.Do(func() {
		// Past ctx, whatever still waits on the store (outcomes being retried
		// against a database that is down) gives up: its deliveries are due
		// again when their leases end.
		defer context.AfterFunc(ctx, d.cancelAttempt)()
		close(d.stopClaiming)
		d.stopped.Store(true)
		close(d.stopWorkers)
		done := make(chan struct{})
		go func() { d.workers.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			d.cancelAttempt() // attempts cut short are given back, not recorded
			<-done
		}
		if d.started.Load() {
			<-d.pollDone // a claim it was making lands before the queue is given back
		}
		d.releaseQueued()
		d.complete.Stop()
		d.deferred.Stop()
		d.cancelAttempt()
		d.background.Wait()
		if n := d.heldN.Load(); n > 0 {
			err = errors.New("some claims could not be given back; they will be due again when their leases end")
		}
	})
	return err
}

// hold is this node's hold on a claim, from when it is taken until it is
// given back or its attempt's outcome is recorded.
type hold struct {
	// recorded is set once the outcome is on its way to the store. The store
	// may then let the delivery be claimed again (a retry falling due, a
	// manual retry) before this node hears back: that claim is new work, not
	// this one again.
	recorded atomic.Bool
}

// enqueue hands claims to the scheduler, which holds them for the workers
// or sends them back to the store for later.
func (d *Dispatcher) enqueue(claims []*outlet.Claim) {
	for _, c := range claims {
		h := &hold{}
		if old, dup := d.held.LoadOrStore(c.Delivery.ID, h); !dup {
			d.heldN.Add(1)
		} else if !old.(*hold).recorded.Load() || !d.held.CompareAndSwap(c.Delivery.ID, old, h) {
			// Claimed again after its lease ran out while this node still
			// held it (renewals failed for a while): the copy held already
			// goes on, renewed.
			continue
		}
		switch adm, due := d.schedulerOf(c).add(c); adm {
		case heldOpen:
			d.deferClaim(c.Delivery.ID, due, "circuit_open")
		case heldBacklog:
			d.deferClaim(c.Delivery.ID, due, "backlog")
		case heldParked:
			// More than the endpoint may queue arrived at once (publishes
			// that each saw room, or a pull beside them): the rest goes
			// back parked, pulled as soon as the endpoint drains rather
			// than left until a guess of when it will have.
			d.deferral(deferral{id: c.Delivery.ID, due: due, park: &targetKey{c.Delivery.TenantID, c.Delivery.Target}}, "backlog")
		}
	}
}

// deferral is a claim to give back, due again at due; parked, for park's
// endpoint to pull, if park is set.
type deferral struct {
	id   string
	due  time.Time
	park *targetKey
}

func (d *Dispatcher) deferClaim(id string, due time.Time, reason string) {
	d.deferral(deferral{id: id, due: due}, reason)
}

func (d *Dispatcher) deferral(f deferral, reason string) {
	d.cfg.Metrics.Deferred.WithLabelValues(reason).Inc()
	if !d.deferred.Add(f) {
		d.forget(f.id) // shutting down: the lease runs out instead
	}
}

// flushDeferred gives claims back to the store, due when they said.
func (d *Dispatcher) flushDeferred(batch []deferral) {
	byDue := map[time.Time][]string{}
	parked := map[time.Time]map[targetKey]bool{}
	for _, f := range batch {
		byDue[f.due] = append(byDue[f.due], f.id)
		if f.park != nil {
			if parked[f.due] == nil {
				parked[f.due] = map[targetKey]bool{}
			}
			parked[f.due][*f.park] = true
		}
	}
	for due, ids := range byDue {
		// Forgotten first: once released, the poller may claim them again,
		// and that new claim must stay held.
		for _, id := range ids {
			d.forget(id)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := d.store.ReleaseClaims(ctx, d.cfg.Owner, ids, due); err != nil {
			d.log.Error("holding back deliveries failed; they will be due again when their leases end", "count", len(ids), "err", err)
		} else {
			for key := range parked[due] {
				d.sched.park(key) // stored, so a pull finds them
			}
		}
		cancel()
	}
}

func (d *Dispatcher) forget(id string) {
	if _, ok := d.held.LoadAndDelete(id); ok {
		d.heldN.Add(-1)
	}
}

// forgetHold forgets a claim unless a new claim of its delivery has taken
// its place.
func (d *Dispatcher) forgetHold(id string, h *hold) {
	if h == nil {
		return
	}
	if d.held.CompareAndDelete(id, h) {
		d.heldN.Add(-1)
	}
}

func (d *Dispatcher) room() int { return d.cfg.MaxHeld - int(d.heldN.Load()) }

// releaseQueued gives back the claims nobody started.
func (d *Dispatcher) releaseQueued() {
	var ids []string
	for _, c := range append(d.sched.drain(), d.fnSched.drain()...) {
		ids = append(ids, c.Delivery.ID)
	}
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.store.ReleaseClaims(ctx, d.cfg.Owner, ids, d.cfg.Now()); err != nil {
		d.log.Error("giving back unstarted claims failed; they will be due again when their leases end", "count", len(ids), "err", err)
	}
	for _, id := range ids {
		d.forget(id)
	}
}

func (d *Dispatcher) nudge() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// poll claims due work whenever some may be due: when woken (by this node,
// or through the store by another), when the earliest known due time comes,
// and at least every PollInterval.
func (d *Dispatcher) poll() {
	t := time.NewTimer(0)
	defer t.Stop()
	var others <-chan struct{}
	if w, ok := d.store.(outlet.Waker); ok {
		others = w.Wakeups()
	}
	for {
		select {
		case <-d.stopClaiming:
			return
		case <-t.C:
		case <-d.wake:
		case _, ok := <-others:
			if !ok {
				others = nil
			}
		}
		t.Reset(d.claimDue())
	}
}

// pollerRoom is how many more claims the poller may take: it leaves a tenth
// of what the node may hold to fresh publishes, so a backlog in the store
// can't crowd out new work of other tenants.
func (d *Dispatcher) pollerRoom() int { return d.room() - d.cfg.MaxHeld/10 }

// pullLater asks the poller to pull an endpoint's parked deliveries.
func (d *Dispatcher) pullLater(key targetKey) {
	d.askPull(key)
	d.nudge()
}

// askPull notes that the endpoint's parked deliveries are to be pulled at
// the poller's next pass.
func (d *Dispatcher) askPull(key targetKey) {
	d.pullMu.Lock()
	defer d.pullMu.Unlock()
	if d.pulls == nil {
		d.pulls = map[targetKey]struct{}{}
	}
	d.pulls[key] = struct{}{}
}

// pullParked claims the deliveries publishes parked in the store for the
// endpoints that have room for them again.
func (d *Dispatcher) pullParked(ctx context.Context) {
	d.pullMu.Lock()
	pulls := d.pulls
	d.pulls = nil
	d.pullMu.Unlock()
	for key := range pulls {
		room, gen := d.sched.pullRoom(key)
		if room <= 0 {
			continue // asked again when it drains further
		}
		if room = min(room, d.pollerRoom()); room <= 0 {
			// The endpoint has room but the node hasn't: others' work
			// fills it, whose draining doesn't ask for this pull again.
			// The next pass tries again.
			d.askPull(key)
			continue
		}
		now := d.cfg.Now()
		claims, err := d.store.ClaimParked(ctx, d.cfg.Owner, key.target.ID, now.Add(parkFor), now.Add(d.cfg.Lease), room)
		if err != nil {
			d.log.Error("claiming parked deliveries failed; they will be due later", "endpoint", key.target.ID, "err", err)
			continue
		}
		d.enqueue(claims)
		if len(claims) < room {
			d.sched.unpark(key, gen)
		}
	}
}

// claimDue claims what fits and returns how long to wait before looking again.
func (d *Dispatcher) claimDue() time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d.pullParked(ctx)
	claimed := 0
	for {
		room := d.pollerRoom()
		if room <= 0 {
			d.starved.Store(true)
			return d.cfg.PollInterval
		}
		limit := min(room, claimRound)
		now := d.cfg.Now()
		claims, err := d.store.ClaimDue(ctx, d.cfg.Owner, now, now.Add(d.cfg.Lease), limit)
		if err != nil {
			d.log.Error("claiming due deliveries failed", "err", err)
			return d.cfg.PollInterval
		}
		d.enqueue(claims)
		claimed += len(claims)
		if len(claims) < limit {
			break
		}
	}
	next, err := d.store.NextDue(ctx)
	if err != nil || next == nil {
		return d.cfg.PollInterval
	}
	wait := next.Sub(d.cfg.Now())
	if wait <= 0 && claimed == 0 {
		// Due, yet nothing could be claimed: it waits behind an ordered
		// delivery in flight (after a recover or a manual retry). Looking
		// again at once would only spin; the delivery before it finishing
		// wakes the poller.
		return d.cfg.PollInterval
	}
	return min(max(wait, time.Millisecond), d.cfg.PollInterval)
}

// renewLeases keeps this node's claims from running out while they wait in
// memory or are in flight.
func (d *Dispatcher) renewLeases() {
	t := time.NewTicker(d.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-d.attemptCtx.Done():
			return
		case <-t.C:
		}
		var ids []string
		d.held.Range(func(k, _ any) bool {
			ids = append(ids, k.(string))
			return true
		})
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), 500)]
			ids = ids[len(chunk):]
			ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Lease/3)
			err := d.store.RenewClaims(ctx, d.cfg.Owner, chunk, d.cfg.Now().Add(d.cfg.Lease))
			cancel()
			if err != nil {
				d.log.Error("renewing claims failed", "count", len(chunk), "err", err)
			}
		}
	}
}

// maintain runs, on the node that leads maintenance, what keeps the store in
// shape: partitions made ahead of time, on a store that has them, and
// records past their retention period deleted.
func (d *Dispatcher) maintain() {
	every := d.maintenanceEvery()
	t := time.NewTimer(min(every, d.firstMaintenance))
	defer t.Stop()
	for {
		select {
		case <-d.stopClaiming:
			return
		case <-t.C:
		}
		if d.leading() {
			if p, ok := d.store.(outlet.Partitioner); ok {
				d.makePartitions(p)
			}
			if d.cfg.Retention > 0 {
				d.purgeExpired()
			}
			if d.cfg.AuditRetention > 0 {
				d.purgeAuditLog()
			}
		}
		t.Reset(every)
	}
}

// maintenanceEvery is how often maintenance runs: hourly, or four times in
// the shortest retention period if that is sooner.
func (d *Dispatcher) maintenanceEvery() time.Duration {
	shortest := d.cfg.Retention
	if shortest == 0 || (d.cfg.AuditRetention > 0 && d.cfg.AuditRetention < shortest) {
		shortest = d.cfg.AuditRetention
	}
	if shortest == 0 {
		return time.Hour
	}
	return min(time.Hour, max(shortest/4, time.Second))
}

// makePartitions makes the store's partitions of today and the next days.
// Rounds come at least hourly and make days ahead, so a round that fails is
// made up by the next; and a write that finds no partition for its day makes
// it itself.
func (d *Dispatcher) makePartitions(p outlet.Partitioner) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.MaintainPartitions(ctx, d.cfg.Now()); err != nil {
		d.log.Error("making the store's partitions ahead of time failed; writes make them when they need them", "err", err)
	}
}

func (d *Dispatcher) purgeExpired() {
	cutoff := d.cfg.Now().Add(-d.cfg.Retention)
	var total outlet.Purged
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		p, err := d.store.PurgeExpired(ctx, cutoff, 1000)
		cancel()
		if err != nil {
			d.log.Error("retention: deleting expired records failed", "err", err)
			break
		}
		total.Events, total.Deliveries, total.Attempts = total.Events+p.Events, total.Deliveries+p.Deliveries, total.Attempts+p.Attempts
		total.Invocations, total.Partitions, total.HeldBy = total.Invocations+p.Invocations, total.Partitions+p.Partitions, p.HeldBy
		if !p.More {
			break
		}
	}
	if total.Events+total.Deliveries+total.Attempts+total.Invocations+total.Partitions > 0 {
		d.log.Info("retention: deleted expired records", "events", total.Events, "deliveries", total.Deliveries, "attempts", total.Attempts,
			"function_logs", total.Invocations, "partitions", total.Partitions, "older_than", cutoff)
	}
	if total.HeldBy != "" {
		d.log.Warn("retention: a delivery older than the retention period is still pending; it, its event and its attempts are kept "+
			"until it finishes (on Postgres, with everything else in the day partitions that hold them)",
			"delivery", total.HeldBy, "older_than", cutoff)
	}
}

func (d *Dispatcher) purgeAuditLog() {
	cutoff := d.cfg.Now().Add(-d.cfg.AuditRetention)
	total := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		n, err := d.store.PurgeAuditLog(ctx, cutoff, 1000)
		cancel()
		if err != nil {
			d.log.Error("retention: deleting expired audit entries failed", "err", err)
			break
		}
		if total += n; n < 1000 {
			break
		}
	}
	if total > 0 {
		d.log.Info("retention: deleted expired audit entries", "audit_entries", total, "older_than", cutoff)
	}
}

// leading reports whether this node runs maintenance: always on a store of
// its own, and on a shared one while the store says it leads.
func (d *Dispatcher) leading() bool {
	lead, err := outlet.Leads(d.store)
	if err != nil {
		d.log.Warn("can't tell whether this node leads maintenance; skipping this round", "err", err)
	}
	return lead
}
