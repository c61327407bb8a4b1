package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func storeTests(t *testing.T, s suite) {
	s.test(t, "a fresh store answers a ping", func(t *testing.T, b *bundle) {
		check(t, b.store.Ping(b.ctx))
	})
}

func tenantTests(t *testing.T, s suite) {
	s.test(t, "a created tenant reads back with all its fields", func(t *testing.T, b *bundle) {
		want := newTenant("acme", base)
		check(t, b.store.CreateTenant(b.ctx, want))
		got, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantTenant(t, got, want)
	})

	s.test(t, "creating a tenant with a taken id is ECONFLICT", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		again := newTenant("acme", at(time.Minute))
		again.Name = "Someone else"
		wantCode(t, b.store.CreateTenant(b.ctx, again), outlet.ECONFLICT)
		got, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantTenant(t, got, newTenant("acme", base))
	})

	s.test(t, "getting, updating or deleting an unknown tenant is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		_, err := b.store.Tenant(b.ctx, "nobody")
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.UpdateTenant(b.ctx, "nobody", outlet.TenantUpdate{Name: ptr("Nobody")}, base)
		wantCode(t, err, outlet.ENOTFOUND)
		wantCode(t, b.store.DeleteTenant(b.ctx, "nobody"), outlet.ENOTFOUND)
	})

	for _, tc := range []struct {
		tenants int
		pages   [][]string
	}{
		{0, [][]string{{}}},
		{1, [][]string{{"t1"}}},
		{4, [][]string{{"t4", "t3"}, {"t2", "t1"}}},
		{5, [][]string{{"t5", "t4"}, {"t3", "t2"}, {"t1"}}},
	} {
		s.test(t, fmt.Sprintf("%d tenants list newest first two to a page and the last page has no cursor", tc.tenants), func(t *testing.T, b *bundle) {
			for i := 1; i <= tc.tenants; i++ {
				check(t, b.store.CreateTenant(b.ctx, newTenant(fmt.Sprintf("t%d", i), at(time.Duration(i)*time.Minute))))
			}
			pages := walk(t, 2, func(p outlet.Page) ([]*outlet.Tenant, string, error) { return b.store.ListTenants(b.ctx, p) })
			var got [][]string
			for _, p := range pages {
				got = append(got, tenantIDs(p))
			}
			if !slices.EqualFunc(got, tc.pages, slices.Equal) {
				t.Errorf("pages = %q; want %q", got, tc.pages)
			}
		})
	}

	s.test(t, "updating a tenant changes the given fields and its update time and keeps the rest", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		got, err := b.store.UpdateTenant(b.ctx, "acme", outlet.TenantUpdate{Name: ptr("Acme Inc.")}, at(time.Hour))
		check(t, err)
		want := newTenant("acme", base)
		want.Name, want.UpdatedAt = "Acme Inc.", at(time.Hour)
		wantTenant(t, got, want)
		stored, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantTenant(t, stored, want)
	})

	s.test(t, "updating a tenant with empty metadata clears it", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		_, err := b.store.UpdateTenant(b.ctx, "acme", outlet.TenantUpdate{Metadata: map[string]string{}}, at(time.Hour))
		check(t, err)
		stored, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		if len(stored.Metadata) != 0 {
			t.Errorf("metadata = %v; want none", stored.Metadata)
		}
	})

	s.test(t, "an update that makes a tenant invalid is EINVALID and changes nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		_, err := b.store.UpdateTenant(b.ctx, "acme", outlet.TenantUpdate{Name: ptr(strings.Repeat("x", 201))}, at(time.Hour))
		wantCode(t, err, outlet.EINVALID)
		stored, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantTenant(t, stored, newTenant("acme", base))
	})

	s.test(t, "deleting a tenant deletes everything it owns and nothing of another tenant's", func(t *testing.T, b *bundle) {
		type owned struct {
			ep  *outlet.Endpoint
			ev  *outlet.Event
			d   *outlet.Delivery
			key []byte
		}
		own := func(tenantID string) owned {
			b.tenant(t, tenantID)
			o := owned{ep: b.endpoint(t, tenantID)}
			o.d = b.deliveryTo(t, o.ep, base)
			o.ev = b.getEvent(t, tenantID, o.d.EventID)
			b.complete(t, at(time.Second), noDisable, retrying(o.d, at(time.Second), at(time.Minute)))
			k, secret, err := outlet.NewAPIKey(tenantID, "ci", base)
			check(t, err)
			check(t, b.store.CreateAPIKey(b.ctx, k))
			o.key = outlet.HashAPIKey(secret)
			return o
		}
		acme, globex := own("acme"), own("globex")

		check(t, b.store.DeleteTenant(b.ctx, "acme"))

		_, err := b.store.Tenant(b.ctx, "acme")
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.Endpoint(b.ctx, "acme", acme.ep.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.Event(b.ctx, "acme", acme.ev.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.Delivery(b.ctx, "acme", acme.d.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.APIKeyByHash(b.ctx, acme.key)
		wantCode(t, err, outlet.ENOTFOUND)

		b.getEndpoint(t, globex.ep)
		b.getEvent(t, "globex", globex.ev.ID)
		if n := len(b.attempts(t, globex.d)); n != 1 {
			t.Errorf("globex's delivery has %d attempts; want 1", n)
		}
		_, err = b.store.APIKeyByHash(b.ctx, globex.key)
		check(t, err)
		stats, err := b.store.QueueStats(b.ctx)
		check(t, err)
		wantEqual(t, "pending deliveries", stats.Pending, 1)
		wantIDs(t, "claimable deliveries", claimIDs(b.claim(t, "node-a", at(time.Hour), 10)), []string{globex.d.ID})

		// A tenant created again under the same id finds nothing of the old one.
		b.tenant(t, "acme")
		eps, _, err := b.store.ListEndpoints(b.ctx, "acme", outlet.Page{})
		check(t, err)
		evs, _, err := b.store.ListEvents(b.ctx, "acme", outlet.EventFilter{})
		check(t, err)
		keys, err := b.store.ListAPIKeys(b.ctx, "acme")
		check(t, err)
		ds := b.deliveries(t, "acme", outlet.DeliveryFilter{})
		if len(eps)+len(evs)+len(keys)+len(ds) != 0 {
			t.Errorf("a new tenant under a deleted one's id sees %d endpoints, %d events, %d keys and %d deliveries; want none",
				len(eps), len(evs), len(keys), len(ds))
		}
	})
	s.test(t, "a created tenant gets an internal uid that every read and update returns unchanged", func(t *testing.T, b *bundle) {
		tn := newTenant("acme", base)
		check(t, b.store.CreateTenant(b.ctx, tn))
		if tn.UID == "" {
			t.Fatalf("created tenant has no uid; want the store to set one")
		}
		got, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantEqual(t, "read uid", got.UID, tn.UID)
		ts, _, err := b.store.ListTenants(b.ctx, outlet.Page{})
		check(t, err)
		if len(ts) != 1 {
			t.Fatalf("listed %d tenants; want 1", len(ts))
		}
		wantEqual(t, "listed uid", ts[0].UID, tn.UID)
		updated, err := b.store.UpdateTenant(b.ctx, "acme", outlet.TenantUpdate{Name: ptr("Acme Inc.")}, at(time.Hour))
		check(t, err)
		wantEqual(t, "uid after an update", updated.UID, tn.UID)
		got, err = b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantEqual(t, "read uid after an update", got.UID, tn.UID)
	})

	s.test(t, "a tenant created with a uid keeps it", func(t *testing.T, b *bundle) {
		tn := newTenant("acme", base)
		tn.UID = outlet.NewUID()
		want := tn.UID
		check(t, b.store.CreateTenant(b.ctx, tn))
		wantEqual(t, "uid after create", tn.UID, want)
		got, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantEqual(t, "read uid", got.UID, want)
	})

	// Whatever is kept for a tenant outside the store (warm engines,
	// decrypted secrets) is keyed by its uid; a reused id must never match.
	s.test(t, "a tenant deleted and created again under the same id gets a new uid, and other tenants get their own", func(t *testing.T, b *bundle) {
		old := b.tenant(t, "acme")
		other := b.tenant(t, "globex")
		if old.UID == other.UID {
			t.Errorf("acme and globex share uid %q", old.UID)
		}
		check(t, b.store.DeleteTenant(b.ctx, "acme"))
		again := b.tenant(t, "acme")
		if again.UID == "" || again.UID == old.UID {
			t.Errorf("uid of acme created again = %q; want a new one, not %q", again.UID, old.UID)
		}
		got, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantEqual(t, "read uid of acme created again", got.UID, again.UID)
	})

	s.test(t, "a tenant's allowed hosts read back as created", func(t *testing.T, b *bundle) {
		want := newTenant("acme", base)
		want.AllowedHosts = []string{"api.stripe.com", "*.example.com", "*"}
		check(t, b.store.CreateTenant(b.ctx, want))
		got, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantTenant(t, got, want)
	})

	s.test(t, "a tenant created without allowed hosts reads back with an empty list, not nil", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		got, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		if got.AllowedHosts == nil || len(got.AllowedHosts) != 0 {
			t.Errorf("allowed hosts = %#v; want an empty list", got.AllowedHosts)
		}
		ts, _, err := b.store.ListTenants(b.ctx, outlet.Page{})
		check(t, err)
		if len(ts) != 1 || ts[0].AllowedHosts == nil || len(ts[0].AllowedHosts) != 0 {
			t.Errorf("listed tenants = %+v; want acme with an empty allowed hosts list", ts)
		}
	})

	s.test(t, "updating a tenant's allowed hosts replaces them, an empty list clears them and leaving them out keeps them", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		want := newTenant("acme", base)
		for i, step := range []struct {
			update outlet.TenantUpdate
			want   []string
		}{
			{outlet.TenantUpdate{AllowedHosts: ptr([]string{"api.stripe.com", "*.example.com"})}, []string{"api.stripe.com", "*.example.com"}},
			{outlet.TenantUpdate{Name: ptr("Acme Inc.")}, []string{"api.stripe.com", "*.example.com"}},
			{outlet.TenantUpdate{AllowedHosts: ptr([]string{"hooks.slack.com"})}, []string{"hooks.slack.com"}},
			{outlet.TenantUpdate{AllowedHosts: ptr([]string{})}, []string{}},
		} {
			now := at(time.Duration(i+1) * time.Hour)
			got, err := b.store.UpdateTenant(b.ctx, "acme", step.update, now)
			check(t, err)
			if step.update.Name != nil {
				want.Name = *step.update.Name
			}
			want.AllowedHosts, want.UpdatedAt = step.want, now
			wantTenant(t, got, want)
			stored, err := b.store.Tenant(b.ctx, "acme")
			check(t, err)
			wantTenant(t, stored, want)
		}
	})

	s.test(t, "an update with an invalid allowed host is EINVALID and changes nothing", func(t *testing.T, b *bundle) {
		want := newTenant("acme", base)
		want.AllowedHosts = []string{"api.stripe.com"}
		check(t, b.store.CreateTenant(b.ctx, want))
		for _, hosts := range [][]string{
			{"API.stripe.com"},
			{"https://api.stripe.com"},
			{"api.stripe.com/v1"},
			{"api.stripe.com:443"},
			{"*example.com"},
			{"api.*.com"},
			{""},
			{"api.stripe.com", "bad host"},
		} {
			_, err := b.store.UpdateTenant(b.ctx, "acme", outlet.TenantUpdate{Name: ptr("Renamed"), AllowedHosts: ptr(hosts)}, at(time.Hour))
			if code := outlet.ErrorCode(err); code != outlet.EINVALID {
				t.Errorf("allowed hosts %q: error code %q; want %q", hosts, code, outlet.EINVALID)
			}
		}
		stored, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantTenant(t, stored, want)
	})

	s.test(t, "deleting a tenant deletes its functions, invocations, secrets and hook endpoints and nothing of another tenant's", func(t *testing.T, b *bundle) {
		b.declare(t, discount, validate)
		for _, tenantID := range []string{"acme", "globex"} {
			b.tenant(t, tenantID)
			b.deployServing(t, tenantID, "pricing", base, discount)
			b.deployFor(t, tenantID, "audit", base, "*")
			b.record(t, newInvocation(tenantID, "pricing", 1, base))
			b.putSecret(t, tenantID, "STRIPE_KEY", sealed(tenantID), base)
			b.putHookEndpoint(t, tenantID, validate, base)
			b.publish(t, newEvent(tenantID, paid, `{}`, base))
		}

		check(t, b.store.DeleteTenant(b.ctx, "acme"))

		_, err := b.store.Function(b.ctx, "acme", "pricing")
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.FunctionVersion(b.ctx, "acme", "pricing", 1)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.HookEndpoint(b.ctx, "acme", validate)
		wantCode(t, err, outlet.ENOTFOUND)
		wantEqual(t, "acme's functions serving the hook", len(b.hookFunctions(t, "acme", discount)), 0)

		wantIDs(t, "globex's functions", functionNames(b.functions(t, "globex")), []string{"pricing", "audit"})
		wantEqual(t, "globex's invocations", len(b.invocations(t, "globex", "pricing", outlet.InvocationFilter{})), 1)
		wantSealed(t, "globex's sealed secrets", b.sealedSecrets(t, "globex"), map[string][]byte{"STRIPE_KEY": sealed("globex")})
		wantIDs(t, "globex's hook endpoints", hookEndpointHooks(b.hookEndpoints(t, "globex")), []string{validate})
		wantIDs(t, "globex's functions serving the hook", versionNames(b.hookFunctions(t, "globex", discount)), []string{"pricing@1"})

		// A tenant created again under the same id finds nothing of the old one.
		b.tenant(t, "acme")
		wantIDs(t, "functions", functionNames(b.functions(t, "acme")), []string{})
		wantIDs(t, "secrets", secretNames(b.secrets(t, "acme")), []string{})
		wantSealed(t, "sealed secrets", b.sealedSecrets(t, "acme"), map[string][]byte{})
		wantIDs(t, "hook endpoints", hookEndpointHooks(b.hookEndpoints(t, "acme")), []string{})
		wantEqual(t, "deliveries of a new event", b.publish(t, newEvent("acme", paid, `{}`, at(time.Hour))).Deliveries, 0)
		b.deployFor(t, "acme", "pricing", at(time.Hour), "*")
		wantEqual(t, "version of a new deploy", b.getFunction(t, "acme", "pricing").ActiveVersion, 1)
		wantEqual(t, "invocations of the new deploy", len(b.invocations(t, "acme", "pricing", outlet.InvocationFilter{})), 0)
	})
}

