package storetest

import (
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func flowTests(t *testing.T, s suite) {
	s.test(t, "an endpoint keeps its flow-control settings", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := newEndpoint("acme")
		ep.MaxInFlight, ep.RateLimit, ep.Ordered = 3, 50, true
		check(t, b.store.CreateEndpoint(b.ctx, ep))
		wantEndpoint(t, b.getEndpoint(t, ep), ep)

		got, err := b.store.UpdateEndpoint(b.ctx, "acme", ep.ID, outlet.EndpointUpdate{MaxInFlight: ptr(0), RateLimit: ptr(7), Ordered: ptr(false)}, at(time.Minute))
		check(t, err)
		ep.MaxInFlight, ep.RateLimit, ep.Ordered, ep.UpdatedAt = 0, 7, false, at(time.Minute)
		wantEndpoint(t, got, ep)
		wantEndpoint(t, b.getEndpoint(t, ep), ep)
	})

	s.test(t, "flow-control settings out of range are refused and change nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		for _, u := range []outlet.EndpointUpdate{
			{MaxInFlight: ptr(-1)}, {MaxInFlight: ptr(outlet.MaxEndpointInFlight + 1)},
			{RateLimit: ptr(-5)}, {RateLimit: ptr(outlet.MaxEndpointRateLimit + 1)},
		} {
			_, err := b.store.UpdateEndpoint(b.ctx, "acme", ep.ID, u, at(time.Minute))
			wantCode(t, err, outlet.EINVALID)
		}
		wantEndpoint(t, b.getEndpoint(t, ep), ep)
	})

	s.test(t, "a tenant keeps its publish rate limit", func(t *testing.T, b *bundle) {
		tn := newTenant("acme", base)
		tn.PublishRateLimit = 200
		check(t, b.store.CreateTenant(b.ctx, tn))
		got, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantTenant(t, got, tn)
		got, err = b.store.UpdateTenant(b.ctx, "acme", outlet.TenantUpdate{PublishRateLimit: ptr(0)}, at(time.Minute))
		check(t, err)
		tn.PublishRateLimit, tn.UpdatedAt = 0, at(time.Minute)
		wantTenant(t, got, tn)
		_, err = b.store.UpdateTenant(b.ctx, "acme", outlet.TenantUpdate{PublishRateLimit: ptr(-1)}, at(time.Hour))
		wantCode(t, err, outlet.EINVALID)
		got, err = b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantTenant(t, got, tn)
	})

	s.test(t, "a publish can hold an endpoint's deliveries back instead of claiming them", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		held := b.endpoint(t, "acme")
		plain := b.endpoint(t, "acme")
		res := b.publishBatch(t, base, &outlet.PublishRequest{Event: newEvent("acme", paid, `{}`, base), LeaseOwner: "node-a", LeaseUntil: at(lease),
			Hold: map[string]time.Time{held.ID: at(10 * time.Second)}})[0]
		check(t, res.Err)
		wantEqual(t, "deliveries made", res.Deliveries, 2)
		if len(res.Claims) != 1 || res.Claims[0].Delivery.Target.ID != plain.ID {
			t.Fatalf("claims at publish = %v; want only the delivery to the endpoint not held", claimIDs(res.Claims))
		}
		wantEqual(t, "deliveries unclaimed and due now", res.DueNow, 0)
		ds := b.deliveries(t, "acme", outlet.DeliveryFilter{EndpointID: held.ID})
		if len(ds) != 1 {
			t.Fatalf("held endpoint has %d deliveries; want 1", len(ds))
		}
		wantTimePtr(t, "held delivery due", ds[0].NextAttemptAt, ptr(at(10*time.Second)))
		wantIDs(t, "claimed before then", claimIDs(b.claim(t, "node-b", at(10*time.Second-time.Millisecond), 10)), []string{})
		wantIDs(t, "claimed then", claimIDs(b.claim(t, "node-b", at(10*time.Second), 10)), []string{ds[0].ID})
	})

	s.test(t, "an outcome from a node whose claim was taken over is dropped", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claimOne(t, "node-a", base)
		b.claimOne(t, "node-b", at(lease)) // node-a's lease ran out
		late := succeeded(d, at(time.Second))
		late.Owner = "node-a"
		b.complete(t, at(lease+time.Second), noDisable, late)
		got := b.getDelivery(t, d)
		wantEqual(t, "status after node-a's late outcome", got.Status, outlet.StatusPending)
		wantEqual(t, "attempts after node-a's late outcome", got.Attempts, 0)
		wantEqual(t, "still in flight for node-b", got.InFlight, true)
		if as := b.attempts(t, d); len(as) != 0 {
			t.Fatalf("node-a's late attempt was recorded: %v", as)
		}
		mine := succeeded(d, at(lease+time.Second))
		mine.Owner = "node-b"
		b.complete(t, at(lease+2*time.Second), noDisable, mine)
		wantEqual(t, "status after node-b's outcome", b.getDelivery(t, d).Status, outlet.StatusSucceeded)
	})

	s.test(t, "claims given back can be held back until later", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claimOne(t, "node-a", base)
		check(t, b.store.ReleaseClaims(b.ctx, "node-a", []string{d.ID}, at(10*time.Second)))
		got := b.getDelivery(t, d)
		wantEqual(t, "in flight", got.InFlight, false)
		wantTimePtr(t, "next attempt", got.NextAttemptAt, ptr(at(10*time.Second)))
		wantEqual(t, "attempts", got.Attempts, 0)
		wantIDs(t, "claimed before then", claimIDs(b.claim(t, "node-b", at(10*time.Second-time.Millisecond), 10)), []string{})
		wantIDs(t, "claimed then", claimIDs(b.claim(t, "node-b", at(10*time.Second), 10)), []string{d.ID})
	})
}

