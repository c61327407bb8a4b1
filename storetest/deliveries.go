package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func retryTests(t *testing.T, s suite) {
	s.test(t, "retrying a failed delivery re-opens it for one attempt, claimed by the caller", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, failed(d, at(time.Second)))

		now := at(time.Hour)
		c, err := b.store.RetryDelivery(b.ctx, "acme", d.ID, "node-a", now, now.Add(lease))
		check(t, err)
		wantClaimsFilled(t, []*outlet.Claim{c})
		wantEqual(t, "claimed delivery", c.Delivery.ID, d.ID)
		wantEqual(t, "claimed status", c.Delivery.Status, outlet.StatusPending)
		wantEqual(t, "claimed single attempt", c.Delivery.SingleAttempt, true)
		wantEqual(t, "claimed trigger", c.Delivery.Trigger, outlet.TriggerManual)
		wantEqual(t, "claimed event data", string(c.Event.Data), `{"amount":100}`)

		got := b.getDelivery(t, d)
		wantEqual(t, "status", got.Status, outlet.StatusPending)
		wantEqual(t, "single attempt", got.SingleAttempt, true)
		wantEqual(t, "attempts", got.Attempts, 1)

		wantIDs(t, "claimed by node-b during the lease", claimIDs(b.claim(t, "node-b", now.Add(lease-time.Millisecond), 10)), []string{})
		cs := b.claim(t, "node-b", now.Add(lease), 10)
		wantIDs(t, "claimed by node-b once the lease ran out", claimIDs(cs), []string{d.ID})
		if len(cs) == 1 {
			wantEqual(t, "reclaimed single attempt", cs[0].Delivery.SingleAttempt, true)
			wantEqual(t, "reclaimed trigger", cs[0].Delivery.Trigger, outlet.TriggerManual)
		}
	})

	s.test(t, "retrying a pending delivery claims it and keeps its schedule", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, retrying(d, at(time.Second), at(time.Hour)))
		c, err := b.store.RetryDelivery(b.ctx, "acme", d.ID, "node-a", at(time.Minute), at(time.Minute+lease))
		check(t, err)
		wantEqual(t, "claimed single attempt", c.Delivery.SingleAttempt, false)
		wantEqual(t, "claimed trigger", c.Delivery.Trigger, outlet.TriggerManual)
		wantEqual(t, "single attempt", b.getDelivery(t, d).SingleAttempt, false)
		wantIDs(t, "claimed by node-b during the lease", claimIDs(b.claim(t, "node-b", at(time.Minute+time.Second), 10)), []string{})
	})

	s.test(t, "retrying a delivery whose attempt is in flight is ECONFLICT until the lease runs out", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claim(t, "node-a", base, 10)
		_, err := b.store.RetryDelivery(b.ctx, "acme", d.ID, "node-b", at(time.Second), at(time.Second+lease))
		wantCode(t, err, outlet.ECONFLICT)
		_, err = b.store.RetryDelivery(b.ctx, "acme", d.ID, "node-b", at(lease), at(2*lease))
		check(t, err)
	})

	s.test(t, "retrying a delivery of a disabled endpoint is ECONFLICT", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, failed(d, at(time.Second)))
		b.disable(t, ep, at(time.Minute))
		_, err := b.store.RetryDelivery(b.ctx, "acme", d.ID, "node-a", at(time.Hour), at(time.Hour+lease))
		wantCode(t, err, outlet.ECONFLICT)
		wantEqual(t, "status", b.getDelivery(t, d).Status, outlet.StatusFailed)
	})

	s.test(t, "retrying an unknown delivery or another tenant's is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		d := b.deliveryTo(t, b.endpoint(t, "acme"), base)
		b.complete(t, at(time.Second), noDisable, failed(d, at(time.Second)))
		for _, tc := range []struct{ name, tenant, id string }{
			{"unknown", "acme", outlet.NewID(outlet.PrefixDelivery)},
			{"another tenant's", "globex", d.ID},
		} {
			_, err := b.store.RetryDelivery(b.ctx, tc.tenant, tc.id, "node-a", at(time.Hour), at(time.Hour+lease))
			if code := outlet.ErrorCode(err); code != outlet.ENOTFOUND {
				t.Errorf("retrying %s delivery: error code %q; want %q", tc.name, code, outlet.ENOTFOUND)
			}
		}
		wantEqual(t, "status", b.getDelivery(t, d).Status, outlet.StatusFailed)
	})
}