func apiKeyTests(t *testing.T, s suite) {
	s.test(t, "a created key is found by the hash of its secret", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		k, secret, err := outlet.NewAPIKey("acme", "ci", base)
		check(t, err)
		check(t, b.store.CreateAPIKey(b.ctx, k))
		got, err := b.store.APIKeyByHash(b.ctx, outlet.HashAPIKey(secret))
		check(t, err)
		wantEqual(t, "key id", got.ID, k.ID)
		wantEqual(t, "key tenant", got.TenantID, "acme")
		wantEqual(t, "key name", got.Name, "ci")
		wantEqual(t, "key prefix", got.Prefix, k.Prefix)
		wantEqual(t, "key hash", string(got.Hash), string(k.Hash))
		wantTime(t, "key created_at", got.CreatedAt, base)
		wantTimePtr(t, "key last_used_at", got.LastUsedAt, nil)
	})

	s.test(t, "looking up a hash no key has is ENOTFOUND", func(t *testing.T, b *bundle) {
		_, err := b.store.APIKeyByHash(b.ctx, outlet.HashAPIKey(outlet.NewAPIKeySecret()))
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "creating a key for an unknown tenant is ENOTFOUND", func(t *testing.T, b *bundle) {
		k, _, err := outlet.NewAPIKey("nobody", "ci", base)
		check(t, err)
		wantCode(t, b.store.CreateAPIKey(b.ctx, k), outlet.ENOTFOUND)
	})

	s.test(t, "a tenant's keys list newest first without other tenants' keys", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		var want []string
		for i, tenantID := range []string{"acme", "globex", "acme", "acme"} {
			k, _, err := outlet.NewAPIKey(tenantID, fmt.Sprint("key ", i), at(time.Duration(i)*time.Minute))
			check(t, err)
			check(t, b.store.CreateAPIKey(b.ctx, k))
			if tenantID == "acme" {
				want = append([]string{k.ID}, want...)
			}
		}
		got, err := b.store.ListAPIKeys(b.ctx, "acme")
		check(t, err)
		var gotIDs []string
		for _, k := range got {
			gotIDs = append(gotIDs, k.ID)
		}
		wantIDs(t, "acme's keys", gotIDs, want)
		_, err = b.store.ListAPIKeys(b.ctx, "nobody")
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "a deleted key is no longer found and deleting it again is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		k, secret, err := outlet.NewAPIKey("acme", "ci", base)
		check(t, err)
		check(t, b.store.CreateAPIKey(b.ctx, k))
		check(t, b.store.DeleteAPIKey(b.ctx, "acme", k.ID))
		_, err = b.store.APIKeyByHash(b.ctx, outlet.HashAPIKey(secret))
		wantCode(t, err, outlet.ENOTFOUND)
		keys, err := b.store.ListAPIKeys(b.ctx, "acme")
		check(t, err)
		wantEqual(t, "keys left", len(keys), 0)
		wantCode(t, b.store.DeleteAPIKey(b.ctx, "acme", k.ID), outlet.ENOTFOUND)
	})

	s.test(t, "a tenant can't delete another tenant's key", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		k, secret, err := outlet.NewAPIKey("acme", "ci", base)
		check(t, err)
		check(t, b.store.CreateAPIKey(b.ctx, k))
		wantCode(t, b.store.DeleteAPIKey(b.ctx, "globex", k.ID), outlet.ENOTFOUND)
		_, err = b.store.APIKeyByHash(b.ctx, outlet.HashAPIKey(secret))
		check(t, err)
	})

	s.test(t, "touching a key records when it was last used", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		k, secret, err := outlet.NewAPIKey("acme", "ci", base)
		check(t, err)
		check(t, b.store.CreateAPIKey(b.ctx, k))
		check(t, b.store.TouchAPIKey(b.ctx, k.ID, at(time.Hour)))
		got, err := b.store.APIKeyByHash(b.ctx, outlet.HashAPIKey(secret))
		check(t, err)
		wantTimePtr(t, "last_used_at", got.LastUsedAt, ptr(at(time.Hour)))
	})
}
