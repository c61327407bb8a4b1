package outlet

import (
	"context"
	"encoding/json"
	"time"
)

// Hook is an extension point: a call the platform makes during its own
// request, which each tenant can serve with its functions or its own sync
// endpoint, and which answers within a deadline.
type Hook struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`
	OutputSchema json.RawMessage `json:"output_schema"`
	TimeoutMs    int             `json:"timeout_ms"`
	OnError      string          `json:"on_error"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// What a hook answers when the tenant's code fails: the input unchanged beside
// the error, or no output at all.
const (
	FailOpen   = "fail_open"
	FailClosed = "fail_closed"
)

// Hook timeout bounds. An operator may lower the maximum.
const (
	DefaultHookTimeoutMs = 1000
	MaxHookTimeoutMs     = 30000
)

// HookUpdate holds the fields of a hook a caller may change; nil means keep.
// A schema of JSON null clears it.
type HookUpdate struct {
	Description  *string
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	TimeoutMs    *int
	OnError      *string
}

// Apply changes the hook as u says. It doesn't validate the result.
func (h *Hook) Apply(u HookUpdate) {
	if u.Description != nil {
		h.Description = *u.Description
	}
	if u.InputSchema != nil {
		h.InputSchema = nullToNil(u.InputSchema)
	}
	if u.OutputSchema != nil {
		h.OutputSchema = nullToNil(u.OutputSchema)
	}
	if u.TimeoutMs != nil {
		h.TimeoutMs = *u.TimeoutMs
	}
	if u.OnError != nil {
		h.OnError = *u.OnError
	}
}

// Validate checks the hook's fields, all but its schemas (which need a JSON
// Schema compiler).
func (h *Hook) Validate() error {
	if h.Name == "" {
		return Errorf(EINVALID, "name is required, e.g. \"checkout.discount\"")
	}
	if err := ValidateEventTypeName(h.Name); err != nil {
		return Errorf(EINVALID, "hook name %q is not valid: use dot-separated parts of letters, digits, '_' or '-', up to 128 characters (e.g. checkout.discount)", truncate(h.Name, 140))
	}
	if len(h.Description) > 2000 {
		return Errorf(EINVALID, "description is %d characters long; the limit is 2000", len(h.Description))
	}
	if h.TimeoutMs < 1 || h.TimeoutMs > MaxHookTimeoutMs {
		return Errorf(EINVALID, "timeout_ms %d is out of range: use 1 to %d", h.TimeoutMs, MaxHookTimeoutMs)
	}
	if h.OnError != FailOpen && h.OnError != FailClosed {
		return Errorf(EINVALID, "on_error %q must be %q (answer with the input unchanged) or %q (answer with no output)", h.OnError, FailOpen, FailClosed)
	}
	return nil
}

// UnmarshalJSON reads schemas of JSON null as absent.
func (h *Hook) UnmarshalJSON(b []byte) error {
	type plain Hook
	if err := json.Unmarshal(b, (*plain)(h)); err != nil {
		return err
	}
	h.InputSchema, h.OutputSchema = nullToNil(h.InputSchema), nullToNil(h.OutputSchema)
	return nil
}

// HookEndpoint is a tenant's own URL that serves a hook instead of hosted
// functions: Outlet posts it the signed input and takes its JSON answer as
// the output.
type HookEndpoint struct {
	TenantID  string            `json:"tenant_id"`
	Hook      string            `json:"hook"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Secret    string            `json:"-"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Validate checks the endpoint's syntax; which hosts may be called is the
// network policy's.
func (e *HookEndpoint) Validate() error {
	if _, err := ParseEndpointURL(e.URL); err != nil {
		return err
	}
	return ValidateHeaders(e.Headers)
}

// HookStore keeps the hooks the operator declares and the sync endpoints
// tenants bind to them.
type HookStore interface {
	CreateHook(ctx context.Context, h *Hook) error
	Hook(ctx context.Context, name string) (*Hook, error)
	ListHooks(ctx context.Context) ([]*Hook, error)
	UpdateHook(ctx context.Context, name string, u HookUpdate, now time.Time) (*Hook, error)
	// DeleteHook removes the hook and every tenant's sync endpoint for it.
	// Functions that name it keep the name and are no longer called for it.
	DeleteHook(ctx context.Context, name string) error

	// PutHookEndpoint sets the tenant's sync endpoint for a hook, replacing
	// any but keeping its creation time, which it fills in e; ECONFLICT if
	// one of the tenant's active functions serves the hook.
	PutHookEndpoint(ctx context.Context, e *HookEndpoint) error
	HookEndpoint(ctx context.Context, tenantID, hook string) (*HookEndpoint, error)
	ListHookEndpoints(ctx context.Context, tenantID string) ([]*HookEndpoint, error)
	DeleteHookEndpoint(ctx context.Context, tenantID, hook string) error
}
