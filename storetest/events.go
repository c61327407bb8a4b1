package storetest

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func publishTests(t *testing.T, s suite) {
	s.test(t, "an event fans out only to the tenant's enabled endpoints whose filters match its type", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		cases := []struct {
			name     string
			tenant   string
			filters  []string
			disabled bool
			want     bool
		}{
			{"exact type", "acme", []string{"invoice.paid"}, false, true},
			{"another exact type", "acme", []string{"invoice.created"}, false, false},
			{"matching wildcard", "acme", []string{"invoice.*"}, false, true},
			{"wildcard of another prefix", "acme", []string{"customer.*"}, false, false},
			{"wildcard of a longer prefix", "acme", []string{"invoice.paid.*"}, false, false},
			{"star", "acme", []string{"*"}, false, true},
			{"no filters", "acme", nil, false, true},
			{"one filter of several", "acme", []string{"customer.created", "invoice.paid"}, false, true},
			{"disabled", "acme", []string{"*"}, true, false},
			{"another tenant's", "globex", []string{"*"}, false, false},
		}
		var want []string
		name := map[string]string{}
		for _, c := range cases {
			ep := b.endpoint(t, c.tenant, c.filters...)
			name[ep.ID] = c.name
			if c.disabled {
				b.disable(t, ep, base)
			}
			if c.want {
				want = append(want, ep.ID)
			}
		}

		ev := newEvent("acme", paid, `{"amount":100}`, at(time.Minute))
		res := b.publish(t, ev)
		wantEqual(t, "replayed", res.Replayed, false)
		wantEqual(t, "deliveries", res.Deliveries, len(want))
		wantEqual(t, "claims without a lease owner", len(res.Claims), 0)

		ds := b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID})
		var got []string
		for _, d := range ds {
			got = append(got, d.Target.ID)
			if !slices.Contains(want, d.Target.ID) {
				t.Errorf("endpoint %q got a delivery", name[d.Target.ID])
			}
			wantEqual(t, "delivery tenant", d.TenantID, "acme")
			wantEqual(t, "delivery event", d.EventID, ev.ID)
			wantEqual(t, "delivery event type", d.EventType, paid)
			wantEqual(t, "delivery target type", d.Target.Type, outlet.TargetEndpoint)
			wantEqual(t, "delivery status", d.Status, outlet.StatusPending)
			wantEqual(t, "delivery attempts", d.Attempts, 0)
			wantTimePtr(t, "delivery next_attempt_at", d.NextAttemptAt, ptr(at(time.Minute)))
			wantTimePtr(t, "delivery last_attempt_at", d.LastAttemptAt, nil)
			wantTime(t, "delivery created_at", d.CreatedAt, at(time.Minute))
		}
		for _, id := range want {
			if !slices.Contains(got, id) {
				t.Errorf("endpoint %q got no delivery", name[id])
			}
		}
	})

	s.test(t, "a published event reads back with its data byte for byte", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		// Key order, unicode and number forms that a JSON column would normalise.
		ev := newEvent("acme", paid, `{"z":1,"a":{"name":"Zoë \u00e9","n":1.50,"big":12345678901234567890}}`, base)
		ev.IdempotencyKey = "order-1"
		b.publish(t, ev)
		wantEvent(t, b.getEvent(t, "acme", ev.ID), ev)
	})

	s.test(t, "an event keeps the trace context it was published in, for deliveries claimed later", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		traced := newEvent("acme", paid, `{}`, base)
		traced.Trace = outlet.TraceContext{Parent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", State: "vendor=opaque,other=1"}
		untraced := newEvent("acme", paid, `{}`, base)
		b.publish(t, traced)
		b.publish(t, untraced)
		wantEvent(t, b.getEvent(t, "acme", traced.ID), traced)
		wantEvent(t, b.getEvent(t, "acme", untraced.ID), untraced)

		byEvent := map[string]*outlet.Claim{}
		for _, c := range b.claim(t, "node-a", base, 10) {
			byEvent[c.Event.ID] = c
		}
		wantEqual(t, "claimed traced event's trace context", byEvent[traced.ID].Event.Trace, traced.Trace)
		wantEqual(t, "claimed untraced event's trace context", byEvent[untraced.ID].Event.Trace, outlet.TraceContext{})

		d := byEvent[traced.ID].Delivery
		b.complete(t, at(time.Second), base, failed(d, at(time.Second)))
		c, err := b.store.RetryDelivery(b.ctx, "acme", d.ID, "node-b", at(time.Minute), at(time.Minute+lease))
		check(t, err)
		wantEqual(t, "manually retried event's trace context", c.Event.Trace, traced.Trace)
		wantEqual(t, "endpoint", c.Delivery.Target.ID, ep.ID)
	})

	s.test(t, "an event with no matching endpoint is stored with no deliveries", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.endpoint(t, "acme", "customer.*")
		ev := newEvent("acme", paid, `{}`, base)
		wantEqual(t, "deliveries", b.publish(t, ev).Deliveries, 0)
		b.getEvent(t, "acme", ev.ID)
		wantEqual(t, "stored deliveries", len(b.deliveries(t, "acme", outlet.DeliveryFilter{})), 0)
	})

	// A store may cache what a publish fans out to, but never serve stale
	// answers: each change below is seen by the very next publish.
	s.test(t, "every change to a tenant's endpoints is seen by the next publish", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		fanout := func(step string, want ...*outlet.Endpoint) {
			t.Helper()
			res := b.publish(t, newEvent("acme", paid, `{}`, base))
			got := b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: res.Event.ID})
			var ids, wantIDs []string
			for _, d := range got {
				ids = append(ids, d.Target.ID)
			}
			for _, ep := range want {
				wantIDs = append(wantIDs, ep.ID)
			}
			slices.Sort(ids)
			slices.Sort(wantIDs)
			if !slices.Equal(ids, wantIDs) {
				t.Errorf("%s: delivered to %v; want %v", step, ids, wantIDs)
			}
		}
		fanout("no endpoints")
		a := b.endpoint(t, "acme")
		fanout("after creating one", a)
		c := b.endpoint(t, "acme", "customer.*")
		fanout("after creating one for other types", a)
		_, err := b.store.UpdateEndpoint(b.ctx, "acme", c.ID, outlet.EndpointUpdate{EventTypes: ptr([]string{paid})}, base)
		check(t, err)
		fanout("after subscribing it", a, c)
		b.disable(t, a, base)
		fanout("after disabling one", c)
		_, err = b.store.UpdateEndpoint(b.ctx, "acme", a.ID, outlet.EndpointUpdate{Disabled: ptr(false)}, base)
		check(t, err)
		fanout("after enabling it again", a, c)
		check(t, b.store.DeleteEndpoint(b.ctx, "acme", c.ID))
		fanout("after deleting one", a)
		rotated, err := b.store.RotateEndpointSecret(b.ctx, "acme", a.ID, outlet.NewEndpointSecret(), base, base)
		check(t, err)
		res := b.publishBatch(t, base, &outlet.PublishRequest{Event: newEvent("acme", paid, `{}`, base), LeaseOwner: "n", LeaseUntil: at(lease)})[0]
		if len(res.Claims) != 1 || res.Claims[0].Endpoint.Secret != rotated.Secret {
			t.Errorf("after rotating the secret, the claim carries an endpoint with the old secret")
		}
	})

	s.test(t, "deliveries published with a lease owner come back as claims and are due again only when the lease ends", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.endpoint(t, "acme")
		b.endpoint(t, "acme", paid)
		ev := newEvent("acme", paid, `{"amount":100}`, base)
		res := b.publishBatch(t, base, &outlet.PublishRequest{Event: ev, LeaseOwner: "node-a", LeaseUntil: at(lease)})[0]
		check(t, res.Err)
		wantEqual(t, "deliveries", res.Deliveries, 2)
		wantClaimsFilled(t, res.Claims)
		for _, c := range res.Claims {
			wantEqual(t, "claimed delivery status", c.Delivery.Status, outlet.StatusPending)
			wantEqual(t, "claimed delivery event", c.Delivery.EventID, ev.ID)
			wantEqual(t, "claimed event data", string(c.Event.Data), string(ev.Data))
			wantEqual(t, "claimed endpoint secret", c.Endpoint.Secret, b.getEndpoint(t, c.Endpoint).Secret)
		}
		stored := deliveryIDs(b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID}))
		wantSameIDs(t, "claims", claimIDs(res.Claims), stored)

		if cs := b.claim(t, "node-b", at(lease-time.Millisecond), 10); len(cs) != 0 {
			t.Errorf("another owner claimed %v before the lease ended", claimIDs(cs))
		}
		wantSameIDs(t, "claimed once the lease ended", claimIDs(b.claim(t, "node-b", at(lease), 10)), stored)
	})

	s.test(t, "deliveries published without a lease owner are due at once", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.endpoint(t, "acme")
		b.endpoint(t, "acme")
		ev := newEvent("acme", paid, `{}`, base)
		b.publish(t, ev)
		wantSameIDs(t, "claimed", claimIDs(b.claim(t, "node-a", base, 10)),
			deliveryIDs(b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID})))
	})

	// An event can be published again under the same idempotency key or the
	// same caller-chosen id; both name the same event.
	for _, reuse := range []struct {
		what string
		set  func(ev *outlet.Event)
	}{
		{"idempotency key", func(ev *outlet.Event) { ev.IdempotencyKey = "order-1" }},
		{"event id", func(ev *outlet.Event) { ev.ID = "order-1.paid" }},
	} {
		s.test(t, "publishing with a used "+reuse.what+" and the same content returns the stored event and creates nothing", func(t *testing.T, b *bundle) {
			b.tenant(t, "acme")
			b.endpoint(t, "acme")
			b.endpoint(t, "acme")
			first := newEvent("acme", paid, `{"amount":100}`, base)
			reuse.set(first)
			b.publish(t, first)

			again := newEvent("acme", paid, `{"amount":100}`, at(time.Minute))
			reuse.set(again)
			res := b.publishBatch(t, at(time.Minute), &outlet.PublishRequest{Event: again, LeaseOwner: "node-a", LeaseUntil: at(time.Minute + lease)})[0]
			check(t, res.Err)
			wantEqual(t, "replayed", res.Replayed, true)
			wantEqual(t, "deliveries", res.Deliveries, 2)
			wantEqual(t, "claims", len(res.Claims), 0)
			wantEvent(t, res.Event, first)

			evs, _, err := b.store.ListEvents(b.ctx, "acme", outlet.EventFilter{})
			check(t, err)
			wantIDs(t, "events", eventIDs(evs), []string{first.ID})
			wantEqual(t, "stored deliveries", len(b.deliveries(t, "acme", outlet.DeliveryFilter{})), 2)
		})

		s.test(t, "publishing with a used "+reuse.what+" and different content is ECONFLICT for that request alone", func(t *testing.T, b *bundle) {
			b.tenant(t, "acme")
			b.endpoint(t, "acme")
			first := newEvent("acme", paid, `{"amount":100}`, base)
			reuse.set(first)
			b.publish(t, first)

			for _, tc := range []struct{ name, typ, data string }{
				{"other data", paid, `{"amount":200}`},
				{"other type", "invoice.refunded", `{"amount":100}`},
			} {
				t.Run(tc.name, func(t *testing.T) {
					conflicting := newEvent("acme", tc.typ, tc.data, at(time.Minute))
					reuse.set(conflicting)
					fresh := newEvent("acme", paid, `{"amount":300}`, at(time.Minute))
					res := b.publishBatch(t, at(time.Minute), &outlet.PublishRequest{Event: conflicting}, &outlet.PublishRequest{Event: fresh})
					wantCode(t, res[0].Err, outlet.ECONFLICT)
					check(t, res[1].Err)
					wantEqual(t, "deliveries of the other request", res[1].Deliveries, 1)
					b.getEvent(t, "acme", fresh.ID)
				})
			}
			wantEvent(t, b.getEvent(t, "acme", first.ID), first)
			wantEqual(t, "stored deliveries", len(b.deliveries(t, "acme", outlet.DeliveryFilter{})), 3)
		})
	}

	s.test(t, "a refused replay names the stored event that holds the key, not its own unstored id", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.endpoint(t, "acme")
		first := newEvent("acme", paid, `{"amount":100}`, base)
		first.IdempotencyKey = "order-1"
		b.publish(t, first)
		other := newEvent("acme", paid, `{"amount":300}`, base)
		other.ID = "order-2.paid"
		b.publish(t, other)

		for _, tc := range []struct {
			name string
			id   string // of the refused request; "" for a new evt_ id
		}{
			{"with a new id", ""},
			{"with the id of another stored event", other.ID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				conflicting := newEvent("acme", paid, `{"amount":200}`, at(time.Minute))
				conflicting.IdempotencyKey = "order-1"
				if tc.id != "" {
					conflicting.ID = tc.id
				}
				res := b.publishBatch(t, at(time.Minute), &outlet.PublishRequest{Event: conflicting})
				wantCode(t, res[0].Err, outlet.ECONFLICT)
				msg := outlet.ErrorMessage(res[0].Err)
				if !strings.Contains(msg, `"`+first.ID+`"`) || !strings.Contains(msg, `"order-1"`) {
					t.Errorf("message %q doesn't name the key and the stored event %s that holds it", msg, first.ID)
				}
				if tc.id == "" && strings.Contains(msg, conflicting.ID) {
					t.Errorf("message %q names %s, the refused request's id, which was never stored", msg, conflicting.ID)
				}
			})
		}
	})

	s.test(t, "publishing for an unknown tenant is ENOTFOUND for that request alone", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.endpoint(t, "acme")
		ev := newEvent("acme", paid, `{}`, base)
		res := b.publishBatch(t, base,
			&outlet.PublishRequest{Event: newEvent("nobody", paid, `{}`, base)},
			&outlet.PublishRequest{Event: ev})
		wantCode(t, res[0].Err, outlet.ENOTFOUND)
		check(t, res[1].Err)
		wantEqual(t, "deliveries", res[1].Deliveries, 1)
		b.getEvent(t, "acme", ev.ID)
	})

	s.test(t, "a second request with the same idempotency key in one batch is replayed", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.endpoint(t, "acme")
		first, second := newEvent("acme", paid, `{"amount":100}`, base), newEvent("acme", paid, `{"amount":100}`, base)
		first.IdempotencyKey, second.IdempotencyKey = "order-1", "order-1"
		res := b.publishBatch(t, base,
			&outlet.PublishRequest{Event: first, LeaseOwner: "node-a", LeaseUntil: at(lease)},
			&outlet.PublishRequest{Event: second, LeaseOwner: "node-a", LeaseUntil: at(lease)})
		check(t, res[0].Err)
		check(t, res[1].Err)
		wantEqual(t, "first replayed", res[0].Replayed, false)
		wantEqual(t, "first claims", len(res[0].Claims), 1)
		wantEqual(t, "second replayed", res[1].Replayed, true)
		wantEqual(t, "second event", res[1].Event.ID, first.ID)
		wantEqual(t, "second deliveries", res[1].Deliveries, 1)
		wantEqual(t, "second claims", len(res[1].Claims), 0)
		wantEqual(t, "stored deliveries", len(b.deliveries(t, "acme", outlet.DeliveryFilter{})), 1)
	})

	s.test(t, "publishes racing with the same idempotency key make one event", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.endpoint(t, "acme")
		b.endpoint(t, "acme")
		const publishers = 4
		res := make([]outlet.PublishOutcome, publishers)
		errs := make([]error, publishers)
		var wg sync.WaitGroup
		for i := range publishers {
			wg.Go(func() {
				ev := newEvent("acme", paid, `{"amount":100}`, base)
				ev.IdempotencyKey = "order-1"
				rs, err := b.store.PublishEvents(b.ctx, []*outlet.PublishRequest{{Event: ev}}, base)
				if err == nil {
					res[i], err = rs[0], rs[0].Err
				}
				errs[i] = err
			})
		}
		wg.Wait()
		fresh := 0
		for i, r := range res {
			check(t, errs[i])
			if !r.Replayed {
				fresh++
			}
			wantEqual(t, "event", r.Event.ID, res[0].Event.ID)
			wantEqual(t, "deliveries", r.Deliveries, 2)
		}
		wantEqual(t, "publishes not replayed", fresh, 1)
		wantEqual(t, "stored deliveries", len(b.deliveries(t, "acme", outlet.DeliveryFilter{})), 2)
	})

	s.test(t, "the same idempotency key in two tenants makes two events", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		a, g := newEvent("acme", paid, `{}`, base), newEvent("globex", paid, `{}`, base)
		a.IdempotencyKey, g.IdempotencyKey = "order-1", "order-1"
		res := b.publishBatch(t, base, &outlet.PublishRequest{Event: a}, &outlet.PublishRequest{Event: g})
		for i, r := range res {
			check(t, r.Err)
			wantEqual(t, "replayed", r.Replayed, false)
			wantEqual(t, "event", r.Event.ID, []string{a.ID, g.ID}[i])
		}
		b.getEvent(t, "globex", g.ID)
	})
}

