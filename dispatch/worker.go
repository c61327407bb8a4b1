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

// work makes attempts of the claims s hands out until shutdown.
func (d *Dispatcher) work(s *scheduler) {
	defer d.workers.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-d.stopWorkers:
			return
		default:
		}
		c, wait := s.next()
		if c != nil {
			d.attempt(c)
			continue
		}
		var later <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			later = timer.C
		}
		select {
		case <-d.stopWorkers:
			return
		case <-s.ready:
		case <-later:
		}
		if wait > 0 && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// attempt makes one attempt of a claimed delivery, hands its outcome to the
// completer, and tells the scheduler how the receiver did.
func (d *Dispatcher) attempt(c *outlet.Claim) {
	v, started := untried, time.Now()
	defer func() {
		if back, due := d.schedulerOf(c).done(c, v, time.Since(started)); len(back) > 0 {
			d.log.Warn("endpoint keeps failing; holding its deliveries back until a probe succeeds",
				"endpoint", c.Delivery.Target.ID, "tenant", c.Delivery.TenantID, "held", len(back), "until", due)
			for _, b := range back {
				d.deferClaim(b.Delivery.ID, due, "circuit_open")
			}
		}
	}()
	if c.Endpoint == nil && c.Delivery.Target.Type == outlet.TargetEndpoint {
		d.forget(c.Delivery.ID) // deleted with its endpoint; nothing left to record
		return
	}
	o := &outlet.AttemptOutcome{TenantID: c.Delivery.TenantID, DeliveryID: c.Delivery.ID, Ordered: c.Delivery.Ordered, Owner: d.cfg.Owner}
	trigger := c.Delivery.Trigger
	if trigger == "" {
		trigger = outlet.TriggerScheduled
	}
	if err := outlet.CanResend(c); err != nil {
		// Not an attempt against the endpoint, so it doesn't count towards
		// disabling it, and retrying can't help.
		now := d.cfg.Now()
		o.Attempt = &outlet.Attempt{DeliveryID: c.Delivery.ID, Trigger: trigger, StartedAt: now, Error: "not sent: " + outlet.ErrorMessage(err)}
		if c.Endpoint != nil {
			o.Attempt.URL = c.Endpoint.URL
		}
		o.Status = outlet.StatusFailed
		d.record(o, c, false)
		return
	}
	ctx, span := d.startAttempt(c, trigger)
	defer span.End()
	var res Result
	if c.Delivery.Target.Type == outlet.TargetFunction {
		res = d.runFunction(ctx, c, trigger)
	} else {
		res = d.sender.Send(ctx, c, trigger)
		o.EndpointID = c.Endpoint.ID
		v = verdictOf(res.Attempt)
	}
	if d.attemptCtx.Err() != nil {
		v = untried // cut short by shutdown: not the receiver's failure
		d.giveBack(c)
		return
	}
	if !res.Attempt.Succeeded {
		span.SetStatus(codes.Error, "")
	}
	o.Attempt = res.Attempt
	o.Status, o.NextAttemptAt = d.cfg.Retry.Next(c.Delivery, c.Delivery.Attempts+1, res.Attempt.Succeeded, res.RetryAfter, d.cfg.Now())
	m := d.cfg.Metrics
	m.AttemptSeconds.Observe(float64(res.Attempt.DurationMs) / 1000)
	if res.Attempt.Succeeded {
		m.Attempts.WithLabelValues("success").Inc()
	} else {
		m.Attempts.WithLabelValues("failure").Inc()
	}
	// Its schedule ran out: not the one more attempt a caller asked for of
	// a delivery that had failed already.
	exhausted := o.Status == outlet.StatusFailed && !c.Delivery.SingleAttempt
	d.record(o, c, exhausted)
}

// startAttempt starts the span of an attempt, a child of the span the event
// was published in: so the attempt, made on whichever node and however
// long after, is in the publish's trace, and so is the receiver's handling
// of it (the span's context goes to the receiver as its traceparent).
func (d *Dispatcher) startAttempt(c *outlet.Claim, trigger outlet.AttemptTrigger) (context.Context, trace.Span) {
	kind := tracing.AsClient // a request to the receiver
	if c.Delivery.Target.Type == outlet.TargetFunction {
		kind = nil // a run in this process
	}
	ctx, span := d.tracer.Start(tracing.Resume(d.attemptCtx, c.Event.Trace), "deliver", kind...)
	if span.IsRecording() {
		dl := c.Delivery
		target := tracing.EndpointID.String(dl.Target.ID)
		if dl.Target.Type == outlet.TargetFunction {
			target = tracing.Function.String(dl.Target.ID)
		}
		span.SetAttributes(tracing.Tenant.String(dl.TenantID), tracing.EventID.String(dl.EventID), tracing.EventType.String(dl.EventType),
			tracing.DeliveryID.String(dl.ID), tracing.Attempt.Int(dl.Attempts+1), tracing.Trigger.String(string(trigger)), target)
	}
	return ctx, span
}

