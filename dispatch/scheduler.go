package dispatch

import (
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/outlethq/outlet"
)

// FlowConfig is how the dispatcher protects receivers from being flooded.
// Zero values take the defaults in brackets.
type FlowConfig struct {
	// MaxInFlight caps attempts in flight to one endpoint from this node,
	// unless the endpoint sets its own [10].
	MaxInFlight int
	// BreakerFailures is how many attempts in a row must fail (no answer,
	// 5xx or 429) before this node stops sending to an endpoint [5].
	BreakerFailures int
	BreakerOff      bool // never open a circuit
	// BreakerCooldown is how long the circuit stays open before one probe
	// is sent; it doubles after every failed probe, up to BreakerMaxCooldown
	// [10s, 5m].
	BreakerCooldown    time.Duration
	BreakerMaxCooldown time.Duration
	// MaxQueued caps the claims waiting in memory for one endpoint; beyond it
	// new work for the endpoint is left in the store for later, so a slow
	// endpoint can't fill the memory every other one needs [MaxHeld/4].
	MaxQueued int
}

func (c *FlowConfig) defaults(maxHeld int) {
	setDefault(&c.MaxInFlight, 10)
	setDefault(&c.BreakerFailures, 5)
	setDefault(&c.BreakerCooldown, 10*time.Second)
	setDefault(&c.BreakerMaxCooldown, 5*time.Minute)
	setDefault(&c.MaxQueued, max(maxHeld/4, 1))
}

// scheduler holds the claims a node will send, and picks which one a free
// worker sends next:
//
//   - tenants take turns, so one tenant's backlog can't hold up another's
//     work for longer than a turn, and no tenant may occupy every worker;
//   - each endpoint has at most its in-flight limit of attempts out at once,
//     and no more per second than its rate limit;
//   - an endpoint whose attempts keep failing gets a circuit breaker: its
//     work is put back in the store until a cooldown ends, then one probe
//     goes out, and sending resumes only once a probe succeeds.
//
// A dispatcher keeps two: one for webhooks and one for deliveries to
// functions, each with workers of its own, so that functions waiting for the
// sandbox never keep a webhook from a worker. Function targets have no
// endpoint limits; instead a tenant gets no more runs at once than the
// sandbox lets it make, so the rest wait here, in the queue, not in a worker.
type scheduler struct {
	cfg       FlowConfig
	tenantMax int // in-flight attempts one tenant may have, of all workers
	now       func() time.Time
	// onBreaker is told when c's attempt opened a circuit (until then) or
	// closed it.
	onBreaker func(c *outlet.Claim, open bool, until time.Time)
	ready     chan struct{} // a value when work may be ready for a worker
	mu        sync.Mutex
	tenants   map[string]*tenantFlow
	turns     []*tenantFlow // tenants with queued work, in turn order
	turn      int
	targets   map[targetKey]*targetFlow
	queued    int
	// open lists, per tenant, its endpoints whose circuits are open and when
	// each half-opens.
	open map[string]map[string]time.Time
	// onRoom, when set, is told that an endpoint with deliveries parked in
	// the store (see park) has room for them.
	onRoom func(targetKey)
}

type tenantFlow struct {
	id       string
	queued   int           // claims waiting, over all its targets
	inFlight int           // attempts out now
	ready    []*targetFlow // its targets with queued work, in turn order
	turn     int
	inTurns  bool
	// endpoints are its endpoints' flows, as long as s.targets keeps them.
	endpoints map[string]*targetFlow
}

// targetKey names a target: function names are only unique within a tenant.
type targetKey struct {
	tenant string
	target outlet.Target
}

type targetFlow struct {
	key      targetKey
	target   outlet.Target
	tenant   *tenantFlow
	queue    []*outlet.Claim
	inFlight int
	maxIn    int // 0: no limit (functions)
	limiter  *rate.Limiter
	ratePer  int
	inReady  bool

	took time.Duration // how long attempts take, on average of the recent ones
	// parked is set while publishes have left deliveries of the endpoint
	// in the store for lack of room; parkedGen counts those publishes.
	parked    bool
	parkedGen uint64

	// The circuit breaker.
	failures  int           // unanswered attempts in a row
	openUntil time.Time     // zero while closed
	cooldown  time.Duration // the next cooldown if the probe fails
	probing   bool          // the one probe is out
}