func recoverTests(t *testing.T, s suite) {
	s.test(t, "recovering an endpoint re-opens only its failed deliveries created since the given time", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		// Each endpoint subscribes to a type of its own, so that each
		// publish makes one delivery.
		ep, other := b.endpoint(t, "acme", paid), b.endpoint(t, "acme", "invoice.refunded")
		since := at(time.Hour)
		finish := func(ep *outlet.Endpoint, created time.Time, o func(*outlet.Delivery, time.Time) *outlet.AttemptOutcome) *outlet.Delivery {
			d := b.deliveryOf(t, ep, ep.EventTypes[0], created)
			b.complete(t, created.Add(time.Second), noDisable, o(d, created.Add(time.Second)))
			return d
		}
		older := finish(ep, since.Add(-time.Millisecond), failed)
		atSince := finish(ep, since, failed)
		newer := finish(ep, since.Add(time.Minute), failed)
		done := finish(ep, since.Add(time.Minute), succeeded)
		others := finish(other, since.Add(time.Minute), failed)
		pending := b.deliveryTo(t, ep, since.Add(time.Minute))

		now := at(2 * time.Hour)
		n, err := b.store.RecoverEndpoint(b.ctx, "acme", ep.ID, since, now)
		check(t, err)
		wantEqual(t, "recovered", n, 2)
		for _, d := range []*outlet.Delivery{atSince, newer} {
			got := b.getDelivery(t, d)
			wantEqual(t, "recovered status", got.Status, outlet.StatusPending)
			wantEqual(t, "recovered single attempt", got.SingleAttempt, true)
			wantEqual(t, "recovered trigger", got.Trigger, outlet.TriggerRecover)
		}
		for _, tc := range []struct {
			d      *outlet.Delivery
			status outlet.DeliveryStatus
		}{{older, outlet.StatusFailed}, {done, outlet.StatusSucceeded}, {others, outlet.StatusFailed}} {
			wantEqual(t, "untouched status", b.getDelivery(t, tc.d).Status, tc.status)
		}
		wantSameIDs(t, "due after recovering", claimIDs(b.claim(t, "node-a", now, 10)), []string{atSince.ID, newer.ID, pending.ID})
	})

	s.test(t, "recovering an endpoint with nothing failed re-opens nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		b.deliveryTo(t, ep, base)
		n, err := b.store.RecoverEndpoint(b.ctx, "acme", ep.ID, base, at(time.Hour))
		check(t, err)
		wantEqual(t, "recovered", n, 0)
	})

	s.test(t, "recovering a disabled endpoint is ECONFLICT", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, failed(d, at(time.Second)))
		b.disable(t, ep, at(time.Minute))
		_, err := b.store.RecoverEndpoint(b.ctx, "acme", ep.ID, base, at(time.Hour))
		wantCode(t, err, outlet.ECONFLICT)
		wantEqual(t, "status", b.getDelivery(t, d).Status, outlet.StatusFailed)
	})
}