// orderedEndpoint creates an ordered endpoint of the tenant for every type.
func (b *bundle) orderedEndpoint(t *testing.T, tenantID string) *outlet.Endpoint {
	t.Helper()
	ep := newEndpoint(tenantID)
	ep.Ordered = true
	check(t, b.store.CreateEndpoint(b.ctx, ep))
	return ep
}

func orderedTests(t *testing.T, s suite) {
	s.test(t, "an ordered endpoint's deliveries are not claimed at publish", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ordered := b.orderedEndpoint(t, "acme")
		plain := b.endpoint(t, "acme")
		res := b.publishBatch(t, base, &outlet.PublishRequest{Event: newEvent("acme", paid, `{}`, base), LeaseOwner: "node-a", LeaseUntil: at(lease)})[0]
		check(t, res.Err)
		wantEqual(t, "deliveries made", res.Deliveries, 2)
		if len(res.Claims) != 1 || res.Claims[0].Delivery.Target.ID != plain.ID {
			t.Fatalf("claims at publish = %v; want only the delivery to the unordered endpoint", claimIDs(res.Claims))
		}
		wantEqual(t, "deliveries unclaimed and due now", res.DueNow, 1)
		c := b.claimOne(t, "node-b", base)
		wantEqual(t, "claimed target", c.Delivery.Target.ID, ordered.ID)
		wantEqual(t, "claimed delivery is ordered", c.Delivery.Ordered, true)
		wantEqual(t, "unordered delivery is ordered", res.Claims[0].Delivery.Ordered, false)
	})

	s.test(t, "only the oldest pending delivery of an ordered endpoint is claimed", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.orderedEndpoint(t, "acme")
		d1 := b.deliveryTo(t, ep, base)
		d2 := b.deliveryTo(t, ep, at(time.Millisecond))
		d3 := b.deliveryTo(t, ep, at(2*time.Millisecond))
		wantIDs(t, "first claim", claimIDs(b.claim(t, "node-a", at(time.Second), 10)), []string{d1.ID})
		wantIDs(t, "while the first is in flight", claimIDs(b.claim(t, "node-b", at(time.Second), 10)), []string{})

		// The first fails and waits for a retry: the others wait too.
		b.complete(t, at(2*time.Second), noDisable, retrying(d1, at(time.Second), at(time.Minute)))
		wantIDs(t, "while the first waits for its retry", claimIDs(b.claim(t, "node-a", at(30*time.Second), 10)), []string{})
		wantIDs(t, "the retry", claimIDs(b.claim(t, "node-a", at(time.Minute), 10)), []string{d1.ID})
		b.complete(t, at(time.Minute), noDisable, succeeded(d1, at(time.Minute)))
		wantIDs(t, "after the first succeeded", claimIDs(b.claim(t, "node-a", at(time.Minute), 10)), []string{d2.ID})

		// A final failure lets the next one go too.
		b.complete(t, at(time.Minute), noDisable, failed(d2, at(time.Minute)))
		wantIDs(t, "after the second failed for good", claimIDs(b.claim(t, "node-a", at(time.Minute), 10)), []string{d3.ID})
	})

	s.test(t, "ordered endpoints wait independently of each other and of unordered ones", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		a := b.orderedEndpoint(t, "acme")
		z := b.orderedEndpoint(t, "acme")
		plain := b.endpoint(t, "acme")
		var first, all []*outlet.Delivery
		for i := range 3 {
			ev := b.publish(t, newEvent("acme", paid, `{}`, at(time.Duration(i)*time.Millisecond))).Event
			ds := b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID})
			all = append(all, ds...)
			if i == 0 {
				first = ds
			}
		}
		var want []string
		for _, d := range all {
			if d.Target.ID == plain.ID {
				want = append(want, d.ID)
			}
		}
		for _, d := range first {
			if d.Target.ID == a.ID || d.Target.ID == z.ID {
				want = append(want, d.ID)
			}
		}
		wantSameIDs(t, "claimed", claimIDs(b.claim(t, "node-a", at(time.Second), 100)), want)
	})

	s.test(t, "deliveries waiting behind an ordered one are parked, due at no time", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.orderedEndpoint(t, "acme")
		d1 := b.deliveryTo(t, ep, base)
		d2 := b.deliveryTo(t, ep, at(time.Millisecond))
		wantTimePtr(t, "head's next attempt", b.getDelivery(t, d1).NextAttemptAt, ptr(base))
		wantTimePtr(t, "parked one's next attempt", b.getDelivery(t, d2).NextAttemptAt, nil)
		b.claimOne(t, "node-a", at(time.Second))
		next, err := b.store.NextDue(b.ctx)
		check(t, err)
		wantTimePtr(t, "next due while the head is in flight", next, ptr(at(time.Second+lease)))

		// Finished by an outcome that doesn't name the endpoint (it wasn't
		// sent: the payload was gone), the next one is due all the same.
		o := failed(d1, at(time.Second))
		o.EndpointID = ""
		b.complete(t, at(2*time.Second), noDisable, o)
		wantTimePtr(t, "next one's next attempt", b.getDelivery(t, d2).NextAttemptAt, ptr(at(2*time.Second)))
		wantIDs(t, "claimed next", claimIDs(b.claim(t, "node-a", at(2*time.Second), 10)), []string{d2.ID})
	})

	// Nodes' clocks disagree: a delivery published later by a node whose
	// clock is behind carries an earlier time than one published before it.
	// The order is the publishes', not the clocks'.
	s.test(t, "an ordered endpoint's deliveries go in publish order whatever time their nodes read", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.orderedEndpoint(t, "acme")
		head := b.deliveryTo(t, ep, base)
		first := b.deliveryTo(t, ep, at(3*time.Second))  // node 1
		second := b.deliveryTo(t, ep, at(1*time.Second)) // then node 2, its clock 2s behind
		wantIDs(t, "claimed first", claimIDs(b.claim(t, "node-a", at(4*time.Second), 10)), []string{head.ID})
		b.complete(t, at(4*time.Second), noDisable, succeeded(head, at(4*time.Second)))
		wantIDs(t, "after the head", claimIDs(b.claim(t, "node-a", at(4*time.Second), 10)), []string{first.ID})
		b.complete(t, at(5*time.Second), noDisable, succeeded(first, at(5*time.Second)))
		wantIDs(t, "after the first", claimIDs(b.claim(t, "node-a", at(5*time.Second), 10)), []string{second.ID})
	})

	s.test(t, "a lease that runs out gives an ordered delivery back in its place", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.orderedEndpoint(t, "acme")
		d1 := b.deliveryTo(t, ep, base)
		b.deliveryTo(t, ep, at(time.Millisecond))
		wantIDs(t, "claimed by node-a", claimIDs(b.claim(t, "node-a", base, 10)), []string{d1.ID})
		wantIDs(t, "claimed by node-b after the lease", claimIDs(b.claim(t, "node-b", at(lease), 10)), []string{d1.ID})
	})
}