// newScheduler makes a scheduler for workers. One tenant may occupy at most
// perTenant of them (0: no limit of its own), and never all.
func newScheduler(cfg FlowConfig, workers, perTenant int, now func() time.Time, onBreaker func(*outlet.Claim, bool, time.Time)) *scheduler {
	// Leave an eighth of the workers (at least one) to other tenants.
	tenantMax := max(workers-max(workers/8, 1), 1)
	if perTenant > 0 {
		tenantMax = min(tenantMax, perTenant)
	}
	return &scheduler{
		cfg:       cfg,
		tenantMax: tenantMax,
		now:       now,
		onBreaker: onBreaker,
		ready:     make(chan struct{}, 1),
		tenants:   map[string]*tenantFlow{},
		targets:   map[targetKey]*targetFlow{},
		open:      map[string]map[string]time.Time{},
	}
}

// admission is what the scheduler did with a claim handed to it.
type admission int

const (
	admitted admission = iota
	// heldOpen: the endpoint's circuit is open; the claim goes back to the
	// store, due when the circuit half-opens.
	heldOpen
	// heldBacklog: the endpoint has all the claims waiting it may; the claim
	// goes back to the store for later.
	heldBacklog
	// heldParked: as heldBacklog, for a claim a pull can take back as soon
	// as the endpoint has room (never attempted, not ordered): it goes back
	// to the store parked (see park).
	heldParked
)

// add queues a claim, or says why it must go back to the store and when it
// should be due again.
func (s *scheduler) add(c *outlet.Claim) (admission, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tf := s.target(c)
	now := s.now()
	switch {
	case tf.coolingDown(now):
		return heldOpen, tf.openUntil
	case len(tf.queue) >= s.cfg.MaxQueued && parkable(c):
		return heldParked, now.Add(parkFor)
	case len(tf.queue) >= s.cfg.MaxQueued:
		return heldBacklog, now.Add(tf.drainTime())
	}
	tf.queue = append(tf.queue, c)
	tf.tenant.queued++
	s.queued++
	s.markReady(tf)
	s.signal()
	return admitted, time.Time{}
}

// target returns the flow state of a claim's target, creating it, and takes
// the endpoint's current settings from the claim.
func (s *scheduler) target(c *outlet.Claim) *targetFlow {
	tf := s.flow(targetKey{c.Delivery.TenantID, c.Delivery.Target})
	if ep := c.Endpoint; ep != nil {
		tf.maxIn = s.cfg.MaxInFlight
		if ep.MaxInFlight > 0 {
			tf.maxIn = ep.MaxInFlight
		}
		if ep.RateLimit != tf.ratePer {
			tf.ratePer, tf.limiter = ep.RateLimit, nil
			if ep.RateLimit > 0 {
				tf.limiter = rate.NewLimiter(rate.Limit(ep.RateLimit), max(ep.RateLimit/10, 1))
			}
		}
	}
	return tf
}

// flow returns the flow state of a target, creating it.
func (s *scheduler) flow(key targetKey) *targetFlow {
	tn := s.tenants[key.tenant]
	tf := s.targets[key]
	switch {
	case tn == nil && tf != nil:
		// The tenant was forgotten while its target kept breaker or rate
		// state; it had nothing queued or in flight, so it can come back.
		tn = tf.tenant
		s.tenants[tn.id] = tn
	case tn == nil:
		tn = &tenantFlow{id: key.tenant}
		s.tenants[tn.id] = tn
	}
	if tf == nil {
		tf = &targetFlow{key: key, target: key.target, tenant: tn, cooldown: s.cfg.BreakerCooldown}
		s.targets[key] = tf
		if tf.target.Type == outlet.TargetEndpoint {
			if tn.endpoints == nil {
				tn.endpoints = map[string]*targetFlow{}
			}
			tn.endpoints[tf.target.ID] = tf
		}
	}
	// The same tenant; a new record of it only if the old one was forgotten,
	// which it was only with nothing queued or in flight.
	tf.tenant = tn
	return tf
}

