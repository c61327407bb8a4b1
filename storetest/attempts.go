package storetest

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func attemptTests(t *testing.T, s suite) {
	s.test(t, "attempts are numbered and listed in order with every field as recorded", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		c := b.claimOne(t, "node-a", base)
		first := &outlet.Attempt{
			ID:         outlet.NewID(outlet.PrefixAttempt),
			Trigger:    c.Delivery.Trigger,
			URL:        c.Endpoint.URL,
			StartedAt:  at(time.Second),
			DurationMs: 10000,
			Error:      "dial tcp 203.0.113.7:443: connect: connection refused",
		}
		b.complete(t, at(11*time.Second), noDisable, &outlet.AttemptOutcome{
			TenantID: "acme", DeliveryID: d.ID, EndpointID: ep.ID, Attempt: first,
			Status: outlet.StatusPending, NextAttemptAt: at(time.Minute),
		})
		second := &outlet.Attempt{
			ID:                outlet.NewID(outlet.PrefixAttempt),
			Trigger:           outlet.TriggerScheduled,
			URL:               ep.URL + "?v=2",
			StartedAt:         at(time.Minute + time.Second),
			DurationMs:        1234,
			Succeeded:         true,
			StatusCode:        202,
			ResponseHeaders:   map[string]string{"Content-Type": "application/json", "X-Request-Id": "req-1"},
			ResponseBody:      `{"received":true,"note":"Zoë"}`,
			ResponseTruncated: true,
		}
		b.complete(t, at(2*time.Minute), noDisable, &outlet.AttemptOutcome{
			TenantID: "acme", DeliveryID: d.ID, EndpointID: ep.ID, Attempt: second, Status: outlet.StatusSucceeded,
		})

		got := b.attempts(t, d)
		if len(got) != 2 {
			t.Fatalf("got %d attempts; want 2", len(got))
		}
		for i, want := range []*outlet.Attempt{first, second} {
			a := got[i]
			wantEqual(t, "attempt id", a.ID, want.ID)
			wantEqual(t, "attempt delivery", a.DeliveryID, d.ID)
			wantEqual(t, "attempt number", a.Number, i+1)
			wantEqual(t, "attempt trigger", a.Trigger, want.Trigger)
			wantEqual(t, "attempt url", a.URL, want.URL)
			wantTime(t, "attempt started_at", a.StartedAt, want.StartedAt)
			wantEqual(t, "attempt duration", a.DurationMs, want.DurationMs)
			wantEqual(t, "attempt succeeded", a.Succeeded, want.Succeeded)
			wantEqual(t, "attempt status code", a.StatusCode, want.StatusCode)
			if !maps.Equal(a.ResponseHeaders, want.ResponseHeaders) {
				t.Errorf("attempt response headers = %v; want %v", a.ResponseHeaders, want.ResponseHeaders)
			}
			wantEqual(t, "attempt response body", a.ResponseBody, want.ResponseBody)
			wantEqual(t, "attempt response truncated", a.ResponseTruncated, want.ResponseTruncated)
			wantEqual(t, "attempt error", a.Error, want.Error)
		}
	})

	s.test(t, "a successful attempt finishes the delivery", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claim(t, "node-a", base, 1)
		disabled := b.complete(t, at(2*time.Second), noDisable, succeeded(d, at(time.Second)))
		wantIDs(t, "disabled endpoints", disabled, []string{})
		got := b.getDelivery(t, d)
		wantEqual(t, "status", got.Status, outlet.StatusSucceeded)
		wantEqual(t, "attempts", got.Attempts, 1)
		wantTimePtr(t, "next_attempt_at", got.NextAttemptAt, nil)
		wantTimePtr(t, "last_attempt_at", got.LastAttemptAt, ptr(at(time.Second)))
		wantTime(t, "updated_at", got.UpdatedAt, at(2*time.Second))
		wantIDs(t, "claimed afterwards", claimIDs(b.claim(t, "node-b", at(day), 10)), []string{})
	})

	s.test(t, "a failed attempt with a next attempt time keeps the delivery pending and due only then", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claim(t, "node-a", base, 1)
		b.complete(t, at(2*time.Second), noDisable, retrying(d, at(time.Second), at(time.Minute)))
		got := b.getDelivery(t, d)
		wantEqual(t, "status", got.Status, outlet.StatusPending)
		wantEqual(t, "attempts", got.Attempts, 1)
		wantTimePtr(t, "next_attempt_at", got.NextAttemptAt, ptr(at(time.Minute)))
		wantTimePtr(t, "last_attempt_at", got.LastAttemptAt, ptr(at(time.Second)))
		wantIDs(t, "claimed early", claimIDs(b.claim(t, "node-b", at(time.Minute-time.Millisecond), 10)), []string{})
		wantIDs(t, "claimed when due", claimIDs(b.claim(t, "node-b", at(time.Minute), 10)), []string{d.ID})
	})

	s.test(t, "a failed last attempt fails the delivery for good", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claim(t, "node-a", base, 1)
		b.complete(t, at(2*time.Second), noDisable, failed(d, at(time.Second)))
		got := b.getDelivery(t, d)
		wantEqual(t, "status", got.Status, outlet.StatusFailed)
		wantEqual(t, "attempts", got.Attempts, 1)
		wantTimePtr(t, "next_attempt_at", got.NextAttemptAt, nil)
		wantIDs(t, "claimed afterwards", claimIDs(b.claim(t, "node-b", at(day), 10)), []string{})
	})

	s.test(t, "an endpoint's failing streak starts at its first failure, lasts through later ones and ends with a success", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		steps := []struct {
			ok   bool
			want *time.Time
		}{
			{false, ptr(at(time.Second))},
			{false, ptr(at(time.Second))},
			{true, nil},
			{false, ptr(at(4 * time.Second))},
		}
		for i, step := range steps {
			startedAt := at(time.Duration(i+1) * time.Second)
			d := b.deliveryTo(t, ep, base)
			o := retrying(d, startedAt, at(time.Hour))
			if step.ok {
				o = succeeded(d, startedAt)
			}
			b.complete(t, startedAt.Add(time.Millisecond), noDisable, o)
			wantTimePtr(t, fmt.Sprintf("failing_since after step %d", i+1), b.getEndpoint(t, ep).FailingSince, step.want)
		}
	})

	for _, tc := range []struct {
		name     string
		failing  bool   // whether the endpoint has been failing since base
		outcomes []bool // in the order they finished, a second apart from at(1s)
		want     *time.Time
	}{
		{"failures in one batch start the streak at the first of them", false, []bool{false, false}, ptr(at(time.Second))},
		{"a success after failures in one batch ends the streak", false, []bool{false, true}, nil},
		{"a failure after a success in one batch starts the streak at that failure", false, []bool{true, false}, ptr(at(2 * time.Second))},
		{"the last run of failures in one batch decides the streak", false, []bool{false, true, false, false}, ptr(at(3 * time.Second))},
		{"failures in one batch extend a stored streak", true, []bool{false, false}, ptr(base)},
		{"a success in one batch ends a stored streak", true, []bool{false, true}, nil},
		{"a success then a failure in one batch restart a stored streak", true, []bool{true, false}, ptr(at(2 * time.Second))},
	} {
		s.test(t, tc.name, func(t *testing.T, b *bundle) {
			b.tenant(t, "acme")
			ep := b.endpoint(t, "acme")
			if tc.failing {
				d := b.deliveryTo(t, ep, base)
				b.complete(t, base, noDisable, retrying(d, base, at(time.Hour)))
			}
			var outcomes []*outlet.AttemptOutcome
			for i, ok := range tc.outcomes {
				d := b.deliveryTo(t, ep, base)
				startedAt := at(time.Duration(i+1) * time.Second)
				o := retrying(d, startedAt, at(time.Hour))
				if ok {
					o = succeeded(d, startedAt)
				}
				outcomes = append(outcomes, o)
			}
			b.complete(t, at(time.Minute), noDisable, outcomes...)
			wantTimePtr(t, "failing_since", b.getEndpoint(t, ep).FailingSince, tc.want)
		})
	}

	s.test(t, "an endpoint failing since before the disable cutoff is disabled by its next failure and gets no new deliveries", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep, healthy := b.endpoint(t, "acme"), b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, retrying(d, at(time.Second), at(time.Hour)))

		now := at(5 * day)
		d = b.deliveryTo(t, ep, now.Add(-time.Minute))
		inFlight := b.deliveryTo(t, ep, now.Add(-time.Minute))
		disabled := b.complete(t, now, now.Add(-3*day), retrying(d, now.Add(-time.Second), now.Add(time.Hour)))
		wantIDs(t, "disabled endpoints", disabled, []string{ep.ID})
		got := b.getEndpoint(t, ep)
		wantEqual(t, "disabled", got.Disabled, true)
		wantEqual(t, "disabled reason", got.DisabledReason, outlet.DisabledFailing)
		wantTimePtr(t, "disabled_at", got.DisabledAt, ptr(now))
		wantTimePtr(t, "failing_since", got.FailingSince, ptr(at(time.Second)))
		wantEqual(t, "healthy endpoint disabled", b.getEndpoint(t, healthy).Disabled, false)

		// The failure of an attempt that was in flight doesn't report it again.
		wantIDs(t, "disabled again", b.complete(t, now.Add(time.Second), now.Add(-3*day), retrying(inFlight, now, now.Add(time.Hour))), []string{})

		ev := newEvent("acme", paid, `{}`, now.Add(time.Hour))
		wantEqual(t, "deliveries of a later event", b.publish(t, ev).Deliveries, 1)
		ds := b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID})
		if len(ds) != 1 || ds[0].Target.ID != healthy.ID {
			t.Errorf("a later event made deliveries %v; want one to the healthy endpoint", ds)
		}
	})

	s.test(t, "an endpoint failing since after the disable cutoff stays enabled", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		now := at(5 * day)
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(4*day), noDisable, retrying(d, at(4*day), at(4*day+time.Hour)))
		d = b.deliveryTo(t, ep, base)
		wantIDs(t, "disabled endpoints", b.complete(t, now, now.Add(-3*day), retrying(d, now, now.Add(time.Hour))), []string{})
		wantEqual(t, "disabled", b.getEndpoint(t, ep).Disabled, false)
	})

	s.test(t, "an outcome for a delivery deleted meanwhile is skipped without error", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		gone, kept := b.endpoint(t, "acme"), b.endpoint(t, "acme")
		ev := newEvent("acme", paid, `{}`, base)
		b.publish(t, ev)
		cs := b.claim(t, "node-a", base, 10)
		wantEqual(t, "claims", len(cs), 2)
		check(t, b.store.DeleteEndpoint(b.ctx, "acme", gone.ID))
		var outcomes []*outlet.AttemptOutcome
		for _, c := range cs {
			if c.Delivery.Target.ID == gone.ID {
				outcomes = append(outcomes, failed(c.Delivery, at(time.Second)))
			} else {
				outcomes = append(outcomes, succeeded(c.Delivery, at(time.Second)))
			}
		}
		// A cutoff that would disable any failing endpoint.
		disabled, err := b.store.CompleteAttempts(b.ctx, outcomes, at(2*time.Second), at(day))
		check(t, err)
		wantIDs(t, "disabled endpoints", disabled, []string{})
		ds := b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID})
		if len(ds) != 1 || ds[0].Target.ID != kept.ID || ds[0].Status != outlet.StatusSucceeded {
			t.Fatalf("deliveries = %+v; want one to the kept endpoint, succeeded", ds)
		}
		wantEqual(t, "attempts of the kept delivery", len(b.attempts(t, ds[0])), 1)
	})
}
