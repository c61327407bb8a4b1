package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func endpointTests(t *testing.T, s suite) {
	s.test(t, "a created endpoint reads back with all its fields", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		want := newEndpoint("acme", "invoice.*", "customer.created")
		check(t, b.store.CreateEndpoint(b.ctx, want))
		wantEndpoint(t, b.getEndpoint(t, want), want)
	})

	s.test(t, "creating an endpoint for an unknown tenant is ENOTFOUND", func(t *testing.T, b *bundle) {
		wantCode(t, b.store.CreateEndpoint(b.ctx, newEndpoint("nobody")), outlet.ENOTFOUND)
	})

	s.test(t, "getting, updating or deleting an unknown endpoint is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		id := outlet.NewID(outlet.PrefixEndpoint)
		_, err := b.store.Endpoint(b.ctx, "acme", id)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.UpdateEndpoint(b.ctx, "acme", id, outlet.EndpointUpdate{Description: ptr("x")}, base)
		wantCode(t, err, outlet.ENOTFOUND)
		wantCode(t, b.store.DeleteEndpoint(b.ctx, "acme", id), outlet.ENOTFOUND)
		_, err = b.store.RotateEndpointSecret(b.ctx, "acme", id, outlet.NewEndpointSecret(), base, base)
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "a tenant's endpoints list newest first across pages without other tenants' endpoints", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		var want []string
		for i, tenantID := range []string{"acme", "globex", "acme", "acme", "globex", "acme", "acme"} {
			ep := newEndpoint(tenantID)
			ep.CreatedAt = at(time.Duration(i) * time.Minute)
			check(t, b.store.CreateEndpoint(b.ctx, ep))
			if tenantID == "acme" {
				want = append([]string{ep.ID}, want...)
			}
		}
		pages := walk(t, 2, func(p outlet.Page) ([]*outlet.Endpoint, string, error) {
			return b.store.ListEndpoints(b.ctx, "acme", p)
		})
		wantEqual(t, "pages", len(pages), 3)
		wantIDs(t, "acme's endpoints", endpointIDs(slices.Concat(pages...)), want)
		_, _, err := b.store.ListEndpoints(b.ctx, "nobody", outlet.Page{})
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "another tenant can't get, list, update, rotate, delete or recover an endpoint", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		ep := b.endpoint(t, "acme")
		for _, op := range []struct {
			name string
			do   func() error
		}{
			{"get", func() error {
				_, err := b.store.Endpoint(b.ctx, "globex", ep.ID)
				return err
			}},
			{"update", func() error {
				_, err := b.store.UpdateEndpoint(b.ctx, "globex", ep.ID, outlet.EndpointUpdate{URL: ptr("https://evil.example.com/")}, at(time.Hour))
				return err
			}},
			{"rotate", func() error {
				_, err := b.store.RotateEndpointSecret(b.ctx, "globex", ep.ID, outlet.NewEndpointSecret(), at(2*time.Hour), at(time.Hour))
				return err
			}},
			{"delete", func() error { return b.store.DeleteEndpoint(b.ctx, "globex", ep.ID) }},
			{"recover", func() error {
				_, err := b.store.RecoverEndpoint(b.ctx, "globex", ep.ID, base, at(time.Hour))
				return err
			}},
		} {
			if code := outlet.ErrorCode(op.do()); code != outlet.ENOTFOUND {
				t.Errorf("%s by another tenant: error code %q; want %q", op.name, code, outlet.ENOTFOUND)
			}
		}
		eps, _, err := b.store.ListEndpoints(b.ctx, "globex", outlet.Page{})
		check(t, err)
		wantIDs(t, "globex's endpoints", endpointIDs(eps), []string{})
		wantEndpoint(t, b.getEndpoint(t, ep), ep)
	})

	s.test(t, "updating an endpoint changes the given fields and keeps the rest", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme", paid)
		got, err := b.store.UpdateEndpoint(b.ctx, "acme", ep.ID, outlet.EndpointUpdate{
			URL:        ptr("https://new.example.com/hooks"),
			EventTypes: ptr([]string{"invoice.*"}),
			Headers:    ptr(map[string]string{}),
		}, at(time.Hour))
		check(t, err)
		want := *ep
		want.URL, want.EventTypes, want.Headers, want.UpdatedAt = "https://new.example.com/hooks", []string{"invoice.*"}, nil, at(time.Hour)
		wantEndpoint(t, got, &want)
		wantEndpoint(t, b.getEndpoint(t, ep), &want)
	})

	s.test(t, "an update that makes an endpoint invalid is EINVALID and changes nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme", paid)
		for _, tc := range []struct {
			name   string
			update outlet.EndpointUpdate
		}{
			{"url that is not http", outlet.EndpointUpdate{URL: ptr("ftp://hooks.example.com/")}},
			{"empty url", outlet.EndpointUpdate{URL: ptr("")}},
			{"malformed event type filter", outlet.EndpointUpdate{EventTypes: ptr([]string{"invoice..paid"})}},
			{"reserved header", outlet.EndpointUpdate{Headers: ptr(map[string]string{"Webhook-Signature": "forged"})}},
			{"empty metadata key", outlet.EndpointUpdate{Metadata: ptr(map[string]string{"": "x"})}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := b.store.UpdateEndpoint(b.ctx, "acme", ep.ID, tc.update, at(time.Hour))
				wantCode(t, err, outlet.EINVALID)
				wantEndpoint(t, b.getEndpoint(t, ep), ep)
			})
		}
	})

	s.test(t, "disabling an endpoint records a manual reason and when", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		got, err := b.store.UpdateEndpoint(b.ctx, "acme", ep.ID, outlet.EndpointUpdate{Disabled: ptr(true)}, at(time.Hour))
		check(t, err)
		want := *ep
		want.Disabled, want.DisabledReason, want.DisabledAt, want.UpdatedAt = true, "manual", ptr(at(time.Hour)), at(time.Hour)
		wantEndpoint(t, got, &want)
		wantEndpoint(t, b.getEndpoint(t, ep), &want)
	})

	s.test(t, "enabling an endpoint clears its disabled reason and failing streak", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, retrying(d, at(time.Second), at(time.Minute)))
		wantTimePtr(t, "failing_since before", b.getEndpoint(t, ep).FailingSince, ptr(at(time.Second)))
		b.disable(t, ep, at(time.Hour))

		got, err := b.store.UpdateEndpoint(b.ctx, "acme", ep.ID, outlet.EndpointUpdate{Disabled: ptr(false)}, at(2*time.Hour))
		check(t, err)
		want := *ep
		want.UpdatedAt = at(2 * time.Hour)
		wantEndpoint(t, got, &want)
		wantEndpoint(t, b.getEndpoint(t, ep), &want)
	})

	s.test(t, "rotating a secret with an overlap keeps the old one signing until the overlap ends", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		fresh := outlet.NewEndpointSecret()
		got, err := b.store.RotateEndpointSecret(b.ctx, "acme", ep.ID, fresh, at(day), at(time.Hour))
		check(t, err)
		want := *ep
		want.Secret, want.PreviousSecret, want.PreviousSecretExpiresAt, want.UpdatedAt = fresh, ep.Secret, ptr(at(day)), at(time.Hour)
		wantEndpoint(t, got, &want)
		stored := b.getEndpoint(t, ep)
		wantEndpoint(t, stored, &want)
		wantIDs(t, "secrets just before the overlap ends", stored.ActiveSecrets(at(day-time.Millisecond)), []string{fresh, ep.Secret})
		wantIDs(t, "secrets once the overlap ended", stored.ActiveSecrets(ms(at(day))), []string{fresh})
	})

	for _, tc := range []struct {
		name    string
		overlap time.Time
	}{
		{"rotating a secret with an overlap ending now drops the old one at once", at(time.Hour)},
		{"rotating a secret with an overlap in the past drops the old one at once", base},
	} {
		s.test(t, tc.name, func(t *testing.T, b *bundle) {
			b.tenant(t, "acme")
			ep := b.endpoint(t, "acme")
			b.rotate(t, ep, outlet.NewEndpointSecret(), day, base) // an earlier rotation's previous secret must go too
			fresh := outlet.NewEndpointSecret()
			_, err := b.store.RotateEndpointSecret(b.ctx, "acme", ep.ID, fresh, tc.overlap, at(time.Hour))
			check(t, err)
			stored := b.getEndpoint(t, ep)
			wantEqual(t, "secret", stored.Secret, fresh)
			wantEqual(t, "previous secret", stored.PreviousSecret, "")
			wantTimePtr(t, "previous secret expiry", stored.PreviousSecretExpiresAt, nil)
			wantIDs(t, "secrets", stored.ActiveSecrets(at(time.Hour)), []string{fresh})
		})
	}

	s.test(t, "deleting an endpoint deletes it and its deliveries", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep, other := b.endpoint(t, "acme"), b.endpoint(t, "acme")
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, failed(d, at(time.Second)))
		check(t, b.store.DeleteEndpoint(b.ctx, "acme", ep.ID))
		_, err := b.store.Endpoint(b.ctx, "acme", ep.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.Delivery(b.ctx, "acme", d.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.ListAttempts(b.ctx, "acme", d.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		wantEqual(t, "deliveries left for the event", len(b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: d.EventID})), 1)
		b.getEndpoint(t, other)
		b.getEvent(t, "acme", d.EventID)
		wantCode(t, b.store.DeleteEndpoint(b.ctx, "acme", ep.ID), outlet.ENOTFOUND)
	})
}

// rotate gives ep a new secret at now, the old one overlapping for overlap.
func (b *bundle) rotate(t *testing.T, ep *outlet.Endpoint, secret string, overlap time.Duration, now time.Time) {
	t.Helper()
	_, err := b.store.RotateEndpointSecret(b.ctx, ep.TenantID, ep.ID, secret, now.Add(overlap), now)
	check(t, err)
}