func (s *scheduler) markReady(tf *targetFlow) {
	if !tf.inReady {
		tf.inReady = true
		tf.tenant.ready = append(tf.tenant.ready, tf)
	}
	if tn := tf.tenant; !tn.inTurns {
		tn.inTurns = true
		s.turns = append(s.turns, tn)
	}
}

func (s *scheduler) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// drainTime guesses how long the target needs to work off its queue: when
// work sent back to the store for lack of room is worth claiming again.
func (tf *targetFlow) drainTime() time.Duration {
	parallel := max(tf.maxIn, 1)
	took := max(tf.took, time.Millisecond)
	d := time.Duration(len(tf.queue)) * took / time.Duration(parallel)
	if tf.ratePer > 0 {
		d = max(d, time.Duration(len(tf.queue))*time.Second/time.Duration(tf.ratePer))
	}
	return min(max(d, time.Second), 5*time.Minute)
}

// parkFor is how far ahead a publish makes due the deliveries it leaves
// in the store for an endpoint without room. This node pulls them as soon
// as the endpoint has room (ClaimParked); the due time only matters if it
// doesn't, having stopped, when any node's poller takes them then.
const parkFor = 30 * time.Second

// claimRound is the most deliveries one claim takes.
const claimRound = 500

// parkAt is how many claims an endpoint has queued when publishes leave
// its next deliveries in the store: so many that a pull of a claim round
// more still fits, and none has to be sent back; or, when it may queue
// less than two rounds, all it may.
func (s *scheduler) parkAt() int {
	if s.cfg.MaxQueued >= 2*claimRound {
		return s.cfg.MaxQueued - claimRound
	}
	return s.cfg.MaxQueued
}

// endpointRoom says, for each endpoint of the tenant this node is sending
// to, how many more claims a publish may add before it has parkAt queued;
// nil when each has room for n more (the common case, so it costs nothing).
func (s *scheduler) endpointRoom(tenantID string, n int) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	tn := s.tenants[tenantID]
	if tn == nil {
		return nil
	}
	tight := false
	for _, tf := range tn.endpoints {
		if s.parkAt()-len(tf.queue) < n {
			tight = true
			break
		}
	}
	if !tight {
		return nil
	}
	out := make(map[string]int, len(tn.endpoints))
	for id, tf := range tn.endpoints {
		out[id] = max(s.parkAt()-len(tf.queue), 0)
	}
	return out
}

// parkable reports whether a claim, given back to the store, is one that
// ClaimParked takes.
func parkable(c *outlet.Claim) bool {
	d := c.Delivery
	return d.Target.Type == outlet.TargetEndpoint && d.Attempts == 0 && !d.Ordered
}

// park notes that deliveries of the endpoint wait in the store unclaimed
// for lack of room (a publish left them there, or claims past the queue
// were given back), and asks for a pull if it has room by now. It is told
// once they are stored, not before: a pull that ran in between found none
// of them and may have forgotten the endpoint, idle by then.
func (s *scheduler) park(key targetKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tf := s.flow(key)
	tf.parked = true
	tf.parkedGen++
	s.roomAgain(tf)
}

// roomAgain tells onRoom when a target with deliveries parked has drained
// far enough for a pull of them.
func (s *scheduler) roomAgain(tf *targetFlow) {
	if tf.parked && s.onRoom != nil && len(tf.queue) <= max(s.parkAt()-claimRound, s.parkAt()/2) {
		s.onRoom(tf.key)
	}
}

// pullRoom says how many parked deliveries the target may take now, and
// the count of parking publishes so far, for unpark.
func (s *scheduler) pullRoom(key targetKey) (int, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tf := s.targets[key]
	if tf == nil || !tf.parked {
		return 0, 0
	}
	return max(s.parkAt()-len(tf.queue), 0), tf.parkedGen
}

// unpark notes that a pull found no more deliveries parked, unless a
// publish has parked more since the pull began (gen).
func (s *scheduler) unpark(key targetKey, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tf := s.targets[key]; tf != nil && tf.parkedGen == gen {
		tf.parked = false
		s.forget(tf)
	}
}

// coolingDown reports whether the target's circuit is open and not yet
// ready for its probe. Once it is (half-open), work queues again, waiting
// for the probe's answer.
func (tf *targetFlow) coolingDown(now time.Time) bool {
	return !tf.openUntil.IsZero() && now.Before(tf.openUntil)
}

