package outlet_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/sqlite"
)

// Reads change nothing.
var storeReads = []string{"APIKeyByHash", "Delivery", "Endpoint", "Event", "EventType", "Function", "FunctionVersion", "Hook",
	"HookEndpoint", "HookFunctions", "ListAPIKeys", "ListAttempts", "ListDeliveries", "ListEndpoints", "ListEventTypes",
	"ListEvents", "ListFunctionVersions", "ListFunctions", "ListHookEndpoints", "ListHooks", "ListInvocations", "ListSecrets",
	"ListTenants", "ListPortalSessions", "PortalSessionBySecret", "NextDue", "Ping", "QueueStats", "SealedSecrets", "Tenant", "Usage", "UsageOver", "ListAuditLog", "Close"}

// Writes that change nothing a node keeps outside the store, and why.
var storeUnwatchedWrites = map[string]string{
	"CreateAPIKey":          "a new key is looked up when first used; nothing negative is kept of it for longer than the cache's time to live",
	"TouchAPIKey":           "last-used times are advisory",
	"CreateEndpoint":        "endpoints are cached only inside the store, which drops its own entries",
	"UpdateEndpoint":        "as CreateEndpoint",
	"DeleteEndpoint":        "as CreateEndpoint",
	"RotateEndpointSecret":  "as CreateEndpoint",
	"PublishEvents":         "the delivery engine's own work",
	"ClaimDue":              "the delivery engine's own work",
	"ClaimParked":           "the delivery engine's own work",
	"CompleteAttempts":      "the delivery engine's own work",
	"ReleaseClaims":         "the delivery engine's own work",
	"RenewClaims":           "the delivery engine's own work",
	"RetryDelivery":         "the delivery engine's own work",
	"RecoverEndpoint":       "the delivery engine's own work",
	"PurgeExpired":          "retention: old events, deliveries, attempts and logs, which nothing caches",
	"RecordInvocations":     "function logs, which nothing caches",
	"AddFunctionUsage":      "usage counters, which nothing caches",
	"MarkEndpointCircuit":   "the delivery engine's own record of circuits, which nothing caches",
	"PurgeAuditLog":         "retention: old audit entries, which nothing caches",
	"CreatePortalSession":   "a new session is looked up only once its link is opened; the sessions it deletes had expired, and expiry is checked at every use",
	"ExchangePortalSession": "the cookie secret it records is new: no node can have cached anything of it, not even its absence",
}

// TestEveryStoreWriteIsWatchedOrSaysWhyNot: a method added to the store
// must be put in one of the lists, so no write that makes a cache stale can
// be added without the watch hearing of it.
func TestEveryStoreWriteIsWatchedOrSaysWhyNot(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for _, m := range storeReads {
		known[m] = true
	}
	for m := range storeUnwatchedWrites {
		known[m] = true
	}
	for m := range watchedWrites(nil) {
		if known[m] {
			t.Errorf("%s is in two lists", m)
		}
		known[m] = true
	}
	st := reflect.TypeOf((*outlet.Store)(nil)).Elem()
	for i := range st.NumMethod() {
		if name := st.Method(i).Name; !known[name] {
			t.Errorf("Store.%s is new: add it to outlet.Watch if it makes something kept elsewhere stale, or say why not in storeUnwatchedWrites", name)
		}
	}
}