func eventTests(t *testing.T, s suite) {
	// fill publishes five events of acme a minute apart, alternating types,
	// and one of globex, and returns acme's in order.
	fill := func(t *testing.T, b *bundle) []*outlet.Event {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		var evs []*outlet.Event
		for i, typ := range []string{paid, "invoice.created", paid, "invoice.created", paid} {
			ev := newEvent("acme", typ, `{}`, at(time.Duration(i)*time.Minute))
			b.publish(t, ev)
			evs = append(evs, ev)
		}
		b.publish(t, newEvent("globex", paid, `{}`, at(time.Minute)))
		return evs
	}

	s.test(t, "events list newest first and filter by type, since and before", func(t *testing.T, b *bundle) {
		e := eventIDs(fill(t, b))
		for _, tc := range []struct {
			name   string
			filter outlet.EventFilter
			want   []string
		}{
			{"no filter", outlet.EventFilter{}, []string{e[4], e[3], e[2], e[1], e[0]}},
			{"type", outlet.EventFilter{Type: paid}, []string{e[4], e[2], e[0]}},
			{"since is inclusive", outlet.EventFilter{Since: at(2 * time.Minute)}, []string{e[4], e[3], e[2]}},
			{"before is exclusive", outlet.EventFilter{Before: at(2 * time.Minute)}, []string{e[1], e[0]}},
			{"since and before", outlet.EventFilter{Since: at(time.Minute), Before: at(3 * time.Minute)}, []string{e[2], e[1]}},
			{"type and since", outlet.EventFilter{Type: paid, Since: at(time.Minute)}, []string{e[4], e[2]}},
			{"type nobody published", outlet.EventFilter{Type: "customer.created"}, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, next, err := b.store.ListEvents(b.ctx, "acme", tc.filter)
				check(t, err)
				wantIDs(t, "events", eventIDs(got), tc.want)
				wantEqual(t, "next cursor", next, "")
			})
		}
	})

	s.test(t, "filtered events list across pages", func(t *testing.T, b *bundle) {
		e := eventIDs(fill(t, b))
		pages := walk(t, 2, func(p outlet.Page) ([]*outlet.Event, string, error) {
			return b.store.ListEvents(b.ctx, "acme", outlet.EventFilter{Page: p, Type: paid})
		})
		wantEqual(t, "pages", len(pages), 2)
		wantIDs(t, "events", eventIDs(slices.Concat(pages...)), []string{e[4], e[2], e[0]})
	})

	s.test(t, "a tenant can't see another tenant's events", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		ev := newEvent("acme", paid, `{}`, base)
		b.publish(t, ev)
		_, err := b.store.Event(b.ctx, "globex", ev.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		evs, _, err := b.store.ListEvents(b.ctx, "globex", outlet.EventFilter{})
		check(t, err)
		wantIDs(t, "globex's events", eventIDs(evs), []string{})
	})

	s.test(t, "getting an unknown event or listing an unknown tenant's events is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		_, err := b.store.Event(b.ctx, "acme", outlet.NewID(outlet.PrefixEvent))
		wantCode(t, err, outlet.ENOTFOUND)
		_, _, err = b.store.ListEvents(b.ctx, "nobody", outlet.EventFilter{})
		wantCode(t, err, outlet.ENOTFOUND)
	})
}