// next takes the claim a free worker should send now, or nil, with how long
// to wait at most before asking again (0: until signalled).
func (s *scheduler) next() (*outlet.Claim, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var wait time.Duration
	for range len(s.turns) {
		s.turn %= len(s.turns)
		tn := s.turns[s.turn]
		s.turn++
		if tn.inFlight >= s.tenantMax {
			continue
		}
		c, w := s.takeFrom(tn, now)
		if w > 0 && (wait == 0 || w < wait) {
			wait = w
		}
		if c != nil {
			if s.queued > 0 {
				s.signal() // more may be ready: wake another worker
			}
			return c, 0
		}
	}
	return nil, wait
}

// takeFrom takes the next claim of one tenant whose target may be sent to
// now, its targets taking turns.
func (s *scheduler) takeFrom(tn *tenantFlow, now time.Time) (*outlet.Claim, time.Duration) {
	var wait time.Duration
	for range len(tn.ready) {
		tn.turn %= len(tn.ready)
		tf := tn.ready[tn.turn]
		tn.turn++
		if w, ok := tf.mayGo(now); !ok {
			if w > 0 && (wait == 0 || w < wait) {
				wait = w
			}
			continue
		}
		c := tf.queue[0]
		tf.queue[0] = nil
		tf.queue = tf.queue[1:]
		tf.inFlight++
		tn.inFlight++
		tn.queued--
		s.queued--
		if !tf.openUntil.IsZero() {
			tf.probing = true // half-open: this is the probe
		}
		s.roomAgain(tf)
		if len(tf.queue) == 0 {
			s.unready(tf)
		}
		return c, 0
	}
	return nil, wait
}

// mayGo reports whether an attempt may go to the target now, and if not
// because of time, how long until it may.
func (tf *targetFlow) mayGo(now time.Time) (time.Duration, bool) {
	if len(tf.queue) == 0 {
		return 0, false
	}
	if !tf.openUntil.IsZero() {
		if tf.probing {
			return 0, false
		}
		if now.Before(tf.openUntil) {
			return tf.openUntil.Sub(now), false
		}
	}
	if tf.maxIn > 0 && tf.inFlight >= tf.maxIn {
		return 0, false
	}
	if tf.limiter != nil {
		r := tf.limiter.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			return d, false
		}
	}
	return 0, true
}

// unready takes a target whose queue emptied out of its tenant's turns,
// and the tenant out of the scheduler's if it has no other target ready.
func (s *scheduler) unready(tf *targetFlow) {
	tf.queue = nil // let the emptied backing array go
	if !tf.inReady {
		return
	}
	tf.inReady = false
	tn := tf.tenant
	if i := slices.Index(tn.ready, tf); i >= 0 {
		tn.ready = slices.Delete(tn.ready, i, i+1)
		if i < tn.turn {
			tn.turn--
		}
	}
	if len(tn.ready) == 0 && tn.inTurns {
		tn.inTurns = false
		if i := slices.Index(s.turns, tn); i >= 0 {
			s.turns = slices.Delete(s.turns, i, i+1)
			if i < s.turn {
				s.turn--
			}
		}
	}
	s.forget(tf)
}

// forget drops the state of a target, and of its tenant, that have nothing
// left to remember. A target keeps its state while it has work, a failing
// streak or an open circuit, or a rate limiter still refilling (so the
// limit holds across bursts).
func (s *scheduler) forget(tf *targetFlow) {
	if tf.inFlight == 0 && len(tf.queue) == 0 && tf.failures == 0 && tf.openUntil.IsZero() && !tf.inReady && !tf.parked &&
		(tf.limiter == nil || tf.limiter.TokensAt(s.now()) >= float64(tf.limiter.Burst())) {
		delete(s.targets, tf.key)
		delete(tf.tenant.endpoints, tf.target.ID)
	}
	if tn := tf.tenant; tn.inFlight == 0 && tn.queued == 0 && !tn.inTurns {
		delete(s.tenants, tn.id)
	}
}

// verdict is what an attempt says about its receiver's health.
type verdict int

