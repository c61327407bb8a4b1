package storetest

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// as is the bundle's context carrying an actor: the changes made with it
// are recorded as that actor's, at when.
func (b *bundle) as(typ outlet.ActorType, id string, when time.Time) context.Context {
	return outlet.WithActor(b.ctx, outlet.Actor{Type: typ, ID: id, Address: "203.0.113.7", At: when})
}

func (b *bundle) admin(when time.Time) context.Context {
	return b.as(outlet.ActorAdmin, outlet.AdminActorID, when)
}

// auditLog reads every entry f chooses, newest first.
func (b *bundle) auditLog(t *testing.T, f outlet.AuditFilter) []*outlet.AuditEntry {
	t.Helper()
	var all []*outlet.AuditEntry
	f.Limit = outlet.MaxPageLimit
	for range 100 {
		es, next, err := b.store.ListAuditLog(b.ctx, f)
		check(t, err)
		all = append(all, es...)
		if next == "" {
			return all
		}
		f.Cursor = next
	}
	t.Fatalf("the audit log didn't end after 100 pages")
	return nil
}

// auditSeen is an entry as a test names it.
type auditSeen struct{ action, tenant, resource string }

func (e auditSeen) String() string { return e.action + " " + e.tenant + "/" + e.resource }

func seen(es []*outlet.AuditEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, auditSeen{e.Action, e.TenantID, e.ResourceID}.String())
	}
	return out
}

func names(want ...auditSeen) []string {
	out := []string{}
	for _, w := range want {
		out = append(out, w.String())
	}
	return out
}

