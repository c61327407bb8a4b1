package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func claimTests(t *testing.T, s suite) {
	s.test(t, "claiming takes at most the limit, earliest due first", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		// Published out of order, so that due time and not insertion decides.
		d2 := b.deliveryTo(t, ep, at(2*time.Second))
		d0 := b.deliveryTo(t, ep, base)
		d1 := b.deliveryTo(t, ep, at(time.Second))
		wantIDs(t, "first claim", claimIDs(b.claim(t, "node-a", at(time.Minute), 2)), []string{d0.ID, d1.ID})
		wantIDs(t, "second claim", claimIDs(b.claim(t, "node-a", at(time.Minute), 2)), []string{d2.ID})
		wantIDs(t, "third claim", claimIDs(b.claim(t, "node-a", at(time.Minute), 2)), []string{})
	})

	s.test(t, "an endpoint's parked deliveries are claimed before they are due, and nothing else", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "umbrella")
		ep, other := b.endpoint(t, "acme"), b.endpoint(t, "umbrella")
		b.deliveryTo(t, ep, base)
		b.claimOne(t, "node-a", base) // leased: not parked
		parked := []string{b.deliveryTo(t, ep, at(10*time.Second)).ID, b.deliveryTo(t, ep, at(20*time.Second)).ID}
		b.deliveryTo(t, ep, at(time.Hour)) // beyond the horizon
		b.deliveryTo(t, other, at(10*time.Second))
		cs, err := b.store.ClaimParked(b.ctx, "node-a", ep.ID, at(time.Minute), at(lease), 10)
		check(t, err)
		wantClaimsFilled(t, cs)
		wantIDs(t, "claimed of the endpoint's parked deliveries", claimIDs(cs), parked)
		wantIDs(t, "claimed again", claimIDs(b.mustClaimParked(t, ep.ID, 10)), []string{})
	})

	s.test(t, "a delivery is not claimed before it is due", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, at(time.Minute))
		wantIDs(t, "claimed early", claimIDs(b.claim(t, "node-a", at(time.Minute-time.Millisecond), 10)), []string{})
		wantIDs(t, "claimed when due", claimIDs(b.claim(t, "node-a", at(time.Minute), 10)), []string{d.ID})
	})

	s.test(t, "a claimed delivery isn't claimed by another owner until the lease runs out", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		c := b.claimOne(t, "node-a", base)
		wantEqual(t, "claimed by node-a", c.Delivery.ID, d.ID)
		wantEqual(t, "claimed event data", string(c.Event.Data), `{"amount":100}`)
		wantEqual(t, "claimed endpoint url", c.Endpoint.URL, ep.URL)
		wantIDs(t, "claimed by node-b during the lease", claimIDs(b.claim(t, "node-b", at(lease-time.Millisecond), 10)), []string{})
		wantIDs(t, "claimed by node-b once the lease ran out", claimIDs(b.claim(t, "node-b", at(lease), 10)), []string{d.ID})
	})

	s.test(t, "a claimed delivery reads back in flight, with no next attempt time, until it is released", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		got, err := b.store.Delivery(b.ctx, "acme", d.ID)
		check(t, err)
		wantEqual(t, "in flight before the claim", got.InFlight, false)
		wantTimePtr(t, "next attempt before the claim", got.NextAttemptAt, ptr(base))
		c := b.claimOne(t, "node-a", base)
		wantEqual(t, "claim in flight", c.Delivery.InFlight, true)
		got, err = b.store.Delivery(b.ctx, "acme", d.ID)
		check(t, err)
		wantEqual(t, "in flight while claimed", got.InFlight, true)
		wantTimePtr(t, "next attempt while claimed", got.NextAttemptAt, nil)
		check(t, b.store.ReleaseClaims(b.ctx, "node-a", []string{d.ID}, at(time.Second)))
		got, err = b.store.Delivery(b.ctx, "acme", d.ID)
		check(t, err)
		wantEqual(t, "in flight after release", got.InFlight, false)
		wantTimePtr(t, "next attempt after release", got.NextAttemptAt, ptr(at(time.Second)))
	})

	s.test(t, "owners claiming at the same time never get the same delivery", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		b.endpoint(t, "acme")
		for i := range 20 {
			b.deliveryTo(t, ep, at(time.Duration(i)*time.Millisecond))
		}
		const owners = 4
		claimed := make([][]string, owners)
		errs := make([]error, owners)
		var wg sync.WaitGroup
		for o := range owners {
			wg.Go(func() {
				for {
					cs, err := b.store.ClaimDue(b.ctx, fmt.Sprint("node-", o), at(time.Second), at(time.Second+lease), 3)
					if err != nil || len(cs) == 0 {
						errs[o] = err
						return
					}
					claimed[o] = append(claimed[o], claimIDs(cs)...)
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			check(t, err)
		}
		wantSameIDs(t, "claimed", slices.Concat(claimed...), deliveryIDs(b.deliveries(t, "acme", outlet.DeliveryFilter{})))
	})

	s.test(t, "a released claim is due at once for another owner", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claimOne(t, "node-a", at(time.Second))
		check(t, b.store.ReleaseClaims(b.ctx, "node-a", []string{d.ID}, at(2*time.Second)))
		wantIDs(t, "claimed by node-b", claimIDs(b.claim(t, "node-b", at(2*time.Second), 10)), []string{d.ID})
		wantEqual(t, "attempts", b.getDelivery(t, d).Attempts, 0)
	})

	s.test(t, "releasing another owner's claim changes nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claimOne(t, "node-a", base)
		check(t, b.store.ReleaseClaims(b.ctx, "node-b", []string{d.ID}, at(time.Second)))
		wantIDs(t, "claimed by node-b during the lease", claimIDs(b.claim(t, "node-b", at(time.Second), 10)), []string{})
	})

	s.test(t, "renewing a claim keeps it from other owners until the new lease ends", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claimOne(t, "node-a", base)
		check(t, b.store.RenewClaims(b.ctx, "node-a", []string{d.ID}, at(3*lease)))
		wantIDs(t, "claimed by node-b when the first lease would have ended", claimIDs(b.claim(t, "node-b", at(lease), 10)), []string{})
		wantIDs(t, "claimed by node-b when the renewed lease ended", claimIDs(b.claim(t, "node-b", at(3*lease), 10)), []string{d.ID})
	})

	s.test(t, "renewing a claim that another owner took over changes nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claimOne(t, "node-a", base)
		b.claimOne(t, "node-b", at(lease)) // node-a's lease ran out
		check(t, b.store.RenewClaims(b.ctx, "node-a", []string{d.ID}, at(10*lease)))
		wantIDs(t, "claimed by node-c when node-b's lease ended", claimIDs(b.claim(t, "node-c", at(2*lease), 10)), []string{d.ID})
	})

	s.test(t, "renewing another owner's claim changes nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.claimOne(t, "node-a", base)
		check(t, b.store.RenewClaims(b.ctx, "node-b", []string{d.ID}, at(10*lease)))
		wantIDs(t, "claimed by node-c when node-a's lease ended", claimIDs(b.claim(t, "node-c", at(lease), 10)), []string{d.ID})
	})

	s.test(t, "releasing or renewing no claims is not an error", func(t *testing.T, b *bundle) {
		check(t, b.store.ReleaseClaims(b.ctx, "node-a", nil, base))
		check(t, b.store.RenewClaims(b.ctx, "node-a", nil, at(lease)))
	})
}

