package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// functionDelivery returns the delivery the event made to the named function.
func (b *bundle) functionDelivery(t *testing.T, tenantID, name, eventID string) *outlet.Delivery {
	t.Helper()
	ds := b.deliveries(t, tenantID, outlet.DeliveryFilter{EventID: eventID, Function: name})
	if len(ds) != 1 {
		t.Fatalf("event %s made %d deliveries to function %q; want 1", eventID, len(ds), name)
	}
	return ds[0]
}

func functionFanoutTests(t *testing.T, s suite) {
	s.test(t, "an event fans out to every function of the tenant whose active version's filters match its type", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.declare(t, discount)
		cases := []struct {
			name   string
			tenant string
			events []string
			want   bool
		}{
			{"exact", "acme", []string{"invoice.paid"}, true},
			{"other-exact", "acme", []string{"invoice.created"}, false},
			{"wildcard", "acme", []string{"invoice.*"}, true},
			{"other-wildcard", "acme", []string{"customer.*"}, false},
			{"star", "acme", []string{"*"}, true},
			{"one-of-several", "acme", []string{"customer.created", "invoice.paid"}, true},
			{"no-events", "acme", nil, false},
			{"theirs", "globex", []string{"*"}, false},
		}
		var want []string
		for _, c := range cases {
			b.deployFor(t, c.tenant, c.name, base, c.events...)
			if c.want {
				want = append(want, c.name)
			}
		}
		// A function that serves a hook alone gets no events.
		b.deployServing(t, "acme", "hook-only", base, discount)
		// A function whose earlier version matched gets nothing now.
		b.deployFor(t, "acme", "was-bound", base, "*")
		b.deployFor(t, "acme", "was-bound", base, "customer.*")

		ev := newEvent("acme", paid, `{"amount":100}`, at(time.Minute))
		res := b.publish(t, ev)
		wantEqual(t, "deliveries", res.Deliveries, len(want))
		var got []string
		for _, d := range b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID}) {
			got = append(got, d.Target.ID)
			wantEqual(t, "delivery target type", d.Target.Type, outlet.TargetFunction)
			wantEqual(t, "delivery tenant", d.TenantID, "acme")
			wantEqual(t, "delivery event", d.EventID, ev.ID)
			wantEqual(t, "delivery event type", d.EventType, paid)
			wantEqual(t, "delivery status", d.Status, outlet.StatusPending)
			wantEqual(t, "delivery attempts", d.Attempts, 0)
			wantTimePtr(t, "delivery next_attempt_at", d.NextAttemptAt, ptr(at(time.Minute)))
			wantTime(t, "delivery created_at", d.CreatedAt, at(time.Minute))
		}
		wantSameIDs(t, "functions delivered to", got, want)
		wantEqual(t, "globex's deliveries", len(b.deliveries(t, "globex", outlet.DeliveryFilter{})), 0)
	})

	s.test(t, "an event fans out to endpoints and functions alike", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme", paid)
		b.deployFor(t, "acme", "pricing", base, paid)
		ev := newEvent("acme", paid, `{}`, base)
		wantEqual(t, "deliveries", b.publish(t, ev).Deliveries, 2)
		var got []string
		for _, d := range b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID}) {
			got = append(got, string(d.Target.Type)+":"+d.Target.ID)
		}
		wantSameIDs(t, "targets", got, []string{"endpoint:" + ep.ID, "function:pricing"})
	})

	s.test(t, "a leased publish returns function deliveries claimed, with the event and no endpoint", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		b.deployFor(t, "acme", "pricing", base, "*")
		ev := newEvent("acme", paid, `{"amount":100}`, base)
		res := b.publishBatch(t, base, &outlet.PublishRequest{Event: ev, LeaseOwner: "node-a", LeaseUntil: at(lease)})[0]
		check(t, res.Err)
		wantEqual(t, "claims", len(res.Claims), 2)
		wantClaimsFilled(t, res.Claims)
		var fn *outlet.Claim
		for _, c := range res.Claims {
			switch c.Delivery.Target {
			case outlet.Target{Type: outlet.TargetFunction, ID: "pricing"}:
				fn = c
			case outlet.Target{Type: outlet.TargetEndpoint, ID: ep.ID}:
			default:
				t.Errorf("claim of a delivery to %+v", c.Delivery.Target)
			}
		}
		if fn == nil {
			t.Fatalf("no claim of the function's delivery")
		}
		wantEqual(t, "claimed event data", string(fn.Event.Data), `{"amount":100}`)
		wantEqual(t, "claim in flight", fn.Delivery.InFlight, true)
		if fn.Endpoint != nil {
			t.Errorf("function claim carries endpoint %s", fn.Endpoint.ID)
		}
		wantEqual(t, "claim is stored", b.getDelivery(t, fn.Delivery).InFlight, true)
		wantIDs(t, "claimed by node-b during the lease", claimIDs(b.claim(t, "node-b", at(lease-time.Millisecond), 10)), []string{})
	})

	s.test(t, "claiming returns function deliveries with the event and no endpoint", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.deployFor(t, "acme", "pricing", base, paid)
		ev := b.publish(t, newEvent("acme", paid, `{"amount":100}`, base)).Event
		c := b.claimOne(t, "node-a", base)
		wantEqual(t, "claimed target", c.Delivery.Target, outlet.Target{Type: outlet.TargetFunction, ID: "pricing"})
		wantEqual(t, "claimed event", c.Event.ID, ev.ID)
		wantEqual(t, "claimed event data", string(c.Event.Data), `{"amount":100}`)
		if c.Endpoint != nil {
			t.Errorf("function claim carries endpoint %s", c.Endpoint.ID)
		}
	})

	s.test(t, "retrying a failed function delivery claims it with no endpoint", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.deployFor(t, "acme", "pricing", base, paid)
		ev := b.publish(t, newEvent("acme", paid, `{}`, base)).Event
		d := b.functionDelivery(t, "acme", "pricing", ev.ID)
		b.complete(t, at(time.Second), noDisable, failed(d, at(time.Second)))
		c, err := b.store.RetryDelivery(b.ctx, "acme", d.ID, "node-a", at(time.Hour), at(time.Hour+lease))
		check(t, err)
		wantClaimsFilled(t, []*outlet.Claim{c})
		wantEqual(t, "claimed delivery", c.Delivery.ID, d.ID)
		wantEqual(t, "claimed trigger", c.Delivery.Trigger, outlet.TriggerManual)
	})

	// A store may cache what a publish fans out to, but never serve stale
	// answers: each change below is seen by the very next publish.
	s.test(t, "every change to a tenant's functions is seen by the next publish", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		fanout := func(step string, want ...string) {
			t.Helper()
			res := b.publish(t, newEvent("acme", paid, `{}`, base))
			var got []string
			for _, d := range b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: res.Event.ID}) {
				got = append(got, d.Target.ID)
			}
			if want == nil {
				want = []string{}
			}
			wantSameIDs(t, step, got, want)
		}
		fanout("no functions")
		b.deployFor(t, "acme", "pricing", base, paid)
		fanout("after a first deploy", "pricing")
		b.deployFor(t, "acme", "audit", base, "customer.*")
		fanout("after deploying one for other types", "pricing")
		b.deployFor(t, "acme", "audit", base, "invoice.*")
		fanout("after redeploying it for this type", "pricing", "audit")
		b.deployFor(t, "acme", "pricing", base)
		fanout("after redeploying one without events", "audit")
		b.activate(t, "acme", "pricing", 1, base)
		fanout("after rolling it back", "pricing", "audit")
		b.activate(t, "acme", "audit", 1, base)
		fanout("after rolling the other back to other types", "pricing")
		b.deployFor(t, "globex", "spy", base, "*")
		fanout("after another tenant's deploy", "pricing")
		check(t, b.store.DeleteFunction(b.ctx, "acme", "pricing"))
		fanout("after deleting one")
		b.deployFor(t, "acme", "pricing", base, "*")
		fanout("after deploying it again", "pricing")
		check(t, b.store.DeleteTenant(b.ctx, "acme"))
		b.tenant(t, "acme")
		fanout("after the tenant was deleted and created again")
	})

	s.test(t, "a failed deploy or rollback leaves the fan-out as it was", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount)
		b.deployFor(t, "acme", "pricing", base, paid)
		b.deployFor(t, "acme", "pricing", base, "customer.*")
		b.putHookEndpoint(t, "acme", discount, base)
		bad := newVersion("acme", "pricing")
		bad.Events, bad.Hooks = []string{"*"}, []string{discount}
		wantCode(t, b.store.DeployFunction(b.ctx, bad, base), outlet.ECONFLICT)
		wantEqual(t, "deliveries after a refused deploy", b.publish(t, newEvent("acme", paid, `{}`, base)).Deliveries, 0)
		_, err := b.store.ActivateFunctionVersion(b.ctx, "acme", "pricing", 3, base)
		wantCode(t, err, outlet.ENOTFOUND)
		wantEqual(t, "deliveries after a refused rollback", b.publish(t, newEvent("acme", paid, `{}`, base)).Deliveries, 0)
	})

	s.test(t, "listing deliveries by function lists only that function's", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.endpoint(t, "acme")
		b.deployFor(t, "acme", "pricing", base, "*")
		b.deployFor(t, "acme", "audit", base, "*")
		b.deployFor(t, "globex", "pricing", base, "*")
		var want []string
		for i := range 3 {
			ev := b.publish(t, newEvent("acme", paid, `{}`, at(time.Duration(i)*time.Minute))).Event
			want = append([]string{b.functionDelivery(t, "acme", "pricing", ev.ID).ID}, want...)
			b.publish(t, newEvent("globex", paid, `{}`, at(time.Duration(i)*time.Minute)))
		}
		wantIDs(t, "pricing's deliveries", deliveryIDs(b.deliveries(t, "acme", outlet.DeliveryFilter{Function: "pricing"})), want)
		wantIDs(t, "an unknown function's deliveries", deliveryIDs(b.deliveries(t, "acme", outlet.DeliveryFilter{Function: "nothing"})), []string{})
		for _, d := range b.deliveries(t, "globex", outlet.DeliveryFilter{Function: "pricing"}) {
			if slices.Contains(want, d.ID) {
				t.Errorf("globex's pricing lists acme's delivery %s", d.ID)
			}
		}
	})

	// Function names are the tenant's to choose, so one may look like an
	// endpoint id; deliveries to them must never mix.
	s.test(t, "a function named like an endpoint's id shares none of the endpoint's deliveries", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme", paid)
		b.deployFor(t, "acme", ep.ID, base, paid)
		ev := b.publish(t, newEvent("acme", paid, `{}`, base)).Event
		toEndpoint := b.deliveries(t, "acme", outlet.DeliveryFilter{EndpointID: ep.ID})
		toFunction := b.deliveries(t, "acme", outlet.DeliveryFilter{Function: ep.ID})
		if len(toEndpoint) != 1 || toEndpoint[0].Target.Type != outlet.TargetEndpoint {
			t.Fatalf("deliveries listed for the endpoint = %+v; want its one", toEndpoint)
		}
		if len(toFunction) != 1 || toFunction[0].Target.Type != outlet.TargetFunction {
			t.Fatalf("deliveries listed for the function = %+v; want its one", toFunction)
		}
		wantClaimsFilled(t, b.claim(t, "node-a", base, 10))
		b.complete(t, at(time.Second), noDisable, failed(toEndpoint[0], at(time.Second)), failed(toFunction[0], at(time.Second)))

		n, err := b.store.RecoverEndpoint(b.ctx, "acme", ep.ID, base, at(time.Hour))
		check(t, err)
		wantEqual(t, "recovered", n, 1)
		wantEqual(t, "function delivery status after the recover", b.getDelivery(t, toFunction[0]).Status, outlet.StatusFailed)

		check(t, b.store.DeleteEndpoint(b.ctx, "acme", ep.ID))
		wantIDs(t, "deliveries left", deliveryIDs(b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID})), []string{toFunction[0].ID})
	})
}

