package storetest

import (
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// Retention deletes whole records older than the cutoff. A store may do it a
// day late at most (Postgres drops whole UTC days): so these tests write
// what must go on days wholly before the cutoff, and what must stay at the
// cutoff or after, never between the cutoff's midnight and the cutoff. And a
// pending delivery keeps a store from deleting records written on its day
// (Postgres keeps its day's partitions), so pending work is written on a day
// of its own.

func retentionTests(t *testing.T, s suite) {
	s.test(t, "purging deletes old events with their deliveries and attempts, and keeps pending ones and recent ones", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		cutoff := at(2 * day)
		oldDone := b.deliveryTo(t, ep, base)
		oldFailed := b.deliveryTo(t, ep, at(time.Minute))
		oldPending := b.deliveryTo(t, ep, at(-2*day))
		recent := b.deliveryTo(t, ep, cutoff)
		b.complete(t, at(time.Hour), noDisable,
			succeeded(oldDone, at(time.Second)),
			failed(oldFailed, at(2*time.Second)),
			retrying(oldPending, at(-2*day+3*time.Second), at(3*day)),
			succeeded(recent, cutoff))

		p, err := b.store.PurgeExpired(b.ctx, cutoff, 100)
		check(t, err)
		wantEqual(t, "purged events", p.Events, 2)
		wantEqual(t, "purged deliveries", p.Deliveries, 2)
		wantEqual(t, "purged attempts", p.Attempts, 2)
		wantEqual(t, "held by", p.HeldBy, oldPending.ID)
		wantEqual(t, "more", p.More, false)

		for _, d := range []*outlet.Delivery{oldDone, oldFailed} {
			_, err := b.store.Delivery(b.ctx, "acme", d.ID)
			wantCode(t, err, outlet.ENOTFOUND)
			_, err = b.store.Event(b.ctx, "acme", d.EventID)
			wantCode(t, err, outlet.ENOTFOUND)
			_, err = b.store.ListAttempts(b.ctx, "acme", d.ID)
			wantCode(t, err, outlet.ENOTFOUND)
			wantIDs(t, "deliveries of a deleted event", deliveryIDs(b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: d.EventID})), nil)
		}
		for _, tc := range []struct {
			name   string
			d      *outlet.Delivery
			status outlet.DeliveryStatus
		}{
			{"old and still pending", oldPending, outlet.StatusPending},
			{"recent", recent, outlet.StatusSucceeded},
		} {
			ev := b.getEvent(t, "acme", tc.d.EventID)
			if ev.Data == nil {
				t.Errorf("%s event lost its data", tc.name)
			}
			wantEqual(t, tc.name+" delivery status", b.getDelivery(t, tc.d).Status, tc.status)
			as := b.attempts(t, tc.d)
			if len(as) != 1 {
				t.Fatalf("%s delivery has %d attempts; want 1", tc.name, len(as))
			}
			if as[0].ResponseBody == "" {
				t.Errorf("%s attempt lost its response body", tc.name)
			}
		}
		evs, _, err := b.store.ListEvents(b.ctx, "acme", outlet.EventFilter{})
		check(t, err)
		wantIDs(t, "events left", eventIDs(evs), []string{recent.EventID, oldPending.EventID})
		wantIDs(t, "deliveries left", deliveryIDs(b.deliveries(t, "acme", outlet.DeliveryFilter{})), []string{recent.ID, oldPending.ID})

		p, err = b.store.PurgeExpired(b.ctx, cutoff, 100)
		check(t, err)
		wantEqual(t, "purged events the second time", p.Events, 0)
		wantEqual(t, "purged attempts the second time", p.Attempts, 0)
		wantEqual(t, "held by the second time", p.HeldBy, oldPending.ID)

		// Once it has finished, it goes too.
		b.complete(t, at(3*day), noDisable, succeeded(oldPending, at(-2*day+time.Hour)))
		p, err = b.store.PurgeExpired(b.ctx, cutoff, 100)
		check(t, err)
		wantEqual(t, "purged events once the pending delivery finished", p.Events, 1)
		wantEqual(t, "held by once it finished", p.HeldBy, "")
		_, err = b.store.Delivery(b.ctx, "acme", oldPending.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		wantEqual(t, "recent delivery status", b.getDelivery(t, recent).Status, outlet.StatusSucceeded)
	})

	s.test(t, "an event id and an idempotency key are free again once their event was purged, and taken until then", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme") // with no endpoint: the event has no delivery to wait for
		old := newEvent("acme", paid, `{"amount":100}`, base)
		old.ID, old.IdempotencyKey = "order-1", "key-1"
		b.publish(t, old)
		again := newEvent("acme", paid, `{"amount":200}`, at(time.Hour))
		again.ID, again.IdempotencyKey = "order-1", "key-1"
		res, err := b.store.PublishEvents(b.ctx, []*outlet.PublishRequest{{Event: again}}, at(time.Hour))
		check(t, err)
		wantCode(t, res[0].Err, outlet.ECONFLICT)

		var p outlet.Purged
		for range 10 {
			if p, err = b.store.PurgeExpired(b.ctx, at(2*day), 100); err != nil || !p.More {
				break
			}
		}
		check(t, err)
		again = newEvent("acme", paid, `{"amount":200}`, at(3*day))
		again.ID, again.IdempotencyKey = "order-1", "key-1"
		res = b.publishBatch(t, at(3*day), &outlet.PublishRequest{Event: again})
		check(t, res[0].Err)
		wantEqual(t, "replayed", res[0].Replayed, false)
		wantEqual(t, "stored data", string(b.getEvent(t, "acme", "order-1").Data), `{"amount":200}`)
	})

	s.test(t, "purging in passes of at most limit records deletes everything old", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		for i := range 3 {
			d := b.deliveryTo(t, ep, at(time.Duration(i)*time.Minute))
			b.complete(t, at(time.Hour), noDisable, succeeded(d, at(time.Hour)))
		}
		var total outlet.Purged
		for pass := 0; ; pass++ {
			if pass == 10 {
				t.Fatal("purging still says there is more after 10 passes")
			}
			p, err := b.store.PurgeExpired(b.ctx, at(2*day), 2)
			check(t, err)
			// A store that drops partitions deletes a day at once.
			if p.Partitions == 0 && (p.Events > 2 || p.Deliveries > 2 || p.Attempts > 2) {
				t.Errorf("pass %d deleted %d events, %d deliveries, %d attempts; want at most the limit, 2, of each",
					pass, p.Events, p.Deliveries, p.Attempts)
			}
			total.Events, total.Deliveries, total.Attempts = total.Events+p.Events, total.Deliveries+p.Deliveries, total.Attempts+p.Attempts
			if !p.More {
				break
			}
		}
		wantEqual(t, "purged events", total.Events, 3)
		wantEqual(t, "purged deliveries", total.Deliveries, 3)
		wantEqual(t, "purged attempts", total.Attempts, 3)
		wantIDs(t, "deliveries left", deliveryIDs(b.deliveries(t, "acme", outlet.DeliveryFilter{})), nil)
	})

	s.test(t, "recovering an endpoint after purging re-sends the deliveries that were kept", func(t *testing.T, b *bundle) {
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
		_, err = b.store.Delivery(b.ctx, "acme", purged.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		wantEqual(t, "kept delivery status", b.getDelivery(t, kept).Status, outlet.StatusPending)
	})

	s.test(t, "retrying a delivery that was purged is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, failed(d, at(time.Second)))
		_, err := b.store.PurgeExpired(b.ctx, at(day), 100)
		check(t, err)
		_, err = b.store.RetryDelivery(b.ctx, "acme", d.ID, "node-a", at(2*day), at(2*day+lease))
		wantCode(t, err, outlet.ENOTFOUND)
	})
}