func queueTests(t *testing.T, s suite) {
	s.test(t, "an empty queue has nothing due", func(t *testing.T, b *bundle) {
		next, err := b.store.NextDue(b.ctx)
		check(t, err)
		wantTimePtr(t, "next due", next, nil)
		stats, err := b.store.QueueStats(b.ctx)
		check(t, err)
		wantEqual(t, "pending", stats.Pending, 0)
		wantTimePtr(t, "oldest due", stats.OldestDue, nil)
	})

	s.test(t, "the queue counts pending deliveries and knows the earliest due time", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		later := b.deliveryTo(t, ep, at(2*time.Minute))
		b.deliveryTo(t, ep, at(time.Minute))
		done := b.deliveryTo(t, ep, base)
		b.complete(t, base, noDisable, succeeded(done, base))

		next, err := b.store.NextDue(b.ctx)
		check(t, err)
		wantTimePtr(t, "next due", next, ptr(at(time.Minute)))
		stats, err := b.store.QueueStats(b.ctx)
		check(t, err)
		wantEqual(t, "pending", stats.Pending, 2)
		wantTimePtr(t, "oldest due", stats.OldestDue, ptr(at(time.Minute)))

		b.complete(t, at(3*time.Minute), noDisable, failed(later, at(3*time.Minute)))
		stats, err = b.store.QueueStats(b.ctx)
		check(t, err)
		wantEqual(t, "pending after one failed", stats.Pending, 1)
	})

	s.test(t, "a claimed delivery is next due when its lease runs out", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		b.deliveryTo(t, ep, base)
		b.claim(t, "node-a", at(time.Second), 10)
		next, err := b.store.NextDue(b.ctx)
		check(t, err)
		wantTimePtr(t, "next due", next, ptr(at(time.Second+lease)))
		stats, err := b.store.QueueStats(b.ctx)
		check(t, err)
		wantEqual(t, "pending", stats.Pending, 1)
	})
}
