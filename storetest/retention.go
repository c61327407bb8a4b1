package storetest

import (
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func retentionTests(t *testing.T, s suite) {
	s.test(t, "purging deletes old payloads of finished events and old response bodies and keeps the records", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		cutoff := at(day)
		oldDone := b.deliveryTo(t, ep, base)
		oldFailed := b.deliveryTo(t, ep, at(time.Minute))
		oldPending := b.deliveryTo(t, ep, at(2*time.Minute))
		newDone := b.deliveryTo(t, ep, cutoff)
		b.complete(t, at(time.Hour), noDisable,
			succeeded(oldDone, at(time.Second)),
			failed(oldFailed, at(2*time.Second)),
			retrying(oldPending, at(3*time.Second), at(2*day)),
			succeeded(newDone, cutoff))

		p, err := b.store.PurgeExpired(b.ctx, cutoff, 100)
		events, attempts := p.Events, p.Attempts
		check(t, err)
		wantEqual(t, "purged events", events, 2)
		wantEqual(t, "purged attempts", attempts, 3)

		for _, tc := range []struct {
			name     string
			d        *outlet.Delivery
			status   outlet.DeliveryStatus
			keepData bool
			keepBody bool
		}{
			{"old and succeeded", oldDone, outlet.StatusSucceeded, false, false},
			{"old and failed", oldFailed, outlet.StatusFailed, false, false},
			{"old and still pending", oldPending, outlet.StatusPending, true, false},
			{"new", newDone, outlet.StatusSucceeded, true, true},
		} {
			ev := b.getEvent(t, "acme", tc.d.EventID)
			if kept := ev.Data != nil; kept != tc.keepData {
				t.Errorf("%s event: data %s; want kept %v", tc.name, ev.Data, tc.keepData)
			}
			wantEqual(t, tc.name+" event type", ev.Type, paid)
			wantEqual(t, tc.name+" delivery status", b.getDelivery(t, tc.d).Status, tc.status)
			as := b.attempts(t, tc.d)
			if len(as) != 1 {
				t.Fatalf("%s delivery has %d attempts; want 1", tc.name, len(as))
			}
			if kept := as[0].ResponseBody != ""; kept != tc.keepBody {
				t.Errorf("%s attempt: response body %q; want kept %v", tc.name, as[0].ResponseBody, tc.keepBody)
			}
			if as[0].StatusCode == 0 {
				t.Errorf("%s attempt lost its status code", tc.name)
			}
		}

		p, err = b.store.PurgeExpired(b.ctx, cutoff, 100)
		events, attempts = p.Events, p.Attempts
		check(t, err)
		wantEqual(t, "purged events the second time", events, 0)
		wantEqual(t, "purged attempts the second time", attempts, 0)
	})

	s.test(t, "purging deletes at most limit of each", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		for i := range 3 {
			d := b.deliveryTo(t, ep, at(time.Duration(i)*time.Minute))
			b.complete(t, at(time.Hour), noDisable, succeeded(d, at(time.Hour)))
		}
		for _, want := range []int{2, 1, 0} {
			p, err := b.store.PurgeExpired(b.ctx, at(day), 2)
			events, attempts := p.Events, p.Attempts
			check(t, err)
			wantEqual(t, "purged events", events, want)
			wantEqual(t, "purged attempts", attempts, want)
		}
	})

	s.test(t, "recovering an endpoint skips deliveries whose payload was purged", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		purged := b.deliveryTo(t, ep, base)
		kept := b.deliveryTo(t, ep, at(2*day))
		b.complete(t, at(2*day), noDisable, failed(purged, at(time.Second)), failed(kept, at(2*day)))
		_, err := b.store.PurgeExpired(b.ctx, at(day), 100)
		check(t, err)
		n, err := b.store.RecoverEndpoint(b.ctx, "acme", ep.ID, base, at(3*day))
		check(t, err)
		wantEqual(t, "recovered", n, 1)
		wantEqual(t, "purged delivery status", b.getDelivery(t, purged).Status, outlet.StatusFailed)
		wantEqual(t, "kept delivery status", b.getDelivery(t, kept).Status, outlet.StatusPending)
	})

	s.test(t, "retrying a delivery whose payload was purged is ECONFLICT", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, failed(d, at(time.Second)))
		_, err := b.store.PurgeExpired(b.ctx, at(day), 100)
		check(t, err)
		_, err = b.store.RetryDelivery(b.ctx, "acme", d.ID, "node-a", at(2*day), at(2*day+lease))
		wantCode(t, err, outlet.ECONFLICT)
		wantEqual(t, "status", b.getDelivery(t, d).Status, outlet.StatusFailed)
	})
}
