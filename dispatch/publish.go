package dispatch

import (
	"context"
	"maps"
	"time"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/tracing"
)

// Publish stores an event and its deliveries durably, and starts delivering
// them from this node: a batch of one (see PublishBatch).
func (d *Dispatcher) Publish(ctx context.Context, ev *outlet.Event) (outlet.PublishOutcome, error) {
	rs, err := d.PublishBatch(ctx, []*outlet.Event{ev})
	if err != nil {
		return outlet.PublishOutcome{}, err
	}
	return rs[0], rs[0].Err
}

// PublishBatch stores events and their deliveries durably, in one
// transaction, and starts delivering them from this node. It returns once
// they are committed, with each event's outcome in order: an event refused
// by the store (a conflicting idempotency key, say) fails in its Err alone.
// An error means none was stored. The deliveries are claimed for this node
// while it has room to hold them; beyond that they wait in the store for
// the poller.
//
// The events keep the trace context of the publish's span (or, with
// tracing off, the one ctx came with), so that their deliveries carry it on.
func (d *Dispatcher) PublishBatch(ctx context.Context, evs []*outlet.Event) (_ []outlet.PublishOutcome, err error) {
	if d.stopped.Load() {
		return nil, outlet.Errorf(outlet.EUNAVAILABLE, "this node is shutting down; publish again")
	}
	if len(evs) == 0 {
		return nil, nil
	}
	ctx, span := d.tracer.Start(ctx, "publish", tracing.AsProducer...)
	defer span.End()
	tc := tracing.Of(ctx)
	if span.IsRecording() {
		setPublishAttributes(span, evs)
		defer func() { endPublish(span, evs, err) }()
	}
	now := d.cfg.Now()
	reqs := make([]*outlet.PublishRequest, len(evs))
	// A tenant may fill at most half of what this node holds, so others'
	// fresh events are still sent at once while it has a flood queued. The
	// budget counts events, each of which makes one delivery or more.
	budget := map[string]int{}
	holds := map[string]map[string]time.Time{}
	// An endpoint with many claims queued takes only so many more; its
	// deliveries beyond that are parked in the store unclaimed, and pulled
	// as soon as it has room, rather than claimed to be sent back. (An
	// event may not go to every endpoint of its tenant, so this counts
	// high: it parks rather than claims too many.)
	room := map[string]map[string]int{}
	parking := map[targetKey]bool{}
	for i, ev := range evs {
		ev.Trace = tc
		t := ev.TenantID
		if _, ok := holds[t]; !ok {
			holds[t] = d.sched.holds(t, now)
			room[t] = d.sched.endpointRoom(t, len(evs))
			budget[t] = min(d.room(), d.cfg.MaxHeld/2-d.sched.tenantQueued(t)-d.fnSched.tenantQueued(t))
		}
		hold, own := holds[t], false
		for ep, r := range room[t] {
			if _, held := hold[ep]; held {
				continue
			}
			if r > 0 {
				room[t][ep] = r - 1
				continue
			}
			if !own { // holds[t] is shared by the tenant's events
				hold, own = maps.Clone(hold), true
				if hold == nil {
					hold = map[string]time.Time{}
				}
			}
			hold[ep] = now.Add(parkFor)
			parking[targetKey{t, outlet.Target{Type: outlet.TargetEndpoint, ID: ep}}] = true
		}
		reqs[i] = &outlet.PublishRequest{Event: ev, Hold: hold}
		if budget[t] > 0 {
			budget[t]--
			reqs[i].LeaseOwner, reqs[i].LeaseUntil = d.cfg.Owner, now.Add(d.cfg.Lease)
		}
	}
	results, err := d.store.PublishEvents(ctx, reqs, now)
	if err != nil {
		return nil, err
	}
	for key := range parking {
		d.sched.park(key)
	}
	stored, due := 0, false
	for _, r := range results {
		if r.Err != nil {
			continue
		}
		d.enqueue(r.Claims)
		due = due || r.DueNow > 0
		if !r.Replayed {
			stored++
		}
	}
	if due {
		d.nudge() // some wait in the store, due: ordered, or beyond what this node holds
	}
	d.cfg.Metrics.EventsPublished.Add(float64(stored))
	if span.IsRecording() && len(results) == 1 {
		if r := results[0]; r.Err != nil {
			endPublish(span, evs, r.Err)
		} else {
			// A replay answers with the event stored first, under its own id.
			span.SetAttributes(tracing.EventID.String(r.Event.ID), tracing.Deliveries.Int(r.Deliveries), tracing.Replayed.Bool(r.Replayed))
		}
	}
	return results, nil
}

// setPublishAttributes names what a publish is of: its tenant, and its
// event's type, or for a batch, how many events it holds.
func setPublishAttributes(span trace.Span, evs []*outlet.Event) {
	if len(evs) == 0 {
		return
	}
	span.SetAttributes(tracing.Tenant.String(evs[0].TenantID))
	if len(evs) == 1 {
		span.SetAttributes(tracing.EventType.String(evs[0].Type))
	} else {
		span.SetAttributes(tracing.BatchSize.Int(len(evs)))
	}
}

// endPublish marks a publish that stored nothing, or a single event's that
// the store refused, as failed.
func endPublish(span trace.Span, evs []*outlet.Event, err error) {
	if err != nil {
		if len(evs) == 1 {
			span.SetAttributes(tracing.EventID.String(evs[0].ID))
		}
		span.SetAttributes(semconv.ErrorTypeKey.String(outlet.ErrorCode(err)))
		span.SetStatus(codes.Error, "")
	}
}

// Retry makes one more attempt of a delivery now, from this node.
func (d *Dispatcher) Retry(ctx context.Context, tenantID, deliveryID string) (*outlet.Delivery, error) {
	now := d.cfg.Now()
	c, err := d.store.RetryDelivery(ctx, tenantID, deliveryID, d.cfg.Owner, now, now.Add(d.cfg.Lease))
	if err != nil {
		return nil, err
	}
	d.enqueue([]*outlet.Claim{c})
	return c.Delivery, nil
}

// Recover re-sends every failed delivery of an endpoint created since then.
func (d *Dispatcher) Recover(ctx context.Context, tenantID, endpointID string, since time.Time) (int, error) {
	n, err := d.store.RecoverEndpoint(ctx, tenantID, endpointID, since, d.cfg.Now())
	if n > 0 {
		d.nudge()
	}
	return n, err
}

// CheckURL applies the network policy to an endpoint URL at registration.
func (d *Dispatcher) CheckURL(raw string) error { return d.cfg.Policy.CheckURL(raw) }