// watchedWrites makes each watched write through s and says what change it
// must report.
func watchedWrites(s outlet.Store) map[string]struct {
	do   func(context.Context) error
	want outlet.Change
} {
	now := time.Now().UTC().Truncate(time.Millisecond)
	type write = struct {
		do   func(context.Context) error
		want outlet.Change
	}
	name := "renamed"
	timeout := 500
	return map[string]write{
		"CreateTenant": {func(ctx context.Context) error {
			return s.CreateTenant(ctx, &outlet.Tenant{ID: "acme", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now})
		}, outlet.Change{Kind: outlet.TenantChanged, TenantID: "acme"}},
		"UpdateTenant": {func(ctx context.Context) error {
			_, err := s.UpdateTenant(ctx, "acme", outlet.TenantUpdate{Name: &name}, now)
			return err
		}, outlet.Change{Kind: outlet.TenantChanged, TenantID: "acme"}},
		"CreateHook": {func(ctx context.Context) error {
			return s.CreateHook(ctx, &outlet.Hook{Name: "checkout.discount", TimeoutMs: 200, OnError: outlet.FailOpen, CreatedAt: now, UpdatedAt: now})
		}, outlet.Change{Kind: outlet.HookChanged, Name: "checkout.discount"}},
		"UpdateHook": {func(ctx context.Context) error {
			_, err := s.UpdateHook(ctx, "checkout.discount", outlet.HookUpdate{TimeoutMs: &timeout}, now)
			return err
		}, outlet.Change{Kind: outlet.HookChanged, Name: "checkout.discount"}},
		"PutHookEndpoint": {func(ctx context.Context) error {
			return s.PutHookEndpoint(ctx, &outlet.HookEndpoint{TenantID: "acme", Hook: "checkout.discount", URL: "https://example.com/h",
				Headers: map[string]string{}, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", CreatedAt: now, UpdatedAt: now})
		}, outlet.Change{Kind: outlet.HookEndpointChanged, TenantID: "acme", Name: "checkout.discount"}},
		"DeleteHookEndpoint": {func(ctx context.Context) error {
			return s.DeleteHookEndpoint(ctx, "acme", "checkout.discount")
		}, outlet.Change{Kind: outlet.HookEndpointChanged, TenantID: "acme", Name: "checkout.discount"}},
		"DeployFunction": {func(ctx context.Context) error {
			v := &outlet.FunctionVersion{TenantID: "acme", Function: "fn", Runtime: outlet.RuntimeJavaScript, Code: []byte("export default () => 1"),
				Events: []string{}, Hooks: []string{"checkout.discount"}}
			v.Seal()
			return s.DeployFunction(ctx, v, now)
		}, outlet.Change{Kind: outlet.FunctionChanged, TenantID: "acme", Name: "fn"}},
		"ActivateFunctionVersion": {func(ctx context.Context) error {
			_, err := s.ActivateFunctionVersion(ctx, "acme", "fn", 1, now)
			return err
		}, outlet.Change{Kind: outlet.FunctionChanged, TenantID: "acme", Name: "fn"}},
		"DeleteFunction": {func(ctx context.Context) error {
			return s.DeleteFunction(ctx, "acme", "fn")
		}, outlet.Change{Kind: outlet.FunctionDeleted, TenantID: "acme", Name: "fn"}},
		"DeleteHook": {func(ctx context.Context) error {
			return s.DeleteHook(ctx, "checkout.discount")
		}, outlet.Change{Kind: outlet.HookChanged, Name: "checkout.discount"}},
		"PutSecret": {func(ctx context.Context) error {
			_, err := s.PutSecret(ctx, "acme", "KEY", []byte("sealed"), now)
			return err
		}, outlet.Change{Kind: outlet.SecretChanged, TenantID: "acme", Name: "KEY"}},
		"DeleteSecret": {func(ctx context.Context) error {
			return s.DeleteSecret(ctx, "acme", "KEY")
		}, outlet.Change{Kind: outlet.SecretChanged, TenantID: "acme", Name: "KEY"}},
		"CreateEventType": {func(ctx context.Context) error {
			return s.CreateEventType(ctx, &outlet.EventType{Name: "invoice.paid", CreatedAt: now, UpdatedAt: now})
		}, outlet.Change{Kind: outlet.EventTypeChanged, Name: "invoice.paid"}},
		"UpdateEventType": {func(ctx context.Context) error {
			desc := "paid"
			_, err := s.UpdateEventType(ctx, "invoice.paid", outlet.EventTypeUpdate{Description: &desc}, now)
			return err
		}, outlet.Change{Kind: outlet.EventTypeChanged, Name: "invoice.paid"}},
		"DeleteEventType": {func(ctx context.Context) error {
			return s.DeleteEventType(ctx, "invoice.paid")
		}, outlet.Change{Kind: outlet.EventTypeChanged, Name: "invoice.paid"}},
		"DeleteAPIKey": {func(ctx context.Context) error {
			k, _, err := outlet.NewAPIKey("acme", "ci", now)
			if err != nil {
				return err
			}
			if err := s.CreateAPIKey(ctx, k); err != nil {
				return err
			}
			return s.DeleteAPIKey(ctx, "acme", k.ID)
		}, outlet.Change{Kind: outlet.APIKeyDeleted, TenantID: "acme"}},
		"RevokePortalSession": {func(ctx context.Context) error {
			ps, _, err := outlet.NewPortalSession("acme", outlet.PortalSessionOptions{Features: outlet.AllPortalFeatures()}, now)
			if err != nil {
				return err
			}
			ps.ID = "ps_revoked"
			if err := s.CreatePortalSession(ctx, ps); err != nil {
				return err
			}
			return s.RevokePortalSession(ctx, "acme", ps.ID, now)
		}, outlet.Change{Kind: outlet.PortalSessionRevoked, TenantID: "acme", Name: "ps_revoked"}},
		"DeleteTenant": {func(ctx context.Context) error {
			return s.DeleteTenant(ctx, "acme")
		}, outlet.Change{Kind: outlet.TenantDeleted, TenantID: "acme"}},
	}
}

// watchedOrder is an order in which every watched write succeeds.
var watchedOrder = []string{"CreateTenant", "UpdateTenant", "CreateHook", "UpdateHook", "PutHookEndpoint", "DeleteHookEndpoint",
	"DeployFunction", "ActivateFunctionVersion", "DeleteFunction", "DeleteHook", "PutSecret", "DeleteSecret",
	"CreateEventType", "UpdateEventType", "DeleteEventType", "DeleteAPIKey", "RevokePortalSession", "DeleteTenant"}

func TestWatchedWritesReportWhatTheyChangedOnceTheySucceed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	raw, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "outlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	var heard []outlet.Change
	s := outlet.Watch(raw, func(c outlet.Change) { heard = append(heard, c) })
	writes := watchedWrites(s)
	if len(watchedOrder) != len(writes) {
		t.Fatalf("watchedOrder has %d writes; watchedWrites %d", len(watchedOrder), len(writes))
	}
	for _, name := range watchedOrder {
		w := writes[name]
		heard = nil
		if err := w.do(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if w.want.Kind == outlet.APIKeyDeleted {
			if len(heard) != 1 || heard[0].Kind != outlet.APIKeyDeleted || heard[0].TenantID != "acme" || heard[0].Name == "" {
				t.Errorf("%s reported %+v; want one APIKeyDeleted naming the key", name, heard)
			}
			continue
		}
		if len(heard) != 1 || heard[0] != w.want {
			t.Errorf("%s reported %+v; want %+v", name, heard, w.want)
		}
	}
	heard = nil
	if err := s.DeleteTenant(ctx, "acme"); outlet.ErrorCode(err) != outlet.ENOTFOUND {
		t.Fatalf("deleting a tenant that isn't there: %v", err)
	}
	if len(heard) != 0 {
		t.Errorf("a write that failed reported %+v", heard)
	}
}
