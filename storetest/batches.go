package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// batchTests hold a store to what a batch publish promises: the events of
// one call are stored in one transaction, in their order, each answered on
// its own.
func batchTests(t *testing.T, s suite) {
	s.test(t, "a batch of many events is stored in its order, each with its deliveries", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		plain := b.endpoint(t, "acme")
		ordered := b.orderedEndpoint(t, "acme")
		const n = outlet.MaxBatchEvents
		reqs := make([]*outlet.PublishRequest, n)
		var want []string
		for i := range reqs {
			ev := newEvent("acme", paid, fmt.Sprintf(`{"n":%d}`, i), base)
			ev.IdempotencyKey = fmt.Sprintf("order-%d", i)
			reqs[i] = &outlet.PublishRequest{Event: ev, LeaseOwner: "node-a", LeaseUntil: at(lease)}
			want = append(want, ev.ID)
		}
		res := b.publishBatch(t, base, reqs...)
		claimed := 0
		for i, r := range res {
			check(t, r.Err)
			if r.Event.ID != want[i] || r.Replayed || r.Deliveries != 2 {
				t.Fatalf("request %d answered event %s, replayed %v, %d deliveries; want %s, new, 2", i, r.Event.ID, r.Replayed, r.Deliveries, want[i])
			}
			for _, c := range r.Claims {
				if c.Event.ID != want[i] || c.Delivery.Target.ID != plain.ID {
					t.Fatalf("request %d's claim is of event %s to %s; want its own to the unordered endpoint", i, c.Event.ID, c.Delivery.Target.ID)
				}
				claimed++
			}
		}
		wantEqual(t, "deliveries claimed at publish", claimed, n)

		var stored []string
		for _, page := range walk(t, outlet.MaxPageLimit, func(p outlet.Page) ([]*outlet.Event, string, error) {
			return b.store.ListEvents(b.ctx, "acme", outlet.EventFilter{Page: p})
		}) {
			stored = append(stored, eventIDs(page)...)
		}
		slices.Reverse(stored) // newest first
		wantIDs(t, "stored events, oldest first", stored, want)

		// The ordered endpoint gets them in the batch's order.
		for i := range 3 {
			c := b.claimOne(t, "node-b", at(time.Second))
			wantEqual(t, fmt.Sprintf("ordered delivery %d's event", i), c.Event.ID, want[i])
			wantEqual(t, "its endpoint", c.Delivery.Target.ID, ordered.ID)
			b.complete(t, at(time.Second), noDisable, succeeded(c.Delivery, at(time.Second)))
		}
	})

	s.test(t, "a batch's refused events are not stored and the others are", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.endpoint(t, "acme")
		used := newEvent("acme", paid, `{"amount":100}`, base)
		used.IdempotencyKey = "order-1"
		b.publish(t, used)

		fresh := newEvent("acme", paid, `{"amount":1}`, at(time.Minute))
		conflicting := newEvent("acme", paid, `{"amount":2}`, at(time.Minute))
		conflicting.IdempotencyKey = "order-1"
		stranger := newEvent("nobody", paid, `{}`, at(time.Minute))
		keyed := newEvent("acme", paid, `{"amount":3}`, at(time.Minute))
		keyed.IdempotencyKey = "order-2"
		sameKeyOtherContent := newEvent("acme", paid, `{"amount":4}`, at(time.Minute))
		sameKeyOtherContent.IdempotencyKey = "order-2"
		last := newEvent("acme", paid, `{"amount":5}`, at(time.Minute))
		evs := []*outlet.Event{fresh, conflicting, stranger, keyed, sameKeyOtherContent, last}
		reqs := make([]*outlet.PublishRequest, len(evs))
		for i, ev := range evs {
			reqs[i] = &outlet.PublishRequest{Event: ev}
		}
		res := b.publishBatch(t, at(time.Minute), reqs...)
		for i, code := range []string{"", outlet.ECONFLICT, outlet.ENOTFOUND, "", outlet.ECONFLICT, ""} {
			if code == "" {
				check(t, res[i].Err)
				wantEqual(t, fmt.Sprintf("request %d's event", i), res[i].Event.ID, evs[i].ID)
				wantEqual(t, fmt.Sprintf("request %d's deliveries", i), res[i].Deliveries, 1)
				wantEvent(t, b.getEvent(t, "acme", evs[i].ID), evs[i])
				continue
			}
			wantCode(t, res[i].Err, code)
			_, err := b.store.Event(b.ctx, evs[i].TenantID, evs[i].ID)
			wantCode(t, err, outlet.ENOTFOUND)
		}
		wantEqual(t, "stored deliveries", len(b.deliveries(t, "acme", outlet.DeliveryFilter{})), 4)
	})

	s.test(t, "a batch published again is answered with its events and makes nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.endpoint(t, "acme")
		b.endpoint(t, "acme")
		batch := func(now time.Time) []*outlet.PublishRequest {
			reqs := make([]*outlet.PublishRequest, 5)
			for i := range reqs {
				ev := newEvent("acme", paid, fmt.Sprintf(`{"n":%d}`, i), now)
				ev.IdempotencyKey = fmt.Sprintf("order-%d", i)
				reqs[i] = &outlet.PublishRequest{Event: ev, LeaseOwner: "node-a", LeaseUntil: now.Add(lease)}
			}
			return reqs
		}
		first := b.publishBatch(t, base, batch(base)...)
		again := b.publishBatch(t, at(time.Minute), batch(at(time.Minute))...)
		for i, r := range again {
			check(t, r.Err)
			wantEqual(t, fmt.Sprintf("request %d replayed", i), r.Replayed, true)
			wantEqual(t, fmt.Sprintf("request %d's event", i), r.Event.ID, first[i].Event.ID)
			wantEqual(t, fmt.Sprintf("request %d's deliveries", i), r.Deliveries, 2)
			wantEqual(t, fmt.Sprintf("request %d's claims", i), len(r.Claims), 0)
		}
		wantEqual(t, "stored deliveries", len(b.deliveries(t, "acme", outlet.DeliveryFilter{})), 10)
	})
}