// runFunction makes one attempt of a delivery to a function: one run of its
// active version on the event.
func (d *Dispatcher) runFunction(ctx context.Context, c *outlet.Claim, trigger outlet.AttemptTrigger) Result {
	start := d.cfg.Now()
	a := &outlet.Attempt{DeliveryID: c.Delivery.ID, Trigger: trigger, URL: "function:" + c.Delivery.Target.ID, StartedAt: start}
	if d.cfg.Functions == nil {
		a.Error = "functions are not enabled on this node"
		return Result{Attempt: a}
	}
	run := d.cfg.Functions.RunEvent(ctx, EventRun{TenantID: c.Delivery.TenantID, Function: c.Delivery.Target.ID,
		EventID: c.Event.ID, EventType: c.Event.Type, DeliveryID: c.Delivery.ID, Attempt: c.Delivery.Attempts + 1, Body: c.Event.Body()})
	a.DurationMs = run.Duration.Milliseconds()
	a.FunctionVersion, a.Logs = run.Version, run.Logs
	a.ResponseBody, a.ResponseTruncated = clipBody(run.Output)
	a.Succeeded = run.ErrCode == ""
	if !a.Succeeded {
		a.Error = run.ErrCode + ": " + run.ErrMsg
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.SetAttributes(semconv.ErrorTypeKey.String(run.ErrCode))
		}
	}
	return Result{Attempt: a}
}

// clipBody keeps at most MaxResponseBody bytes of an output.
func clipBody(b []byte) (string, bool) {
	if len(b) <= outlet.MaxResponseBody {
		return string(b), false
	}
	return string(b[:outlet.MaxResponseBody]), true
}

// outcome is an attempt's outcome on its way to the store, with the hold it
// ends and, for the notifier, the claim it was made of and whether it
// exhausted its delivery's schedule.
type outcome struct {
	*outlet.AttemptOutcome
	hold      *hold
	claim     *outlet.Claim
	exhausted bool
}

// completeLinger is how long an outcome may wait for others to share its
// commit. Nobody waits on it (the receiver has its request already), and
// under light load it saves a commit, with its disk flush, per delivery.
// The cost of a crash meanwhile is an attempt made again, as for any
// outcome not yet recorded.
const completeLinger = 20 * time.Millisecond

// urgent is an outcome to record at once (see outlet.AttemptOutcome.Urgent).
func (o outcome) urgent() bool { return o.AttemptOutcome.Urgent() }

func (d *Dispatcher) record(o *outlet.AttemptOutcome, c *outlet.Claim, exhausted bool) {
	if o.Status != outlet.StatusPending {
		d.cfg.Metrics.Deliveries.WithLabelValues(string(o.Status)).Inc()
	}
	var h *hold
	if v, ok := d.held.Load(o.DeliveryID); ok {
		h = v.(*hold)
		h.recorded.Store(true)
	}
	if !d.complete.Add(outcome{o, h, c, exhausted}) {
		d.forgetHold(o.DeliveryID, h) // can't happen: workers stop before the completer
	}
}

func (d *Dispatcher) giveBack(c *outlet.Claim) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.store.ReleaseClaims(ctx, d.cfg.Owner, []string{c.Delivery.ID}, d.cfg.Now()); err != nil {
		d.log.Error("giving back a claim failed; it will be due again when its lease ends", "delivery", c.Delivery.ID, "err", err)
	}
	d.forget(c.Delivery.ID)
}

// flushOutcomes records a batch of outcomes. It keeps trying until the store
// takes them: an outcome dropped would leave its delivery to be sent again.
func (d *Dispatcher) flushOutcomes(batch []outcome) {
	outcomes := make([]*outlet.AttemptOutcome, len(batch))
	for i, o := range batch {
		outcomes[i] = o.AttemptOutcome
	}
	wait := 50 * time.Millisecond
	for {
		now := d.cfg.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		disabled, err := d.store.CompleteAttempts(ctx, outcomes, now, now.Add(-d.cfg.DisableAfter))
		cancel()
		if err == nil {
			for _, id := range disabled {
				d.log.Warn("endpoint disabled: every attempt failed for longer than the disable period", "endpoint", id, "period", d.cfg.DisableAfter)
			}
			d.notifyRecorded(batch, disabled, now)
			break
		}
		d.log.Error("recording attempt outcomes failed; retrying", "count", len(batch), "err", err)
		select {
		case <-time.After(wait):
		case <-d.attemptCtx.Done():
			d.log.Error("shutting down with attempt outcomes unrecorded; their deliveries will be attempted again", "count", len(batch))
			for _, o := range batch {
				d.forgetHold(o.DeliveryID, o.hold)
			}
			return
		}
		wait = min(2*wait, 5*time.Second)
	}
	retry := false
	for _, o := range batch {
		d.forgetHold(o.DeliveryID, o.hold)
		// A retry may be due before the poller next looks, and a finished
		// ordered delivery lets the next one of its endpoint go.
		retry = retry || o.Status == outlet.StatusPending || o.Ordered
	}
	if retry || d.starved.CompareAndSwap(true, false) {
		d.nudge()
	}
}
