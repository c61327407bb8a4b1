package dispatch

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/tracing"
)

// Publish stores an event and its deliveries durably, and starts delivering
// them from this node. It returns once the event is committed. The
// deliveries are claimed for this node while it has room to hold them;
// beyond that they wait in the store for the poller.
//
// The event keeps the trace context of the publish's span (or, with tracing
// off, the one ctx came with), so that its deliveries carry it on.
func (d *Dispatcher) Publish(ctx context.Context, ev *outlet.Event) (_ outlet.PublishOutcome, err error) {
	if d.stopped.Load() {
		return outlet.PublishOutcome{}, outlet.Errorf(outlet.EUNAVAILABLE, "this node is shutting down; publish again")
	}
	ctx, span := d.tracer.Start(ctx, "publish", tracing.AsProducer...)
	defer span.End()
	ev.Trace = tracing.Of(ctx)
	if span.IsRecording() {
		span.SetAttributes(tracing.Tenant.String(ev.TenantID), tracing.EventType.String(ev.Type))
		defer func() { endPublish(span, ev, err) }()
	}
	now := d.cfg.Now()
	req := &outlet.PublishRequest{Event: ev, Hold: d.sched.holds(ev.TenantID, now)}
	// A tenant may fill at most half of what this node holds, so others'
	// fresh events are still sent at once while it has a flood queued.
	if d.room() > 0 && d.sched.tenantQueued(ev.TenantID)+d.fnSched.tenantQueued(ev.TenantID) < d.cfg.MaxHeld/2 {
		req.LeaseOwner, req.LeaseUntil = d.cfg.Owner, now.Add(d.cfg.Lease)
	}
	results, err := d.store.PublishEvents(ctx, []*outlet.PublishRequest{req}, now)
	if err != nil {
		return outlet.PublishOutcome{}, err
	}
	r := results[0]
	if r.Err != nil {
		return r, r.Err
	}
	if span.IsRecording() {
		// A replay answers with the event stored first, under its own id.
		span.SetAttributes(tracing.EventID.String(r.Event.ID), tracing.Deliveries.Int(r.Deliveries), tracing.Replayed.Bool(r.Replayed))
	}
	d.enqueue(r.Claims)
	if r.DueNow > 0 {
		d.nudge() // some wait in the store, due: ordered, or beyond what this node holds
	}
	if !r.Replayed {
		d.cfg.Metrics.EventsPublished.Inc()
	}
	return r, nil
}

func endPublish(span trace.Span, ev *outlet.Event, err error) {
	if err != nil {
		span.SetAttributes(tracing.EventID.String(ev.ID), semconv.ErrorTypeKey.String(outlet.ErrorCode(err)))
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
