package outlet

import (
	"context"
	"time"
)

// ChangeKind is what a write to the store changed, as far as what is kept
// of the store elsewhere (caches, warm engines) is concerned.
type ChangeKind int

// The kinds of change.
const (
	// TenantChanged: a tenant was created or its settings changed (name,
	// allowed hosts, publish rate limit).
	TenantChanged ChangeKind = iota + 1
	// TenantDeleted: a tenant and everything it owned are gone.
	TenantDeleted
	// APIKeyDeleted: a tenant's key (Name, its id) was revoked.
	APIKeyDeleted
	// FunctionChanged: a function (Name) was deployed or rolled back: what
	// it runs or is bound to changed.
	FunctionChanged
	// FunctionDeleted: a function (Name) is gone.
	FunctionDeleted
	// SecretChanged: a tenant's secret (Name) was set or deleted.
	SecretChanged
	// HookEndpointChanged: what serves a hook (Name) for a tenant changed.
	HookEndpointChanged
	// HookChanged: the operator changed or deleted a hook (Name).
	HookChanged
	// EventTypeChanged: the operator changed or deleted an event type (Name).
	EventTypeChanged
	// PortalSessionRevoked: a portal session (Name, its id) was revoked;
	// TenantID is empty for the operator's.
	PortalSessionRevoked
)

// Change is one write that what is kept of the store must hear about.
// TenantID is empty for the operator's catalog (hooks, event types).
type Change struct {
	Kind     ChangeKind
	TenantID string
	Name     string
}

// Watch returns s, telling notify of every write made through it that
// changes what the rest of a node keeps of the store — after the write
// succeeded (or may have), on the writer's goroutine. The node's API writes through it, so
// no write path can forget to drop what it made stale. (Writes made through
// another node reach this one's caches when their time to live ends.)
//
// A write that changes nothing kept elsewhere passes straight through;
// TestEveryStoreWriteIsWatchedOrSaysWhyNot keeps the two lists complete.
func Watch(s Store, notify func(Change)) Store {
	return &watched{Store: s, notify: notify}
}

type watched struct {
	Store
	notify func(Change)
}

// tell notifies of a write that succeeded, or may have: a write that failed
// for want of the database (a commit whose answer was lost) may have
// committed, and dropping a cache costs less than keeping it stale. A write
// refused for what it asked (not found, invalid, a conflict) changed nothing.
func (w *watched) tell(err error, kind ChangeKind, tenantID, name string) error {
	if code := ErrorCode(err); err == nil || code == EINTERNAL || code == EUNAVAILABLE {
		w.notify(Change{Kind: kind, TenantID: tenantID, Name: name})
	}
	return err
}

func (w *watched) CreateTenant(ctx context.Context, t *Tenant) error {
	return w.tell(w.Store.CreateTenant(ctx, t), TenantChanged, t.ID, "")
}

func (w *watched) UpdateTenant(ctx context.Context, id string, u TenantUpdate, now time.Time) (*Tenant, error) {
	t, err := w.Store.UpdateTenant(ctx, id, u, now)
	return t, w.tell(err, TenantChanged, id, "")
}

func (w *watched) DeleteTenant(ctx context.Context, id string) error {
	return w.tell(w.Store.DeleteTenant(ctx, id), TenantDeleted, id, "")
}

func (w *watched) DeleteAPIKey(ctx context.Context, tenantID, id string) error {
	return w.tell(w.Store.DeleteAPIKey(ctx, tenantID, id), APIKeyDeleted, tenantID, id)
}

func (w *watched) DeployFunction(ctx context.Context, v *FunctionVersion, now time.Time) error {
	return w.tell(w.Store.DeployFunction(ctx, v, now), FunctionChanged, v.TenantID, v.Function)
}

func (w *watched) ActivateFunctionVersion(ctx context.Context, tenantID, name string, version int, now time.Time) (*Function, error) {
	f, err := w.Store.ActivateFunctionVersion(ctx, tenantID, name, version, now)
	return f, w.tell(err, FunctionChanged, tenantID, name)
}

func (w *watched) DeleteFunction(ctx context.Context, tenantID, name string) error {
	return w.tell(w.Store.DeleteFunction(ctx, tenantID, name), FunctionDeleted, tenantID, name)
}

func (w *watched) PutSecret(ctx context.Context, tenantID, name string, sealed []byte, now time.Time) (bool, error) {
	created, err := w.Store.PutSecret(ctx, tenantID, name, sealed, now)
	return created, w.tell(err, SecretChanged, tenantID, name)
}

func (w *watched) DeleteSecret(ctx context.Context, tenantID, name string) error {
	return w.tell(w.Store.DeleteSecret(ctx, tenantID, name), SecretChanged, tenantID, name)
}

func (w *watched) PutHookEndpoint(ctx context.Context, ep *HookEndpoint) error {
	return w.tell(w.Store.PutHookEndpoint(ctx, ep), HookEndpointChanged, ep.TenantID, ep.Hook)
}

func (w *watched) DeleteHookEndpoint(ctx context.Context, tenantID, hook string) error {
	return w.tell(w.Store.DeleteHookEndpoint(ctx, tenantID, hook), HookEndpointChanged, tenantID, hook)
}

func (w *watched) CreateHook(ctx context.Context, h *Hook) error {
	return w.tell(w.Store.CreateHook(ctx, h), HookChanged, "", h.Name)
}

func (w *watched) UpdateHook(ctx context.Context, name string, u HookUpdate, now time.Time) (*Hook, error) {
	h, err := w.Store.UpdateHook(ctx, name, u, now)
	return h, w.tell(err, HookChanged, "", name)
}

func (w *watched) DeleteHook(ctx context.Context, name string) error {
	return w.tell(w.Store.DeleteHook(ctx, name), HookChanged, "", name)
}

func (w *watched) CreateEventType(ctx context.Context, et *EventType) error {
	return w.tell(w.Store.CreateEventType(ctx, et), EventTypeChanged, "", et.Name)
}

func (w *watched) UpdateEventType(ctx context.Context, name string, u EventTypeUpdate, now time.Time) (*EventType, error) {
	et, err := w.Store.UpdateEventType(ctx, name, u, now)
	return et, w.tell(err, EventTypeChanged, "", name)
}

func (w *watched) DeleteEventType(ctx context.Context, name string) error {
	return w.tell(w.Store.DeleteEventType(ctx, name), EventTypeChanged, "", name)
}

func (w *watched) RevokePortalSession(ctx context.Context, tenantID, id string, now time.Time) error {
	return w.tell(w.Store.RevokePortalSession(ctx, tenantID, id, now), PortalSessionRevoked, tenantID, id)
}