func functionAttemptTests(t *testing.T, s suite) {
	s.test(t, "a function attempt reads back with the version that ran and its logs", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.deployFor(t, "acme", "pricing", base, paid)
		b.deployFor(t, "acme", "pricing", base, paid)
		ev := b.publish(t, newEvent("acme", paid, `{}`, base)).Event
		d := b.functionDelivery(t, "acme", "pricing", ev.ID)
		a := &outlet.Attempt{
			ID:              outlet.NewID(outlet.PrefixAttempt),
			Trigger:         outlet.TriggerScheduled,
			StartedAt:       at(time.Second),
			DurationMs:      12,
			Error:           "TypeError: cart is undefined",
			FunctionVersion: 2,
			Logs:            "checking cart\nZoë's cart: {}\n\x1b[31mfailed\x1b[0m\n",
		}
		b.complete(t, at(2*time.Second), noDisable, &outlet.AttemptOutcome{
			TenantID: "acme", DeliveryID: d.ID, Attempt: a, Status: outlet.StatusPending, NextAttemptAt: at(time.Minute),
		})
		as := b.attempts(t, d)
		if len(as) != 1 {
			t.Fatalf("got %d attempts; want 1", len(as))
		}
		wantEqual(t, "attempt function version", as[0].FunctionVersion, 2)
		wantEqual(t, "attempt logs", as[0].Logs, a.Logs)
		wantEqual(t, "attempt error", as[0].Error, a.Error)
		wantEqual(t, "attempt url", as[0].URL, "")
		wantEqual(t, "attempt status code", as[0].StatusCode, 0)
	})

	s.test(t, "an endpoint attempt reads back with no function version and no logs", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, succeeded(d, at(time.Second)))
		as := b.attempts(t, d)
		if len(as) != 1 {
			t.Fatalf("got %d attempts; want 1", len(as))
		}
		wantEqual(t, "attempt function version", as[0].FunctionVersion, 0)
		wantEqual(t, "attempt logs", as[0].Logs, "")
	})

	s.test(t, "purging deletes old function deliveries with their attempts and logs, and keeps recent ones", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.deployFor(t, "acme", "pricing", base, paid)
		cutoff := at(day)
		attempt := func(now time.Time, body string) *outlet.Delivery {
			ev := b.publish(t, newEvent("acme", paid, `{}`, now)).Event
			d := b.functionDelivery(t, "acme", "pricing", ev.ID)
			b.complete(t, now, noDisable, &outlet.AttemptOutcome{TenantID: "acme", DeliveryID: d.ID, Status: outlet.StatusSucceeded,
				Attempt: &outlet.Attempt{ID: outlet.NewID(outlet.PrefixAttempt), Trigger: outlet.TriggerScheduled, StartedAt: now,
					Succeeded: true, ResponseBody: body, FunctionVersion: 1, Logs: "hello\n"}})
			return d
		}
		oldWithBody := attempt(base, `{"ok":true}`)
		oldLogsOnly := attempt(at(time.Minute), "")
		recent := attempt(cutoff, `{"ok":true}`)

		p, err := b.store.PurgeExpired(b.ctx, cutoff, 100)
		check(t, err)
		wantEqual(t, "purged attempts", p.Attempts, 2)
		for _, d := range []*outlet.Delivery{oldWithBody, oldLogsOnly} {
			_, err := b.store.ListAttempts(b.ctx, "acme", d.ID)
			wantCode(t, err, outlet.ENOTFOUND)
		}
		as := b.attempts(t, recent)
		if len(as) != 1 {
			t.Fatalf("recent delivery: %d attempts; want 1", len(as))
		}
		wantEqual(t, "recent attempt's logs", as[0].Logs, "hello\n")
		wantEqual(t, "recent attempt's function version", as[0].FunctionVersion, 1)
		p, err = b.store.PurgeExpired(b.ctx, cutoff, 100)
		check(t, err)
		wantEqual(t, "purged attempts the second time", p.Attempts, 0)
	})
}
