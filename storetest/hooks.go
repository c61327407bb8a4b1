package storetest

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// Hooks the suite declares.
const (
	discount = "checkout.discount"
	validate = "signup.validate"
)

func newHook(name string) *outlet.Hook {
	return &outlet.Hook{
		Name:         name,
		Description:  "Lets a tenant change the price of a cart.",
		InputSchema:  json.RawMessage(`{"type":"object","required":["cart"]}`),
		OutputSchema: json.RawMessage(`{"type":"object","required":["total"]}`),
		TimeoutMs:    500,
		OnError:      outlet.FailOpen,
		CreatedAt:    base,
		UpdatedAt:    base,
	}
}

// declare declares the hooks the operator offers.
func (b *bundle) declare(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		check(t, b.store.CreateHook(b.ctx, newHook(name)))
	}
}

func (b *bundle) getHook(t *testing.T, name string) *outlet.Hook {
	t.Helper()
	h, err := b.store.Hook(b.ctx, name)
	check(t, err)
	return h
}

func wantHook(t *testing.T, got, want *outlet.Hook) {
	t.Helper()
	wantEqual(t, "hook name", got.Name, want.Name)
	wantEqual(t, "hook description", got.Description, want.Description)
	if !jsonEqual(got.InputSchema, want.InputSchema) {
		t.Errorf("hook input schema = %s; want %s", got.InputSchema, want.InputSchema)
	}
	if !jsonEqual(got.OutputSchema, want.OutputSchema) {
		t.Errorf("hook output schema = %s; want %s", got.OutputSchema, want.OutputSchema)
	}
	wantEqual(t, "hook timeout", got.TimeoutMs, want.TimeoutMs)
	wantEqual(t, "hook on_error", got.OnError, want.OnError)
	wantTime(t, "hook created_at", got.CreatedAt, want.CreatedAt)
	wantTime(t, "hook updated_at", got.UpdatedAt, want.UpdatedAt)
}

func hookNames(hs []*outlet.Hook) []string {
	out := []string{}
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return out
}