func usageTests(t *testing.T, s suite) {
	s.test(t, "publishes count events and deliveries, replays count nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.endpoint(t, "acme")
		b.endpoint(t, "acme", "order.*")
		ev := newEvent("acme", paid, `{}`, base)
		b.publish(t, ev)
		b.publish(t, newEvent("acme", "order.created", `{}`, at(time.Second)))
		replay := *ev
		if res := b.publish(t, &replay); !res.Replayed {
			t.Fatalf("the second publish of %s was not a replay", ev.ID)
		}
		b.publish(t, newEvent("globex", paid, `{}`, base))
		wantUsage(t, b.usage(t, "acme", base, at(day)), []outlet.Usage{{Day: "2026-01-02", Events: 2, Deliveries: 3}})
		wantUsage(t, b.usage(t, "globex", base, at(day)), []outlet.Usage{{Day: "2026-01-02", Events: 1}})
	})

	s.test(t, "a publish that fails counts nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.endpoint(t, "acme")
		ev := newEvent("acme", paid, `{}`, base)
		b.publish(t, ev)
		clash := newEvent("acme", paid, `{"other":true}`, base)
		clash.ID = ev.ID
		res := b.publishBatch(t, base, &outlet.PublishRequest{Event: clash})[0]
		wantCode(t, res.Err, outlet.ECONFLICT)
		wantUsage(t, b.usage(t, "acme", base, at(day)), []outlet.Usage{{Day: "2026-01-02", Events: 1, Deliveries: 1}})
	})

	s.test(t, "attempts count on the day they are recorded", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claimOne(t, "node-a", base)
		b.complete(t, base, noDisable, retrying(d, base, at(day)))
		b.claimOne(t, "node-a", at(day))
		b.complete(t, at(day), noDisable, succeeded(d, at(day)))
		wantUsage(t, b.usage(t, "acme", base, at(2*day)), []outlet.Usage{
			{Day: "2026-01-02", Events: 1, Deliveries: 1, Attempts: 1},
			{Day: "2026-01-03", Attempts: 1},
		})
		wantUsage(t, b.usage(t, "acme", at(day), at(2*day)), []outlet.Usage{{Day: "2026-01-03", Attempts: 1}})
		wantUsage(t, b.usage(t, "acme", base, at(day).Truncate(day)), []outlet.Usage{{Day: "2026-01-02", Events: 1, Deliveries: 1, Attempts: 1}})
	})

	s.test(t, "function use adds up per tenant and day", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		check(t, b.store.AddFunctionUsage(b.ctx, []outlet.FunctionUsage{
			{TenantID: "acme", At: base, Invocations: 3, CPUMs: 12},
			{TenantID: "acme", At: at(time.Hour), Invocations: 1, CPUMs: 5},
			{TenantID: "globex", At: base, Invocations: 2, CPUMs: 1},
			{TenantID: "acme", At: at(3 * day), Invocations: 1, CPUMs: 0},
		}))
		check(t, b.store.AddFunctionUsage(b.ctx, nil))
		wantUsage(t, b.usage(t, "acme", at(-day), at(7*day)), []outlet.Usage{
			{Day: "2026-01-02", FunctionInvocations: 4, FunctionCPUMs: 17},
			{Day: "2026-01-05", FunctionInvocations: 1},
		})
		wantUsage(t, b.usage(t, "globex", base, at(day)), []outlet.Usage{{Day: "2026-01-02", FunctionInvocations: 2, FunctionCPUMs: 1}})
	})

	s.test(t, "usage of an unknown tenant is not found, and goes with a deleted one", func(t *testing.T, b *bundle) {
		_, err := b.store.Usage(b.ctx, "nope", base, at(day))
		wantCode(t, err, outlet.ENOTFOUND)
		b.tenant(t, "acme")
		b.publish(t, newEvent("acme", paid, `{}`, base))
		check(t, b.store.DeleteTenant(b.ctx, "acme"))
		check(t, b.store.AddFunctionUsage(b.ctx, []outlet.FunctionUsage{{TenantID: "acme", At: base, Invocations: 1}}))
		b.tenant(t, "acme")
		wantUsage(t, b.usage(t, "acme", base, at(day)), nil)
	})
}

func (b *bundle) usage(t *testing.T, tenantID string, since, before time.Time) []*outlet.Usage {
	t.Helper()
	u, err := b.store.Usage(b.ctx, tenantID, since, before)
	check(t, err)
	return u
}

func wantUsage(t *testing.T, got []*outlet.Usage, want []outlet.Usage) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("usage has %d days; want %d: %+v", len(got), len(want), derefAll(got))
		return
	}
	for i := range want {
		if *got[i] != want[i] {
			t.Errorf("usage day %d = %+v; want %+v", i, *got[i], want[i])
		}
	}
}

func derefAll[T any](ps []*T) []T {
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}