func auditTests(t *testing.T, s suite) {
	s.test(t, "every change is recorded with who made it, from where and when, newest first", func(t *testing.T, b *bundle) {
		var want []auditSeen
		step := 0
		// do makes one change as the admin, a second later than the last.
		do := func(w auditSeen, f func(ctx context.Context) error) {
			t.Helper()
			step++
			check(t, f(b.admin(at(time.Duration(step)*time.Second))))
			want = append(want, w)
		}
		do(auditSeen{"tenant.created", "acme", "acme"}, func(ctx context.Context) error {
			return b.store.CreateTenant(ctx, newTenant("acme", base))
		})
		do(auditSeen{"tenant.updated", "acme", "acme"}, func(ctx context.Context) error {
			_, err := b.store.UpdateTenant(ctx, "acme", outlet.TenantUpdate{Name: ptr("Acme Corp")}, base)
			return err
		})
		k, _, err := outlet.NewAPIKey("acme", "ci", base)
		check(t, err)
		do(auditSeen{"api_key.created", "acme", k.ID}, func(ctx context.Context) error { return b.store.CreateAPIKey(ctx, k) })
		do(auditSeen{"api_key.deleted", "acme", k.ID}, func(ctx context.Context) error { return b.store.DeleteAPIKey(ctx, "acme", k.ID) })
		do(auditSeen{"event_type.created", "", paid}, func(ctx context.Context) error {
			return b.store.CreateEventType(ctx, newEventType(paid))
		})
		do(auditSeen{"event_type.updated", "", paid}, func(ctx context.Context) error {
			_, err := b.store.UpdateEventType(ctx, paid, outlet.EventTypeUpdate{Deprecated: ptr(true)}, base)
			return err
		})
		do(auditSeen{"event_type.deleted", "", paid}, func(ctx context.Context) error { return b.store.DeleteEventType(ctx, paid) })
		ep := newEndpoint("acme")
		do(auditSeen{"endpoint.created", "acme", ep.ID}, func(ctx context.Context) error { return b.store.CreateEndpoint(ctx, ep) })
		do(auditSeen{"endpoint.updated", "acme", ep.ID}, func(ctx context.Context) error {
			_, err := b.store.UpdateEndpoint(ctx, "acme", ep.ID, outlet.EndpointUpdate{Description: ptr("renamed")}, base)
			return err
		})
		do(auditSeen{"endpoint.secret_rotated", "acme", ep.ID}, func(ctx context.Context) error {
			_, err := b.store.RotateEndpointSecret(ctx, "acme", ep.ID, outlet.NewEndpointSecret(), at(day), base)
			return err
		})
		d := b.deliveryTo(t, ep, base)
		b.complete(t, at(time.Second), noDisable, failed(d, at(time.Second)))
		do(auditSeen{"endpoint.recovered", "acme", ep.ID}, func(ctx context.Context) error {
			_, err := b.store.RecoverEndpoint(ctx, "acme", ep.ID, base, at(time.Hour))
			return err
		})
		b.complete(t, at(time.Hour), noDisable, failed(b.claimOne(t, "node-a", at(time.Hour)).Delivery, at(time.Hour)))
		do(auditSeen{"delivery.retried", "acme", d.ID}, func(ctx context.Context) error {
			_, err := b.store.RetryDelivery(ctx, "acme", d.ID, "node-a", at(2*time.Hour), at(2*time.Hour).Add(lease))
			return err
		})
		do(auditSeen{"endpoint.deleted", "acme", ep.ID}, func(ctx context.Context) error { return b.store.DeleteEndpoint(ctx, "acme", ep.ID) })
		do(auditSeen{"hook.created", "", "checkout.discount"}, func(ctx context.Context) error {
			return b.store.CreateHook(ctx, newHook("checkout.discount"))
		})
		do(auditSeen{"hook.updated", "", "checkout.discount"}, func(ctx context.Context) error {
			_, err := b.store.UpdateHook(ctx, "checkout.discount", outlet.HookUpdate{TimeoutMs: ptr(800)}, base)
			return err
		})
		do(auditSeen{"hook_endpoint.set", "acme", "checkout.discount"}, func(ctx context.Context) error {
			return b.store.PutHookEndpoint(ctx, newHookEndpoint("acme", "checkout.discount", base))
		})
		do(auditSeen{"hook_endpoint.deleted", "acme", "checkout.discount"}, func(ctx context.Context) error {
			return b.store.DeleteHookEndpoint(ctx, "acme", "checkout.discount")
		})
		for range 2 {
			do(auditSeen{"function.deployed", "acme", "discount"}, func(ctx context.Context) error {
				return b.store.DeployFunction(ctx, newVersion("acme", "discount"), base)
			})
		}
		do(auditSeen{"function.rolled_back", "acme", "discount"}, func(ctx context.Context) error {
			_, err := b.store.ActivateFunctionVersion(ctx, "acme", "discount", 1, base)
			return err
		})
		do(auditSeen{"function.deleted", "acme", "discount"}, func(ctx context.Context) error { return b.store.DeleteFunction(ctx, "acme", "discount") })
		do(auditSeen{"hook.deleted", "", "checkout.discount"}, func(ctx context.Context) error { return b.store.DeleteHook(ctx, "checkout.discount") })
		do(auditSeen{"secret.created", "acme", "STRIPE_KEY"}, func(ctx context.Context) error {
			_, err := b.store.PutSecret(ctx, "acme", "STRIPE_KEY", sealed("one"), base)
			return err
		})
		do(auditSeen{"secret.updated", "acme", "STRIPE_KEY"}, func(ctx context.Context) error {
			_, err := b.store.PutSecret(ctx, "acme", "STRIPE_KEY", sealed("two"), base)
			return err
		})
		do(auditSeen{"secret.deleted", "acme", "STRIPE_KEY"}, func(ctx context.Context) error { return b.store.DeleteSecret(ctx, "acme", "STRIPE_KEY") })
		for _, tenantID := range []string{"acme", ""} {
			ps, _, err := outlet.NewPortalSession(tenantID, outlet.PortalSessionOptions{}, base)
			check(t, err)
			do(auditSeen{"portal_session.created", tenantID, ps.ID}, func(ctx context.Context) error { return b.store.CreatePortalSession(ctx, ps) })
			do(auditSeen{"portal_session.revoked", tenantID, ps.ID}, func(ctx context.Context) error {
				return b.store.RevokePortalSession(ctx, tenantID, ps.ID, base)
			})
		}
		do(auditSeen{"tenant.deleted", "acme", "acme"}, func(ctx context.Context) error { return b.store.DeleteTenant(ctx, "acme") })

		got := b.auditLog(t, outlet.AuditFilter{})
		slices.Reverse(want)
		wantIDs(t, "entries, newest first", seen(got), names(want...))
		ids := map[string]bool{}
		for i, e := range got {
			when := at(time.Duration(len(got)-i) * time.Second)
			wantTime(t, e.Action+" created_at", e.CreatedAt, when)
			wantEqual(t, e.Action+" actor type", e.ActorType, outlet.ActorAdmin)
			wantEqual(t, e.Action+" actor id", e.ActorID, outlet.AdminActorID)
			wantEqual(t, e.Action+" address", e.Address, "203.0.113.7")
			wantEqual(t, e.Action+" resource type", e.ResourceType, strings.SplitN(e.Action, ".", 2)[0])
			if !strings.HasPrefix(e.ID, outlet.PrefixAuditEntry) || ids[e.ID] {
				t.Errorf("%s has id %q; want a new one starting %s", e.Action, e.ID, outlet.PrefixAuditEntry)
			}
			ids[e.ID] = true
			var summary map[string]any
			if err := json.Unmarshal(e.Summary, &summary); err != nil {
				t.Errorf("%s summary %s is not a JSON object: %v", e.Action, e.Summary, err)
			}
		}
		// Every action the log knows is made above.
		made := map[string]bool{}
		for _, w := range want {
			made[w.action] = true
		}
		for _, a := range outlet.AuditActions {
			if !made[a] {
				t.Errorf("action %s is not made by this test; add the write that records it", a)
			}
		}
	})

	s.test(t, "summaries say what changed", func(t *testing.T, b *bundle) {
		check(t, b.store.CreateTenant(b.admin(base), newTenant("acme", base)))
		ep := newEndpoint("acme", "invoice.*")
		check(t, b.store.CreateEndpoint(b.admin(base), ep))
		_, err := b.store.UpdateEndpoint(b.admin(base), "acme", ep.ID, outlet.EndpointUpdate{Disabled: ptr(true), RateLimit: ptr(5)}, base)
		check(t, err)
		v := newVersion("acme", "discount")
		v.Events = []string{"order.*"}
		check(t, b.store.DeployFunction(b.admin(base), v, base))
		_, err = b.store.PutSecret(b.admin(base), "acme", "STRIPE_KEY", sealed("x"), base)
		check(t, err)

		for action, want := range map[string]string{
			"tenant.created": `{"allowed_hosts":[],"metadata":{"plan":"pro"},"name":"Tenant acme","publish_rate_limit":0}`,
			"endpoint.created": `{"description":"billing service","disabled":false,"event_types":["invoice.*"],"headers":["X-Team"],` +
				`"max_in_flight":0,"metadata":{"env":"prod"},"ordered":false,"rate_limit":0,"url":"` + hook + `"}`,
			"endpoint.updated":  `{"disabled":true,"rate_limit":5}`,
			"function.deployed": fmt.Sprintf(`{"events":["order.*"],"hooks":[],"limits":{"timeout_ms":5000,"memory_mb":64},"runtime":"javascript","sha256":%q,"version":1}`, v.SHA256),
			"secret.created":    `{}`,
		} {
			es := b.auditLog(t, outlet.AuditFilter{Action: action})
			if len(es) != 1 {
				t.Errorf("%d entries of %s; want 1", len(es), action)
				continue
			}
			if !jsonEqual(es[0].Summary, []byte(want)) {
				t.Errorf("%s summary = %s; want %s", action, es[0].Summary, want)
			}
		}
	})

	s.test(t, "no entry holds a secret, a key, a token or a header's value", func(t *testing.T, b *bundle) {
		ctx := b.admin(base)
		check(t, b.store.CreateTenant(ctx, newTenant("acme", base)))
		k, keySecret, err := outlet.NewAPIKey("acme", "ci", base)
		check(t, err)
		check(t, b.store.CreateAPIKey(ctx, k))
		ep := newEndpoint("acme")
		ep.URL = "https://user:hunter2-password@hooks.example.com/in?token=tok_query_value#frag_value"
		ep.Headers = map[string]string{"Authorization": "Bearer header_value_1"}
		check(t, b.store.CreateEndpoint(ctx, ep))
		_, err = b.store.UpdateEndpoint(ctx, "acme", ep.ID, outlet.EndpointUpdate{
			URL: ptr("https://hooks.example.com/in?sig=tok_query_value_2"), Headers: &map[string]string{"X-Api-Key": "header_value_2"}}, base)
		check(t, err)
		rotated := outlet.NewEndpointSecret()
		_, err = b.store.RotateEndpointSecret(ctx, "acme", ep.ID, rotated, at(day), base)
		check(t, err)
		b.declare(t, "checkout.discount")
		he := newHookEndpoint("acme", "checkout.discount", base)
		he.Headers = map[string]string{"Authorization": "Bearer header_value_3"}
		check(t, b.store.PutHookEndpoint(ctx, he))
		_, err = b.store.PutSecret(ctx, "acme", "STRIPE_KEY", []byte("sk_live_sealed_value"), base)
		check(t, err)
		ps, token, err := outlet.NewPortalSession("acme", outlet.PortalSessionOptions{}, base)
		check(t, err)
		check(t, b.store.CreatePortalSession(ctx, ps))
		v := newVersion("acme", "discount")
		v.Source, v.Code = "export default () => 'source_value'", []byte("export default () => 'source_value'")
		v.Seal()
		check(t, b.store.DeployFunction(ctx, v, base))

		all, err := json.Marshal(b.auditLog(t, outlet.AuditFilter{}))
		check(t, err)
		for what, secret := range map[string]string{
			"the key": keySecret, "the key's hash": hex.EncodeToString(k.Hash), "the key's hash in base64": base64.StdEncoding.EncodeToString(k.Hash),
			"the endpoint's secret": ep.Secret, "the rotated secret": rotated, "the hook endpoint's secret": he.Secret,
			"the URL's password": "hunter2-password", "the URL's query": "tok_query_value", "the URL's fragment": "frag_value",
			"a header's value": "header_value", "the secret's value": "sk_live_sealed_value", "the portal token": token,
			"the token's hash": base64.StdEncoding.EncodeToString(ps.TokenHash), "the function's source": "source_value",
		} {
			if strings.Contains(string(all), secret) {
				t.Errorf("the audit log holds %s: %s", what, all)
			}
		}
		es := b.auditLog(t, outlet.AuditFilter{Action: "endpoint.created"})
		if len(es) == 1 && !strings.Contains(string(es[0].Summary), `"url":"https://user@hooks.example.com/in"`) {
			t.Errorf("endpoint.created summary %s; want the URL with its user but not its password, query or fragment", es[0].Summary)
		}
	})

	s.test(t, "a write without an actor is Outlet's own and records nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		b.disable(t, ep, base)
		check(t, b.store.DeleteTenant(b.ctx, "acme"))
		wantIDs(t, "entries", seen(b.auditLog(t, outlet.AuditFilter{})), []string{})
	})

	s.test(t, "a change that fails records nothing", func(t *testing.T, b *bundle) {
		ctx := b.admin(base)
		check(t, b.store.CreateTenant(ctx, newTenant("acme", base)))
		ep := newEndpoint("acme")
		check(t, b.store.CreateEndpoint(ctx, ep))
		before := seen(b.auditLog(t, outlet.AuditFilter{}))

		wantCode(t, b.store.CreateTenant(ctx, newTenant("acme", base)), outlet.ECONFLICT)
		wantCode(t, b.store.CreateEndpoint(ctx, newEndpoint("nope")), outlet.ENOTFOUND)
		_, err := b.store.UpdateEndpoint(ctx, "acme", ep.ID, outlet.EndpointUpdate{URL: ptr("ftp://x")}, base)
		wantCode(t, err, outlet.EINVALID)
		wantCode(t, b.store.DeleteEndpoint(ctx, "acme", "ep_nope"), outlet.ENOTFOUND)
		wantCode(t, b.store.DeleteSecret(ctx, "acme", "NOPE"), outlet.ENOTFOUND)
		v := newVersion("acme", "discount")
		v.Hooks = []string{"checkout.undeclared"}
		wantCode(t, b.store.DeployFunction(ctx, v, base), outlet.EINVALID)
		_, err = b.store.ActivateFunctionVersion(ctx, "acme", "discount", 3, base)
		wantCode(t, err, outlet.ENOTFOUND)
		wantCode(t, b.store.RevokePortalSession(ctx, "acme", "ps_nope", base), outlet.ENOTFOUND)
		_, err = b.store.RecoverEndpoint(ctx, "acme", "ep_nope", base, base)
		wantCode(t, err, outlet.ENOTFOUND)
		wantCode(t, b.store.DeleteTenant(ctx, "nope"), outlet.ENOTFOUND)

		wantIDs(t, "entries after the failed changes", seen(b.auditLog(t, outlet.AuditFilter{})), before)
	})

	s.test(t, "entries outlive the tenant; a tenant created again under its id sees none of them", func(t *testing.T, b *bundle) {
		first := newTenant("acme", base)
		check(t, b.store.CreateTenant(b.admin(at(time.Second)), first))
		_, err := b.store.PutSecret(b.admin(at(2*time.Second)), "acme", "OLD", sealed("x"), base)
		check(t, err)
		check(t, b.store.DeleteTenant(b.admin(at(3*time.Second)), "acme"))
		second := newTenant("acme", base)
		check(t, b.store.CreateTenant(b.admin(at(4*time.Second)), second))
		_, err = b.store.PutSecret(b.admin(at(5*time.Second)), "acme", "NEW", sealed("x"), base)
		check(t, err)

		wantIDs(t, "the tenant's entries, any incarnation", seen(b.auditLog(t, outlet.AuditFilter{TenantID: "acme"})), names(
			auditSeen{"secret.created", "acme", "NEW"}, auditSeen{"tenant.created", "acme", "acme"},
			auditSeen{"tenant.deleted", "acme", "acme"}, auditSeen{"secret.created", "acme", "OLD"}, auditSeen{"tenant.created", "acme", "acme"}))
		now, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantIDs(t, "the entries of the tenant there now", seen(b.auditLog(t, outlet.AuditFilter{TenantID: "acme", TenantUID: now.UID})), names(
			auditSeen{"secret.created", "acme", "NEW"}, auditSeen{"tenant.created", "acme", "acme"}))
	})

	s.test(t, "filters choose by tenant, actor, action, resource and time", func(t *testing.T, b *bundle) {
		check(t, b.store.CreateTenant(b.admin(at(1*time.Second)), newTenant("acme", base)))
		check(t, b.store.CreateTenant(b.admin(at(2*time.Second)), newTenant("globex", base)))
		key := b.as(outlet.ActorAPIKey, "key_acme", at(3*time.Second))
		_, err := b.store.PutSecret(key, "acme", "A", sealed("x"), base)
		check(t, err)
		session := b.as(outlet.ActorPortalSession, "ps_globex", at(4*time.Second))
		_, err = b.store.PutSecret(session, "globex", "A", sealed("x"), base)
		check(t, err)
		check(t, b.store.CreateHook(b.admin(at(5*time.Second)), newHook("checkout.discount")))
		check(t, b.store.DeleteSecret(b.as(outlet.ActorAPIKey, "key_acme", at(6*time.Second)), "acme", "A"))

		for _, tt := range []struct {
			name string
			f    outlet.AuditFilter
			want []auditSeen
		}{
			{"a tenant's", outlet.AuditFilter{TenantID: "acme"},
				[]auditSeen{{"secret.deleted", "acme", "A"}, {"secret.created", "acme", "A"}, {"tenant.created", "acme", "acme"}}},
			{"an actor's", outlet.AuditFilter{ActorID: "ps_globex"}, []auditSeen{{"secret.created", "globex", "A"}}},
			{"the admin's", outlet.AuditFilter{ActorID: outlet.AdminActorID},
				[]auditSeen{{"hook.created", "", "checkout.discount"}, {"tenant.created", "globex", "globex"}, {"tenant.created", "acme", "acme"}}},
			{"an action's", outlet.AuditFilter{Action: "secret.created"},
				[]auditSeen{{"secret.created", "globex", "A"}, {"secret.created", "acme", "A"}}},
			{"a resource type's", outlet.AuditFilter{ResourceType: "hook"}, []auditSeen{{"hook.created", "", "checkout.discount"}}},
			{"a resource's", outlet.AuditFilter{ResourceType: "tenant", ResourceID: "globex"}, []auditSeen{{"tenant.created", "globex", "globex"}}},
			{"since is inclusive, before exclusive", outlet.AuditFilter{Since: at(3 * time.Second), Before: at(5 * time.Second)},
				[]auditSeen{{"secret.created", "globex", "A"}, {"secret.created", "acme", "A"}}},
			{"filters combine", outlet.AuditFilter{TenantID: "acme", ActorID: "key_acme", Action: "secret.deleted"},
				[]auditSeen{{"secret.deleted", "acme", "A"}}},
			{"nothing matches", outlet.AuditFilter{TenantID: "globex", ActorID: "key_acme"}, nil},
		} {
			wantIDs(t, tt.name, seen(b.auditLog(t, tt.f)), names(tt.want...))
		}
		es := b.auditLog(t, outlet.AuditFilter{ActorID: "ps_globex"})
		if len(es) == 1 {
			wantEqual(t, "portal session actor type", es[0].ActorType, outlet.ActorPortalSession)
		}
	})

	s.test(t, "pages go newest first and end", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		var want []string
		for i := range 7 {
			name := fmt.Sprintf("S%d", i)
			_, err := b.store.PutSecret(b.admin(at(time.Duration(i)*time.Second)), "acme", name, sealed("x"), base)
			check(t, err)
			want = append([]string{auditSeen{"secret.created", "acme", name}.String()}, want...)
		}
		var got []string
		for _, p := range walk(t, 3, func(p outlet.Page) ([]*outlet.AuditEntry, string, error) {
			return b.store.ListAuditLog(b.ctx, outlet.AuditFilter{Page: p, TenantID: "acme"})
		}) {
			got = append(got, seen(p)...)
		}
		wantIDs(t, "entries across pages", got, want)
		_, _, err := b.store.ListAuditLog(b.ctx, outlet.AuditFilter{Page: outlet.Page{Limit: outlet.MaxPageLimit + 1}})
		wantCode(t, err, outlet.EINVALID)
	})

	s.test(t, "retention deletes entries made before the cutoff, at most limit at a time", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		for i := range 5 {
			_, err := b.store.PutSecret(b.admin(at(time.Duration(i)*day)), "acme", fmt.Sprintf("S%d", i), sealed("x"), base)
			check(t, err)
		}
		n, err := b.store.PurgeAuditLog(b.ctx, at(3*day), 2)
		check(t, err)
		wantEqual(t, "deleted by the first pass", n, 2)
		n, err = b.store.PurgeAuditLog(b.ctx, at(3*day), 2)
		check(t, err)
		wantEqual(t, "deleted by the second pass", n, 1)
		n, err = b.store.PurgeAuditLog(b.ctx, at(3*day), 2)
		check(t, err)
		wantEqual(t, "deleted once none is older", n, 0)
		wantIDs(t, "entries kept", seen(b.auditLog(t, outlet.AuditFilter{})), names(
			auditSeen{"secret.created", "acme", "S4"}, auditSeen{"secret.created", "acme", "S3"}))
	})
}