const (
	// untried: nothing was sent (the payload was gone, the endpoint
	// disabled, the node shutting down), so nothing was learnt.
	untried verdict = iota
	// reached: the receiver answered, with anything but a 5xx or a 429.
	reached
	// unreached: no answer, a 5xx or a 429.
	unreached
)

// done records the end of an attempt that took took. It returns the claims
// to put back in the store because the target's circuit just opened, with
// when they are due.
func (s *scheduler) done(c *outlet.Claim, v verdict, took time.Duration) ([]*outlet.Claim, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.signal()
	tf := s.targets[targetKey{c.Delivery.TenantID, c.Delivery.Target}]
	if tf == nil {
		return nil, time.Time{}
	}
	tf.inFlight--
	tf.tenant.inFlight--
	s.roomAgain(tf)
	defer s.forget(tf)
	if v == untried {
		tf.probing = false // no probe was made: the next claim may be one
		return nil, time.Time{}
	}
	if tf.took == 0 {
		tf.took = took
	} else {
		tf.took += (took - tf.took) / 8
	}
	if c.Endpoint == nil {
		return nil, time.Time{}
	}
	now := s.now()
	if v == reached {
		if !tf.openUntil.IsZero() {
			s.setOpen(tf, time.Time{})
			s.onBreaker(c, false, time.Time{})
		}
		tf.failures, tf.openUntil, tf.probing, tf.cooldown = 0, time.Time{}, false, s.cfg.BreakerCooldown
		return nil, time.Time{}
	}
	tf.failures++
	switch {
	case tf.probing:
		// The probe failed: cool down again, for longer.
		tf.probing = false
		s.setOpen(tf, now.Add(tf.cooldown))
		tf.cooldown = min(2*tf.cooldown, s.cfg.BreakerMaxCooldown)
	case tf.openUntil.IsZero() && tf.failures >= s.cfg.BreakerFailures && !s.cfg.BreakerOff:
		s.setOpen(tf, now.Add(tf.cooldown))
		tf.cooldown = min(2*tf.cooldown, s.cfg.BreakerMaxCooldown)
		s.onBreaker(c, true, tf.openUntil)
	default:
		return nil, time.Time{}
	}
	// Open: what waits for the endpoint goes back to the store until the
	// probe, rather than holding memory and workers.
	back := tf.queue
	tf.tenant.queued -= len(back)
	s.queued -= len(back)
	s.unready(tf)
	return back, tf.openUntil
}

// setOpen opens the target's circuit until then, or closes it (zero).
func (s *scheduler) setOpen(tf *targetFlow, until time.Time) {
	tf.openUntil = until
	tenant := tf.tenant.id
	if until.IsZero() {
		delete(s.open[tenant], tf.target.ID)
		if len(s.open[tenant]) == 0 {
			delete(s.open, tenant)
		}
		return
	}
	if s.open[tenant] == nil {
		s.open[tenant] = map[string]time.Time{}
	}
	s.open[tenant][tf.target.ID] = until
}

// holds returns the endpoints of a tenant whose circuits are open and
// cooling down, with when they half-open: a publish leaves their deliveries
// in the store until then.
func (s *scheduler) holds(tenantID string, now time.Time) map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out map[string]time.Time
	for id, until := range s.open[tenantID] {
		if now.Before(until) {
			if out == nil {
				out = map[string]time.Time{}
			}
			out[id] = until
		}
	}
	return out
}

// drain takes every queued claim, for shutdown.
func (s *scheduler) drain() []*outlet.Claim {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*outlet.Claim
	for _, tf := range s.targets {
		out = append(out, tf.queue...)
		tf.tenant.queued -= len(tf.queue)
		s.queued -= len(tf.queue)
		s.unready(tf)
	}
	return out
}

// tenantQueued is how many claims of the tenant wait in memory.
func (s *scheduler) tenantQueued(tenantID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tn := s.tenants[tenantID]; tn != nil {
		return tn.queued + tn.inFlight
	}
	return 0
}

// verdictOf judges an attempt that was sent: the receiver is alive and
// taking work unless it didn't answer, or answered with a 5xx or a 429.
func verdictOf(a *outlet.Attempt) verdict {
	if a.StatusCode != 0 && a.StatusCode < 500 && a.StatusCode != 429 {
		return reached
	}
	return unreached
}
