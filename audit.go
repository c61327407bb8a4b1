package outlet

import (
	"context"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// PrefixAuditEntry starts the id of an entry of the audit log.
const PrefixAuditEntry = "aud_"

// ActorType says what a change was made with.
type ActorType string

// The kinds of actor.
const (
	ActorAdmin         ActorType = "admin"          // the admin key; its id is "admin"
	ActorAPIKey        ActorType = "api_key"        // a tenant's key; its id is the key's id (key_…)
	ActorPortalSession ActorType = "portal_session" // a portal session; its id is the session's (ps_…)
)

// AdminActorID is the id the admin key goes by in the audit log: it has no
// id of its own, and the key itself is never written down.
const AdminActorID = "admin"

// Actor is who makes the changes of one request, and from where. The API
// puts it in the request's context (WithActor); every store write that is a
// change reads it there and records the change in the audit log, in the
// write's own transaction. A write without an actor is Outlet's own work
// (deliveries, retention, disabling a failing endpoint) and isn't recorded.
type Actor struct {
	Type ActorType
	// ID names the credential, never holding it: a key's id, a portal
	// session's id, or AdminActorID.
	ID string
	// Address is the client's IP address.
	Address string
	// At is when the request came; its changes are recorded at that time.
	// Zero takes the store's clock.
	At time.Time
}

type actorKey struct{}

// WithActor returns ctx carrying a: the store records every change made
// with that context as a's.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom is the actor ctx carries, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// AuditEntry is one change in the audit log: who made it, with what and
// from where, what it did to which resource, and when. Its summary says
// what changed, and never holds a secret: no secret's value, signing
// secret, key or token, and of an endpoint's headers only their names.
type AuditEntry struct {
	ID string `json:"id"`
	// TenantID is the tenant whose resource changed; "" for the operator's
	// own (event types, hooks, the operator's portal sessions).
	TenantID     string          `json:"tenant_id"`
	ActorType    ActorType       `json:"actor_type"`
	ActorID      string          `json:"actor_id"`
	Action       string          `json:"action"`        // "endpoint.created", "secret.deleted", …
	ResourceType string          `json:"resource_type"` // "endpoint", "secret", …
	ResourceID   string          `json:"resource_id"`   // its id, or its name where it has none
	Summary      json.RawMessage `json:"summary"`       // a JSON object
	Address      string          `json:"address"`
	CreatedAt    time.Time       `json:"created_at"`
}

// By completes a change described by one of the Audit… functions with the
// actor ctx carries: its id, actor, address and time. ok is false when ctx
// carries no actor, and then nothing is to be recorded.
func (e AuditEntry) By(ctx context.Context) (_ *AuditEntry, ok bool) {
	a, ok := ActorFrom(ctx)
	if !ok {
		return nil, false
	}
	at := a.At
	if at.IsZero() {
		at = time.Now()
	}
	e.ID = NewID(PrefixAuditEntry)
	e.ActorType, e.ActorID, e.Address = a.Type, a.ID, a.Address
	e.CreatedAt = at.UTC().Truncate(time.Millisecond)
	if len(e.Summary) == 0 {
		e.Summary = json.RawMessage(`{}`)
	}
	return &e, true
}

// AuditFilter chooses entries of the audit log, newest first. Empty fields
// choose any.
type AuditFilter struct {
	Page
	TenantID string
	// TenantUID, with TenantID, keeps only the entries of the tenant of that
	// uid: a tenant created again under an id sees none of what an earlier
	// tenant of the id did.
	TenantUID    string
	ActorID      string
	Action       string
	ResourceType string
	ResourceID   string
	Since        time.Time // inclusive
	Before       time.Time // exclusive
}

// AuditStore keeps the audit log. Entries are written by the store's own
// writes, in their transactions (see Actor); these only read and expire them.
type AuditStore interface {
	ListAuditLog(ctx context.Context, f AuditFilter) ([]*AuditEntry, string, error)
	// PurgeAuditLog deletes up to limit entries made before cutoff and says
	// how many it deleted.
	PurgeAuditLog(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// AuditActions are the actions the audit log records, by resource.
var AuditActions = []string{
	"tenant.created", "tenant.updated", "tenant.deleted",
	"api_key.created", "api_key.deleted",
	"event_type.created", "event_type.updated", "event_type.deleted",
	"endpoint.created", "endpoint.updated", "endpoint.deleted", "endpoint.secret_rotated", "endpoint.recovered",
	"delivery.retried",
	"hook.created", "hook.updated", "hook.deleted",
	"hook_endpoint.set", "hook_endpoint.deleted",
	"function.deployed", "function.rolled_back", "function.deleted",
	"secret.created", "secret.updated", "secret.deleted",
	"portal_session.created", "portal_session.revoked",
}

// ValidateAuditAction checks an action a caller filters by.
func ValidateAuditAction(action string) error {
	if slices.Contains(AuditActions, action) {
		return nil
	}
	return Errorf(EINVALID, "action %q is not one the audit log records; give one of %s", truncate(action, 60), strings.Join(AuditActions, ", "))
}

// ValidateAuditResourceType checks a kind of resource a caller filters by.
func ValidateAuditResourceType(typ string) error {
	var types []string
	for _, a := range AuditActions {
		if t, _, _ := strings.Cut(a, "."); !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if slices.Contains(types, typ) {
		return nil
	}
	return Errorf(EINVALID, "resource_type %q is not one the audit log records; give one of %s", truncate(typ, 60), strings.Join(types, ", "))
}

// auditChange describes a change before it is attributed (AuditEntry.By).
func auditChange(action, tenantID, resourceID string, summary map[string]any) AuditEntry {
	typ, _, _ := strings.Cut(action, ".")
	e := AuditEntry{TenantID: tenantID, Action: action, ResourceType: typ, ResourceID: resourceID}
	if len(summary) > 0 {
		b, err := json.Marshal(summary)
		if err != nil {
			panic(err) // summaries hold strings, numbers, booleans, times and lists and maps of them
		}
		e.Summary = b
	}
	return e
}

// auditURL is a URL as the audit log shows it: without a user's password,
// the query or the fragment, where credentials are often passed.
func auditURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String()
}

// headerNames are the names of headers, whose values may be credentials.
func headerNames(h map[string]string) []string {
	return slices.Sorted(maps.Keys(h))
}

// schemaChange says what an update did to a schema or sample: JSON null
// clears it.
func schemaChange(v json.RawMessage) string {
	if string(v) == "null" {
		return "cleared"
	}
	return "changed"
}

// AuditTenantCreated is the creation of t.
func AuditTenantCreated(t *Tenant) AuditEntry {
	return auditChange("tenant.created", t.ID, t.ID, map[string]any{"name": t.Name, "metadata": t.Metadata,
		"allowed_hosts": orNone(t.AllowedHosts), "publish_rate_limit": t.PublishRateLimit})
}

// AuditTenantUpdated is a change of the tenant's settings.
func AuditTenantUpdated(id string, u TenantUpdate) AuditEntry {
	s := map[string]any{}
	if u.Name != nil {
		s["name"] = *u.Name
	}
	if u.Metadata != nil {
		s["metadata"] = u.Metadata
	}
	if u.AllowedHosts != nil {
		s["allowed_hosts"] = orNone(*u.AllowedHosts)
	}
	if u.PublishRateLimit != nil {
		s["publish_rate_limit"] = *u.PublishRateLimit
	}
	return auditChange("tenant.updated", id, id, s)
}

// AuditTenantDeleted is the deletion of a tenant and all it owned.
func AuditTenantDeleted(id string) AuditEntry { return auditChange("tenant.deleted", id, id, nil) }

// AuditAPIKeyCreated is a new key; its secret is nowhere in the entry.
func AuditAPIKeyCreated(k *APIKey) AuditEntry {
	return auditChange("api_key.created", k.TenantID, k.ID, map[string]any{"name": k.Name})
}

// AuditAPIKeyDeleted is the revocation of a key.
func AuditAPIKeyDeleted(tenantID, id string) AuditEntry {
	return auditChange("api_key.deleted", tenantID, id, nil)
}

// AuditEventTypeCreated is a new entry of the catalog.
func AuditEventTypeCreated(et *EventType) AuditEntry {
	return auditChange("event_type.created", "", et.Name, map[string]any{"description": et.Description, "deprecated": et.Deprecated,
		"schema": len(et.Schema) > 0, "sample": len(et.Sample) > 0})
}

// AuditEventTypeUpdated is a change of an event type; of its schema and
// sample only whether they changed or were cleared.
func AuditEventTypeUpdated(name string, u EventTypeUpdate) AuditEntry {
	s := map[string]any{}
	if u.Description != nil {
		s["description"] = *u.Description
	}
	if u.Deprecated != nil {
		s["deprecated"] = *u.Deprecated
	}
	if u.Schema != nil {
		s["schema"] = schemaChange(u.Schema)
	}
	if u.Sample != nil {
		s["sample"] = schemaChange(u.Sample)
	}
	return auditChange("event_type.updated", "", name, s)
}

// AuditEventTypeDeleted is the removal of an event type from the catalog.
func AuditEventTypeDeleted(name string) AuditEntry {
	return auditChange("event_type.deleted", "", name, nil)
}

// AuditEndpointCreated is a new endpoint; its secret is nowhere in the
// entry, and of its headers only their names.
func AuditEndpointCreated(ep *Endpoint) AuditEntry {
	return auditChange("endpoint.created", ep.TenantID, ep.ID, map[string]any{"url": auditURL(ep.URL), "description": ep.Description,
		"event_types": orNone(ep.EventTypes), "headers": headerNames(ep.Headers), "metadata": ep.Metadata, "disabled": ep.Disabled,
		"max_in_flight": ep.MaxInFlight, "rate_limit": ep.RateLimit, "ordered": ep.Ordered})
}

// AuditEndpointUpdated is a change of an endpoint: the fields given, as
// they now are.
func AuditEndpointUpdated(tenantID, id string, u EndpointUpdate) AuditEntry {
	s := map[string]any{}
	if u.URL != nil {
		s["url"] = auditURL(*u.URL)
	}
	if u.Description != nil {
		s["description"] = *u.Description
	}
	if u.EventTypes != nil {
		s["event_types"] = orNone(*u.EventTypes)
	}
	if u.Headers != nil {
		s["headers"] = headerNames(*u.Headers)
	}
	if u.Metadata != nil {
		s["metadata"] = *u.Metadata
	}
	if u.Disabled != nil {
		s["disabled"] = *u.Disabled
	}
	if u.MaxInFlight != nil {
		s["max_in_flight"] = *u.MaxInFlight
	}
	if u.RateLimit != nil {
		s["rate_limit"] = *u.RateLimit
	}
	if u.Ordered != nil {
		s["ordered"] = *u.Ordered
	}
	return auditChange("endpoint.updated", tenantID, id, s)
}

// AuditEndpointDeleted is the deletion of an endpoint.
func AuditEndpointDeleted(tenantID, id string) AuditEntry {
	return auditChange("endpoint.deleted", tenantID, id, nil)
}

// AuditEndpointSecretRotated is a new signing secret of ep, rotated in;
// neither secret is in the entry.
func AuditEndpointSecretRotated(ep *Endpoint) AuditEntry {
	s := map[string]any{}
	if ep.PreviousSecretExpiresAt != nil {
		s["previous_secret_expires_at"] = JSONTime(*ep.PreviousSecretExpiresAt)
	}
	return auditChange("endpoint.secret_rotated", ep.TenantID, ep.ID, s)
}

// AuditEndpointRecovered is the re-sending of an endpoint's failed
// deliveries since then: n of them.
func AuditEndpointRecovered(tenantID, id string, since time.Time, n int) AuditEntry {
	return auditChange("endpoint.recovered", tenantID, id, map[string]any{"since": JSONTime(since), "recovered": n})
}

// AuditDeliveryRetried is one more attempt of a delivery, asked for.
func AuditDeliveryRetried(tenantID, id string) AuditEntry {
	return auditChange("delivery.retried", tenantID, id, nil)
}

// AuditHookCreated is a new hook; of its schemas only whether it has them.
func AuditHookCreated(h *Hook) AuditEntry {
	return auditChange("hook.created", "", h.Name, map[string]any{"description": h.Description, "timeout_ms": h.TimeoutMs,
		"on_error": h.OnError, "input_schema": len(h.InputSchema) > 0, "output_schema": len(h.OutputSchema) > 0})
}

// AuditHookUpdated is a change of a hook.
func AuditHookUpdated(name string, u HookUpdate) AuditEntry {
	s := map[string]any{}
	if u.Description != nil {
		s["description"] = *u.Description
	}
	if u.TimeoutMs != nil {
		s["timeout_ms"] = *u.TimeoutMs
	}
	if u.OnError != nil {
		s["on_error"] = *u.OnError
	}
	if u.InputSchema != nil {
		s["input_schema"] = schemaChange(u.InputSchema)
	}
	if u.OutputSchema != nil {
		s["output_schema"] = schemaChange(u.OutputSchema)
	}
	return auditChange("hook.updated", "", name, s)
}

// AuditHookDeleted is the deletion of a hook.
func AuditHookDeleted(name string) AuditEntry { return auditChange("hook.deleted", "", name, nil) }

// AuditHookEndpointSet is a tenant's sync endpoint set to serve a hook;
// its secret is nowhere in the entry, and of its headers only their names.
func AuditHookEndpointSet(e *HookEndpoint) AuditEntry {
	return auditChange("hook_endpoint.set", e.TenantID, e.Hook, map[string]any{"url": auditURL(e.URL), "headers": headerNames(e.Headers)})
}

// AuditHookEndpointDeleted is the removal of a tenant's sync endpoint.
func AuditHookEndpointDeleted(tenantID, hook string) AuditEntry {
	return auditChange("hook_endpoint.deleted", tenantID, hook, nil)
}

// AuditFunctionDeployed is a new version of a function, now active, with
// what it is bound to; of its code only the hash.
func AuditFunctionDeployed(v *FunctionVersion) AuditEntry {
	return auditChange("function.deployed", v.TenantID, v.Function, map[string]any{"version": v.Version, "runtime": v.Runtime,
		"sha256": v.SHA256, "events": orNone(v.Events), "hooks": orNone(v.Hooks), "limits": v.Limits})
}

// AuditFunctionRolledBack is an earlier version made active again.
func AuditFunctionRolledBack(tenantID, name string, version int) AuditEntry {
	return auditChange("function.rolled_back", tenantID, name, map[string]any{"version": version})
}

// AuditFunctionDeleted is the deletion of a function and its versions.
func AuditFunctionDeleted(tenantID, name string) AuditEntry {
	return auditChange("function.deleted", tenantID, name, nil)
}

// AuditSecretSet is a secret written, new or over an old value; the value
// is nowhere in the entry.
func AuditSecretSet(tenantID, name string, created bool) AuditEntry {
	if created {
		return auditChange("secret.created", tenantID, name, nil)
	}
	return auditChange("secret.updated", tenantID, name, nil)
}

// AuditSecretDeleted is the deletion of a secret.
func AuditSecretDeleted(tenantID, name string) AuditEntry {
	return auditChange("secret.deleted", tenantID, name, nil)
}

// AuditPortalSessionCreated is a portal session minted; its token is
// nowhere in the entry.
func AuditPortalSessionCreated(ps *PortalSession) AuditEntry {
	return auditChange("portal_session.created", ps.TenantID, ps.ID, map[string]any{"read_only": ps.ReadOnly, "features": ps.Features,
		"expires_at": JSONTime(ps.ExpiresAt)})
}

// AuditPortalSessionRevoked is a portal session ended.
func AuditPortalSessionRevoked(tenantID, id string) AuditEntry {
	return auditChange("portal_session.revoked", tenantID, id, nil)
}

// orNone keeps a nil list from reading as null.
func orNone(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