func hookTests(t *testing.T, s suite) {
	s.test(t, "a created hook reads back with all its fields", func(t *testing.T, b *bundle) {
		want := newHook(discount)
		check(t, b.store.CreateHook(b.ctx, want))
		wantHook(t, b.getHook(t, discount), want)
	})

	s.test(t, "a hook without schemas reads back without them", func(t *testing.T, b *bundle) {
		want := newHook(discount)
		want.InputSchema, want.OutputSchema = nil, nil
		check(t, b.store.CreateHook(b.ctx, want))
		wantHook(t, b.getHook(t, discount), want)
	})

	s.test(t, "creating a hook with a taken name is ECONFLICT and keeps the first", func(t *testing.T, b *bundle) {
		b.declare(t, discount)
		again := newHook(discount)
		again.Description, again.CreatedAt = "Someone else's", at(time.Hour)
		wantCode(t, b.store.CreateHook(b.ctx, again), outlet.ECONFLICT)
		wantHook(t, b.getHook(t, discount), newHook(discount))
	})

	s.test(t, "getting, updating or deleting an unknown hook is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.declare(t, validate)
		_, err := b.store.Hook(b.ctx, discount)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.UpdateHook(b.ctx, discount, outlet.HookUpdate{TimeoutMs: ptr(100)}, base)
		wantCode(t, err, outlet.ENOTFOUND)
		wantCode(t, b.store.DeleteHook(b.ctx, discount), outlet.ENOTFOUND)
	})

	s.test(t, "hooks list sorted by name", func(t *testing.T, b *bundle) {
		b.declare(t, validate, "checkout.tax", discount)
		hs, err := b.store.ListHooks(b.ctx)
		check(t, err)
		wantIDs(t, "hooks", hookNames(hs), []string{discount, "checkout.tax", validate})
	})

	s.test(t, "no hooks list as an empty list", func(t *testing.T, b *bundle) {
		hs, err := b.store.ListHooks(b.ctx)
		check(t, err)
		wantIDs(t, "hooks", hookNames(hs), []string{})
	})

	for _, tc := range []struct {
		name   string
		update outlet.HookUpdate
		change func(*outlet.Hook)
	}{
		{"updating a hook's timeout keeps the rest",
			outlet.HookUpdate{TimeoutMs: ptr(2000)},
			func(h *outlet.Hook) { h.TimeoutMs = 2000 }},
		{"updating a hook's description and on_error keeps its schemas",
			outlet.HookUpdate{Description: ptr("Prices, again."), OnError: ptr(outlet.FailClosed)},
			func(h *outlet.Hook) { h.Description, h.OnError = "Prices, again.", outlet.FailClosed }},
		{"updating a hook's input schema keeps its output schema",
			outlet.HookUpdate{InputSchema: json.RawMessage(`{"type":"array"}`)},
			func(h *outlet.Hook) { h.InputSchema = json.RawMessage(`{"type":"array"}`) }},
		{"updating a hook with a JSON null input schema clears that schema alone",
			outlet.HookUpdate{InputSchema: json.RawMessage(`null`)},
			func(h *outlet.Hook) { h.InputSchema = nil }},
		{"updating a hook with a JSON null output schema clears that schema alone",
			outlet.HookUpdate{OutputSchema: json.RawMessage(`null`)},
			func(h *outlet.Hook) { h.OutputSchema = nil }},
		{"an empty hook update changes only the update time",
			outlet.HookUpdate{},
			func(h *outlet.Hook) {}},
	} {
		s.test(t, tc.name, func(t *testing.T, b *bundle) {
			b.declare(t, discount)
			got, err := b.store.UpdateHook(b.ctx, discount, tc.update, at(time.Hour))
			check(t, err)
			want := newHook(discount)
			tc.change(want)
			want.UpdatedAt = at(time.Hour)
			wantHook(t, got, want)
			wantHook(t, b.getHook(t, discount), want)
		})
	}

	s.test(t, "an update that makes a hook invalid is EINVALID and changes nothing", func(t *testing.T, b *bundle) {
		b.declare(t, discount)
		for _, tc := range []struct {
			name   string
			update outlet.HookUpdate
		}{
			{"zero timeout", outlet.HookUpdate{TimeoutMs: ptr(0)}},
			{"timeout over the maximum", outlet.HookUpdate{TimeoutMs: ptr(outlet.MaxHookTimeoutMs + 1)}},
			{"unknown on_error", outlet.HookUpdate{OnError: ptr("retry")}},
			{"description too long", outlet.HookUpdate{Description: ptr(strings.Repeat("x", 2001))}},
			{"valid field beside an invalid one", outlet.HookUpdate{Description: ptr("fine"), TimeoutMs: ptr(-1)}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := b.store.UpdateHook(b.ctx, discount, tc.update, at(time.Hour))
				wantCode(t, err, outlet.EINVALID)
				wantHook(t, b.getHook(t, discount), newHook(discount))
			})
		}
	})

	s.test(t, "a deleted hook is gone", func(t *testing.T, b *bundle) {
		b.declare(t, discount, validate)
		check(t, b.store.DeleteHook(b.ctx, discount))
		_, err := b.store.Hook(b.ctx, discount)
		wantCode(t, err, outlet.ENOTFOUND)
		hs, err := b.store.ListHooks(b.ctx)
		check(t, err)
		wantIDs(t, "hooks left", hookNames(hs), []string{validate})
	})

	s.test(t, "deleting a hook deletes every tenant's endpoint for it and no other hook's", func(t *testing.T, b *bundle) {
		b.declare(t, discount, validate)
		for _, tenantID := range []string{"acme", "globex"} {
			b.tenant(t, tenantID)
			b.putHookEndpoint(t, tenantID, discount, base)
			b.putHookEndpoint(t, tenantID, validate, base)
		}
		check(t, b.store.DeleteHook(b.ctx, discount))
		for _, tenantID := range []string{"acme", "globex"} {
			_, err := b.store.HookEndpoint(b.ctx, tenantID, discount)
			wantCode(t, err, outlet.ENOTFOUND)
			wantIDs(t, tenantID+"'s hook endpoints", hookEndpointHooks(b.hookEndpoints(t, tenantID)), []string{validate})
		}
		// Declared again, the hook starts with no endpoints.
		b.declare(t, discount)
		_, err := b.store.HookEndpoint(b.ctx, "acme", discount)
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "deleting a hook keeps the functions bound to it and their binding", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount, validate)
		v := newVersion("acme", "pricing")
		v.Hooks = []string{discount, validate}
		b.deploy(t, v, base)
		check(t, b.store.DeleteHook(b.ctx, discount))
		f := b.getFunction(t, "acme", "pricing")
		wantIDs(t, "function hooks", f.Hooks, []string{discount, validate})
		wantEqual(t, "active version", f.ActiveVersion, 1)
	})
}

