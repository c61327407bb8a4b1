package outlet

import (
	"context"
	"time"
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery states.
const (
	StatusPending   DeliveryStatus = "pending"
	StatusSucceeded DeliveryStatus = "succeeded"
	StatusFailed    DeliveryStatus = "failed"
)

// AttemptTrigger is why an attempt was made.
type AttemptTrigger string

// Attempt triggers.
const (
	TriggerScheduled AttemptTrigger = "scheduled" // the first try or a retry on the schedule
	TriggerManual    AttemptTrigger = "manual"    // a caller asked for one more attempt
	TriggerRecover   AttemptTrigger = "recover"   // a recover of the endpoint re-sent it
)

// TargetType is what kind of target a delivery goes to.
type TargetType string

// Target types.
const (
	TargetEndpoint TargetType = "endpoint"
	TargetFunction TargetType = "function"
)

// Target is where a delivery goes.
type Target struct {
	Type TargetType `json:"type"`
	ID   string     `json:"id"`
}

// Delivery is one event sent to one target, with its attempts.
type Delivery struct {
	ID            string         `json:"id"`
	TenantID      string         `json:"tenant_id"`
	EventID       string         `json:"event_id"`
	EventType     string         `json:"event_type"`
	Target        Target         `json:"target"`
	Status        DeliveryStatus `json:"status"`
	Attempts      int            `json:"attempts"`
	NextAttemptAt *time.Time     `json:"next_attempt_at"` // when the next attempt is due; nil unless waiting for one
	// InFlight is set while a node holds the delivery: it is being sent, or
	// about to be. If that node stops, the delivery is due again when its
	// claim runs out.
	InFlight bool `json:"in_flight"`
	// Ordered deliveries go out one at a time per endpoint, in publish order.
	Ordered       bool       `json:"ordered,omitempty"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`

	// Trigger is why the next attempt will be made.
	Trigger AttemptTrigger `json:"-"`
	// SingleAttempt is set when a finished delivery was re-opened by a caller:
	// it gets one attempt, not a new schedule.
	SingleAttempt bool `json:"-"`
}

// Attempt is one try to send a delivery.
type Attempt struct {
	ID                string            `json:"id"`
	DeliveryID        string            `json:"delivery_id"`
	Number            int               `json:"number"`
	Trigger           AttemptTrigger    `json:"trigger"`
	URL               string            `json:"url"`
	StartedAt         time.Time         `json:"started_at"`
	DurationMs        int64             `json:"duration_ms"`
	Succeeded         bool              `json:"succeeded"`
	StatusCode        int               `json:"status_code"` // 0 when no answer came
	ResponseHeaders   map[string]string `json:"response_headers"`
	ResponseBody      string            `json:"response_body"`
	ResponseTruncated bool              `json:"response_truncated"`
	Error             string            `json:"error"` // why it failed, when it did not get an answer or got a non-2xx
	// For a function: the version that ran and its console output.
	FunctionVersion int    `json:"function_version,omitempty"`
	Logs            string `json:"logs,omitempty"`
}

// MaxResponseBody caps how much of a receiver's answer is kept per attempt.
const MaxResponseBody = 16 << 10

// Claim is a delivery a node holds the right to attempt, with what it needs to
// do so. Endpoint is nil when the endpoint was deleted, or the target is a
// function; Event is nil when retention deleted the event (on Postgres a
// delivery written days after its event can outlive it), and Event.Data nil
// when an earlier release's retention removed only the payload. A function
// target runs the version active when it is attempted.
type Claim struct {
	Delivery *Delivery
	Event    *Event
	Endpoint *Endpoint
}

// AttemptOutcome records a finished attempt and what becomes of its delivery.
type AttemptOutcome struct {
	TenantID   string
	DeliveryID string
	EndpointID string
	Attempt    *Attempt // ID, DeliveryID and Number are filled in by the store
	// Status is the delivery's new status; NextAttemptAt is when to try again
	// while it stays pending.
	Status        DeliveryStatus
	NextAttemptAt time.Time
	// Ordered is set for a delivery to an ordered endpoint: recording it lets
	// the next one of the endpoint go.
	Ordered bool
	// Owner is the node whose claim the attempt was made under. If another
	// node has claimed the delivery since (this one's lease ran out), the
	// outcome is dropped: the other node's attempt is the one recorded.
	// Empty skips the check.
	Owner string
}

// Urgent reports whether o should be recorded at once rather than wait a
// little to share a commit with others: the next delivery of an ordered
// endpoint stays in the store until this one's is recorded, and a failure
// may disable its endpoint or be due again soon. Successes are the many that
// can wait; the cost of a crash meanwhile is an attempt made again, as for
// any outcome not yet recorded.
func (o *AttemptOutcome) Urgent() bool { return o.Ordered || o.Attempt == nil || !o.Attempt.Succeeded }

// DeliveryFilter selects deliveries to list.
type DeliveryFilter struct {
	Page
	EventID    string
	EndpointID string
	Function   string // deliveries to this function of the tenant
	Status     DeliveryStatus
	Since      time.Time // created at or after
	Before     time.Time // created before
}

// Purged counts what a pass of retention deleted.
type Purged struct {
	// Events, Deliveries and Attempts count whole records deleted. A store
	// that drops partitions counts from the database's statistics, so
	// these may be estimates.
	Events      int
	Deliveries  int
	Attempts    int
	Invocations int // function invocation logs
	// Partitions counts the day partitions dropped, on a store that keeps
	// its records in them (Postgres).
	Partitions int
	// HeldBy is the id of the oldest delivery, still pending, that kept
	// expired records from being deleted: itself, its event and its
	// attempts (and, on Postgres, everything else in the day partitions
	// that hold them). They are deleted once it has finished. Empty if none.
	HeldBy string
	// More is set when the pass stopped at its limit: call again.
	More bool
}

// QueueStats describes the work waiting to be sent.
type QueueStats struct {
	Pending   int        // deliveries not yet finished
	OldestDue *time.Time // the earliest time any pending delivery became due
}

// DeliveryStore keeps deliveries and attempts, and is the durable queue the
// dispatcher claims work from.
type DeliveryStore interface {
	Delivery(ctx context.Context, tenantID, id string) (*Delivery, error)
	ListDeliveries(ctx context.Context, tenantID string, f DeliveryFilter) ([]*Delivery, string, error)
	ListAttempts(ctx context.Context, tenantID, deliveryID string) ([]*Attempt, error)

	// ClaimDue leases up to limit pending deliveries that are due at now and
	// held by nobody (or by a lease that ran out) to owner until leaseUntil.
	// Of an ordered endpoint's pending deliveries only the oldest may be
	// claimed, and only while it is due: the next waits for it to finish.
	ClaimDue(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*Claim, error)
	// ClaimParked leases to owner, until leaseUntil, up to limit of an
	// endpoint's deliveries that wait unclaimed and unattempted, due no
	// later than before, earliest due first, whether due yet or not: those
	// a node left in the store while the endpoint had no room, pulled
	// as soon as it has. Ordered deliveries are never taken.
	ClaimParked(ctx context.Context, owner, endpointID string, before, leaseUntil time.Time, limit int) ([]*Claim, error)
	// CompleteAttempts records finished attempts, moves their deliveries on and
	// releases their leases, in one transaction. An ordered delivery that
	// finished makes the next of its endpoint due. Each endpoint's failing streak
	// is updated, and an endpoint whose streak began before disableBefore and
	// has just failed again is disabled. It returns the ids of the endpoints it
	// disabled, and fills in the ID, DeliveryID and Number of each attempt it
	// recorded; after an error those fields mean nothing (the stores may have
	// filled them in for a transaction that was then undone).
	CompleteAttempts(ctx context.Context, outcomes []*AttemptOutcome, now, disableBefore time.Time) ([]string, error)
	// ReleaseClaims gives up owner's leases on the deliveries, unattempted,
	// making them due at dueAt: now, or later to hold them back (an endpoint
	// whose circuit is open, or that has more waiting than it can take).
	ReleaseClaims(ctx context.Context, owner string, deliveryIDs []string, dueAt time.Time) error
	// RenewClaims extends owner's leases on the deliveries it still holds.
	RenewClaims(ctx context.Context, owner string, deliveryIDs []string, leaseUntil time.Time) error
	// RetryDelivery makes a delivery due at once and claims it for owner. A
	// finished delivery gets one attempt; a pending one keeps its schedule.
	RetryDelivery(ctx context.Context, tenantID, id, owner string, now, leaseUntil time.Time) (*Claim, error)
	// RecoverEndpoint makes every failed delivery of the endpoint created at
	// or after since due at once, for one more attempt each, and counts them.
	RecoverEndpoint(ctx context.Context, tenantID, endpointID string, since, now time.Time) (int, error)
	// NextDue returns when the earliest pending delivery is due, a claimed one
	// being due again when its lease runs out; nil if none is pending.
	NextDue(ctx context.Context) (*time.Time, error)
	QueueStats(ctx context.Context) (QueueStats, error)
	// PurgeExpired deletes what is older than cutoff: events with their
	// deliveries and attempts, and function invocation logs. A delivery
	// still pending is never deleted, nor its event or its attempts. A
	// store deletes at most limit records of a kind per call, or, if it
	// keeps records in partitions by time, drops the partitions whose
	// whole range is older than cutoff and that hold nothing pending.
	PurgeExpired(ctx context.Context, cutoff time.Time, limit int) (Purged, error)
}

// DisabledFailing is the reason recorded when Outlet disables an endpoint that
// kept failing.
const DisabledFailing = "failing: every attempt failed for longer than the disable period"

// StreakUpdate is what a batch of attempts did to an endpoint's failing streak.
type StreakUpdate struct {
	TenantID string
	// FailingSince is nil when the last attempt succeeded; otherwise when the
	// batch's last run of failures began.
	FailingSince *time.Time
	// Restarted is set when a success in the batch broke an earlier streak, so
	// FailingSince replaces the stored one instead of extending it.
	Restarted bool
}

// EndpointStreaks sums up, per endpoint, what a batch of attempt outcomes (in
// the order they finished) did to its failing streak. Outcomes without an
// endpoint are not attempts against one and don't count.
func EndpointStreaks(outcomes []*AttemptOutcome) map[string]StreakUpdate {
	out := map[string]StreakUpdate{}
	for _, o := range outcomes {
		if o.EndpointID == "" {
			continue
		}
		st, seen := out[o.EndpointID]
		switch {
		case o.Attempt.Succeeded:
			out[o.EndpointID] = StreakUpdate{TenantID: o.TenantID, Restarted: true}
		case st.FailingSince == nil:
			at := o.Attempt.StartedAt
			out[o.EndpointID] = StreakUpdate{TenantID: o.TenantID, FailingSince: &at, Restarted: seen}
		}
	}
	return out
}

// CanRetry says whether a caller may ask for one more attempt of d now.
// leaseEnd is when the claim of the node holding d runs out; nil if none does.
func CanRetry(d *Delivery, leaseEnd *time.Time, now time.Time) error {
	if d.InFlight && leaseEnd != nil && leaseEnd.After(now) {
		return Errorf(ECONFLICT, "delivery %s has an attempt in flight; ask again once it has finished", d.ID)
	}
	return nil
}

// CanResend says whether a claimed delivery can be sent again at all.
func CanResend(c *Claim) error {
	if c.Event == nil || c.Event.Data == nil {
		return Errorf(ECONFLICT, "the payload of event %s was deleted after the retention period, so it can't be sent again", c.Delivery.EventID)
	}
	if c.Delivery.Target.Type == TargetEndpoint {
		if c.Endpoint == nil {
			return Errorf(ECONFLICT, "endpoint %s was deleted", c.Delivery.Target.ID)
		}
		if c.Endpoint.Disabled {
			return Errorf(ECONFLICT, "endpoint %s is disabled; enable it before re-sending its deliveries", c.Endpoint.ID)
		}
	}
	return nil
}

// Reopen makes d pending again for an attempt a caller asked for, claimed by
// the node that will make it. A finished delivery gets that one attempt only;
// a pending one keeps its schedule afterwards.
func (d *Delivery) Reopen(trigger AttemptTrigger, now time.Time) {
	d.SingleAttempt = d.Status != StatusPending
	d.Status, d.Trigger, d.UpdatedAt = StatusPending, trigger, now
	d.NextAttemptAt, d.InFlight = nil, true
}