func deliveryTests(t *testing.T, s suite) {
	s.test(t, "deliveries list newest first and filter by event, endpoint, status, since and before", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		all, invoices := b.endpoint(t, "acme"), b.endpoint(t, "acme", "invoice.*")
		b.deliveryTo(t, b.endpoint(t, "globex"), at(time.Minute))

		var e [3]*outlet.Event
		d := map[string]*outlet.Delivery{} // by event index and endpoint: "0all"
		for i, typ := range []string{paid, "customer.created", paid} {
			e[i] = newEvent("acme", typ, `{}`, at(time.Duration(i)*time.Minute))
			b.publish(t, e[i])
			for _, x := range b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: e[i].ID}) {
				name := "all"
				if x.Target.ID == invoices.ID {
					name = "invoices"
				}
				d[fmt.Sprint(i, name)] = x
			}
		}
		b.complete(t, at(3*time.Minute), noDisable, succeeded(d["0all"], at(3*time.Minute)), failed(d["0invoices"], at(3*time.Minute)))
		pick := func(keys ...string) []string {
			var out []string
			for _, k := range keys {
				out = append(out, d[k].ID)
			}
			return out
		}

		for _, tc := range []struct {
			name   string
			filter outlet.DeliveryFilter
			want   []string
		}{
			{"no filter", outlet.DeliveryFilter{}, pick("0all", "0invoices", "1all", "2all", "2invoices")},
			{"event", outlet.DeliveryFilter{EventID: e[0].ID}, pick("0all", "0invoices")},
			{"endpoint", outlet.DeliveryFilter{EndpointID: invoices.ID}, pick("0invoices", "2invoices")},
			{"succeeded", outlet.DeliveryFilter{Status: outlet.StatusSucceeded}, pick("0all")},
			{"failed", outlet.DeliveryFilter{Status: outlet.StatusFailed}, pick("0invoices")},
			{"pending", outlet.DeliveryFilter{Status: outlet.StatusPending}, pick("1all", "2all", "2invoices")},
			{"since is inclusive", outlet.DeliveryFilter{Since: at(time.Minute)}, pick("1all", "2all", "2invoices")},
			{"before is exclusive", outlet.DeliveryFilter{Before: at(2 * time.Minute)}, pick("0all", "0invoices", "1all")},
			{"endpoint and status", outlet.DeliveryFilter{EndpointID: all.ID, Status: outlet.StatusPending}, pick("1all", "2all")},
			{"unknown event", outlet.DeliveryFilter{EventID: outlet.NewID(outlet.PrefixEvent)}, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, next, err := b.store.ListDeliveries(b.ctx, "acme", tc.filter)
				check(t, err)
				wantSameIDs(t, "deliveries", deliveryIDs(got), tc.want)
				wantEqual(t, "next cursor", next, "")
				for i := 1; i < len(got); i++ {
					if got[i].CreatedAt.After(got[i-1].CreatedAt) {
						t.Errorf("delivery %s of %v comes after one of %v; want newest first", got[i].ID, got[i].CreatedAt, got[i-1].CreatedAt)
					}
				}
			})
		}
	})

	s.test(t, "filtered deliveries list newest first across pages", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		b.endpoint(t, "acme")
		var want []string
		for i := range 5 {
			want = append([]string{b.deliveryTo(t, ep, at(time.Duration(i)*time.Minute)).ID}, want...)
		}
		pages := walk(t, 2, func(p outlet.Page) ([]*outlet.Delivery, string, error) {
			return b.store.ListDeliveries(b.ctx, "acme", outlet.DeliveryFilter{Page: p, EndpointID: ep.ID})
		})
		wantEqual(t, "pages", len(pages), 3)
		wantIDs(t, "deliveries", deliveryIDs(slices.Concat(pages...)), want)
	})

	s.test(t, "a tenant can't see another tenant's deliveries or their attempts", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, failed(d, at(time.Second)))
		_, err := b.store.Delivery(b.ctx, "globex", d.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.ListAttempts(b.ctx, "globex", d.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		for _, f := range []outlet.DeliveryFilter{{}, {EventID: d.EventID}, {EndpointID: ep.ID}} {
			wantIDs(t, "globex's deliveries", deliveryIDs(b.deliveries(t, "globex", f)), []string{})
		}
	})

	s.test(t, "getting an unknown delivery, its attempts or an unknown tenant's deliveries is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		id := outlet.NewID(outlet.PrefixDelivery)
		_, err := b.store.Delivery(b.ctx, "acme", id)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.ListAttempts(b.ctx, "acme", id)
		wantCode(t, err, outlet.ENOTFOUND)
		_, _, err = b.store.ListDeliveries(b.ctx, "nobody", outlet.DeliveryFilter{})
		wantCode(t, err, outlet.ENOTFOUND)
	})
}