func newHookEndpoint(tenantID, hookName string, now time.Time) *outlet.HookEndpoint {
	return &outlet.HookEndpoint{
		TenantID:  tenantID,
		Hook:      hookName,
		URL:       "https://pricing.example.com/hooks/" + hookName,
		Headers:   map[string]string{"X-Team": "pricing"},
		Secret:    outlet.NewEndpointSecret(),
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// putHookEndpoint makes the tenant serve a hook with its own endpoint.
func (b *bundle) putHookEndpoint(t *testing.T, tenantID, hookName string, now time.Time) *outlet.HookEndpoint {
	t.Helper()
	e := newHookEndpoint(tenantID, hookName, now)
	check(t, b.store.PutHookEndpoint(b.ctx, e))
	return e
}

func (b *bundle) getHookEndpoint(t *testing.T, tenantID, hookName string) *outlet.HookEndpoint {
	t.Helper()
	e, err := b.store.HookEndpoint(b.ctx, tenantID, hookName)
	check(t, err)
	return e
}

func (b *bundle) hookEndpoints(t *testing.T, tenantID string) []*outlet.HookEndpoint {
	t.Helper()
	es, err := b.store.ListHookEndpoints(b.ctx, tenantID)
	check(t, err)
	return es
}

func hookEndpointHooks(es []*outlet.HookEndpoint) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Hook)
	}
	return out
}

func wantHookEndpoint(t *testing.T, got, want *outlet.HookEndpoint) {
	t.Helper()
	wantEqual(t, "hook endpoint tenant", got.TenantID, want.TenantID)
	wantEqual(t, "hook endpoint hook", got.Hook, want.Hook)
	wantEqual(t, "hook endpoint url", got.URL, want.URL)
	if !maps.Equal(got.Headers, want.Headers) {
		t.Errorf("hook endpoint headers = %v; want %v", got.Headers, want.Headers)
	}
	wantEqual(t, "hook endpoint secret", got.Secret, want.Secret)
	wantTime(t, "hook endpoint created_at", got.CreatedAt, want.CreatedAt)
	wantTime(t, "hook endpoint updated_at", got.UpdatedAt, want.UpdatedAt)
}

func hookEndpointTests(t *testing.T, s suite) {
	s.test(t, "a hook endpoint reads back with all its fields", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount)
		want := b.putHookEndpoint(t, "acme", discount, base)
		wantHookEndpoint(t, b.getHookEndpoint(t, "acme", discount), want)
	})

	s.test(t, "putting a hook endpoint again replaces its url, headers and secret and keeps its creation time", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount)
		b.putHookEndpoint(t, "acme", discount, base)
		again := newHookEndpoint("acme", discount, at(time.Hour))
		again.URL, again.Headers = "https://new.example.com/discount", nil
		check(t, b.store.PutHookEndpoint(b.ctx, again))
		want := *again
		want.CreatedAt = base
		wantTime(t, "created_at told to the caller", again.CreatedAt, base)
		wantHookEndpoint(t, b.getHookEndpoint(t, "acme", discount), &want)
		wantIDs(t, "hook endpoints", hookEndpointHooks(b.hookEndpoints(t, "acme")), []string{discount})
	})

	s.test(t, "putting a hook endpoint for an unknown tenant or an undeclared hook is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount)
		wantCode(t, b.store.PutHookEndpoint(b.ctx, newHookEndpoint("nobody", discount, base)), outlet.ENOTFOUND)
		wantCode(t, b.store.PutHookEndpoint(b.ctx, newHookEndpoint("acme", validate, base)), outlet.ENOTFOUND)
		wantIDs(t, "hook endpoints", hookEndpointHooks(b.hookEndpoints(t, "acme")), []string{})
	})

	s.test(t, "getting or deleting a hook endpoint that isn't there is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount, validate)
		b.putHookEndpoint(t, "acme", validate, base)
		for _, tc := range []struct{ tenant, hook string }{
			{"acme", discount},    // declared, not served by an endpoint
			{"acme", "no.such"},   // not declared
			{"nobody", validate},  // no such tenant
			{"nobody", "no.such"}, // neither
		} {
			_, err := b.store.HookEndpoint(b.ctx, tc.tenant, tc.hook)
			wantCode(t, err, outlet.ENOTFOUND)
			wantCode(t, b.store.DeleteHookEndpoint(b.ctx, tc.tenant, tc.hook), outlet.ENOTFOUND)
		}
	})

	s.test(t, "a tenant's hook endpoints list sorted by hook without other tenants'", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.declare(t, validate, discount, "checkout.tax")
		b.putHookEndpoint(t, "acme", validate, base)
		b.putHookEndpoint(t, "globex", "checkout.tax", base)
		b.putHookEndpoint(t, "acme", discount, base)
		wantIDs(t, "acme's hook endpoints", hookEndpointHooks(b.hookEndpoints(t, "acme")), []string{discount, validate})
		b.tenant(t, "initech")
		wantIDs(t, "initech's hook endpoints", hookEndpointHooks(b.hookEndpoints(t, "initech")), []string{})
		_, err := b.store.ListHookEndpoints(b.ctx, "nobody")
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "another tenant can't get or delete a tenant's hook endpoint", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.declare(t, discount)
		want := b.putHookEndpoint(t, "acme", discount, base)
		_, err := b.store.HookEndpoint(b.ctx, "globex", discount)
		wantCode(t, err, outlet.ENOTFOUND)
		wantCode(t, b.store.DeleteHookEndpoint(b.ctx, "globex", discount), outlet.ENOTFOUND)
		wantHookEndpoint(t, b.getHookEndpoint(t, "acme", discount), want)
	})

	s.test(t, "a deleted hook endpoint is gone and the hook can then be served by a function", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount)
		b.putHookEndpoint(t, "acme", discount, base)
		check(t, b.store.DeleteHookEndpoint(b.ctx, "acme", discount))
		_, err := b.store.HookEndpoint(b.ctx, "acme", discount)
		wantCode(t, err, outlet.ENOTFOUND)
		wantIDs(t, "hook endpoints", hookEndpointHooks(b.hookEndpoints(t, "acme")), []string{})
		v := newVersion("acme", "pricing")
		v.Hooks = []string{discount}
		check(t, b.store.DeployFunction(b.ctx, v, at(time.Hour)))
	})

	s.test(t, "putting a hook endpoint for a hook an active function of the tenant serves is ECONFLICT", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount)
		v := newVersion("acme", "pricing")
		v.Hooks = []string{discount}
		b.deploy(t, v, base)
		wantCode(t, b.store.PutHookEndpoint(b.ctx, newHookEndpoint("acme", discount, at(time.Hour))), outlet.ECONFLICT)
		_, err := b.store.HookEndpoint(b.ctx, "acme", discount)
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "a hook served only by an inactive version or another tenant's function can be served by an endpoint", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.declare(t, discount)
		old := newVersion("acme", "pricing")
		old.Hooks = []string{discount}
		b.deploy(t, old, base)
		b.deploy(t, newVersion("acme", "pricing"), at(time.Minute)) // serves no hook
		theirs := newVersion("globex", "pricing")
		theirs.Hooks = []string{discount}
		b.deploy(t, theirs, base)
		b.putHookEndpoint(t, "acme", discount, at(time.Hour))
	})
}
