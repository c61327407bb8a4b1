package client

import (
	"context"
	"encoding/json"

	"github.com/outlethq/outlet"
)

// HooksService manages the platform's hooks: the extension points it calls
// during its own requests, which tenants serve with their functions or a sync
// endpoint. Every call needs the admin key; tenants see and serve hooks
// through TenantHooksService.
type HooksService struct{ c *Client }

// HookCreate is a new hook.
type HookCreate struct {
	// Name is dotted, such as "checkout.discount".
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// InputSchema and OutputSchema are JSON Schemas the hook's input and
	// the tenant's answer must match.
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
	// TimeoutMs is the hook's deadline; 0 takes the server's default
	// (outlet.DefaultHookTimeoutMs).
	TimeoutMs int `json:"timeout_ms,omitempty"`
	// OnError is outlet.FailOpen (answer with the input unchanged when the
	// tenant's code fails; the default) or outlet.FailClosed (answer with no
	// output).
	OnError string `json:"on_error,omitempty"`
}

// HookUpdate changes a hook; nil fields are kept. A schema of JSON null
// (json.RawMessage("null")) removes it.
type HookUpdate struct {
	Description  *string         `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
	TimeoutMs    *int            `json:"timeout_ms,omitempty"`
	OnError      *string         `json:"on_error,omitempty"`
}

// Create declares a hook.
func (s *HooksService) Create(ctx context.Context, h HookCreate, opts ...RequestOption) (*outlet.Hook, error) {
	var out outlet.Hook
	if err := s.c.do(ctx, "POST", "/v1/hooks", nil, h, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns every hook.
func (s *HooksService) List(ctx context.Context, opts ...RequestOption) ([]*outlet.Hook, error) {
	var out list[*outlet.Hook]
	if err := s.c.do(ctx, "GET", "/v1/hooks", nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Get returns one hook.
func (s *HooksService) Get(ctx context.Context, name string, opts ...RequestOption) (*outlet.Hook, error) {
	var out outlet.Hook
	if err := s.c.do(ctx, "GET", path("v1", "hooks", name), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update changes the fields u sets and returns the hook as it is now.
func (s *HooksService) Update(ctx context.Context, name string, u HookUpdate, opts ...RequestOption) (*outlet.Hook, error) {
	var out outlet.Hook
	if err := s.c.do(ctx, "PATCH", path("v1", "hooks", name), nil, u, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes a hook and every tenant's sync endpoint for it. Functions
// that name it keep the name, and are no longer called for it.
func (s *HooksService) Delete(ctx context.Context, name string, opts ...RequestOption) error {
	return s.c.do(ctx, "DELETE", path("v1", "hooks", name), nil, nil, nil, opts)
}

// TenantHooksService is the hooks as a tenant sees them: what of the
// tenant's serves each, its sync endpoints, and calling a hook as the
// platform does. A tenant's key may use it.
type TenantHooksService struct{ c *Client }

// TenantHook is a hook and what of one tenant's serves it.
type TenantHook struct {
	outlet.Hook
	// ServedBy is "functions", "endpoint", or "passthrough" when nothing of
	// the tenant's serves the hook, so its input passes through unchanged.
	ServedBy outlet.ServedBy `json:"served_by"`
	// Functions are the tenant's functions whose active version serves the
	// hook, in the order they run.
	Functions []string `json:"functions"`
	// Endpoint is the tenant's sync endpoint for the hook, if it has one.
	// Its Secret is empty; see EndpointSecret.
	Endpoint *outlet.HookEndpoint `json:"endpoint"`
}

// UnmarshalJSON reads the hook and the fields beside it; without it,
// outlet.Hook's own UnmarshalJSON would decode the hook alone.
func (h *TenantHook) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &h.Hook); err != nil {
		return err
	}
	var rest struct {
		ServedBy  outlet.ServedBy      `json:"served_by"`
		Functions []string             `json:"functions"`
		Endpoint  *outlet.HookEndpoint `json:"endpoint"`
	}
	if err := json.Unmarshal(b, &rest); err != nil {
		return err
	}
	h.ServedBy, h.Functions, h.Endpoint = rest.ServedBy, rest.Functions, rest.Endpoint
	return nil
}

// HookEndpointPut sets a tenant's sync endpoint for a hook.
type HookEndpointPut struct {
	// URL is posted the hook's input, signed like a webhook; its JSON answer
	// is the hook's output.
	URL string `json:"url"`
	// Headers are sent with every call; they replace any set before.
	Headers map[string]string `json:"headers,omitempty"`
	// Secret is the signing secret (whsec_ and base64). Empty keeps the
	// endpoint's secret, or makes one for a new endpoint.
	Secret string `json:"secret,omitempty"`
}

// HookResult is what a hook answered.
type HookResult = outlet.HookResult

// FunctionError is why a tenant's code failed one invocation. Code is
// "runtime_error", "timeout" or "memory_limit".
type FunctionError = outlet.FunctionError

// List returns every hook with what of the tenant's serves it.
func (s *TenantHooksService) List(ctx context.Context, tenant string, opts ...RequestOption) ([]*TenantHook, error) {
	var out list[*TenantHook]
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "hooks"), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Get returns one hook with what of the tenant's serves it.
func (s *TenantHooksService) Get(ctx context.Context, tenant, hook string, opts ...RequestOption) (*TenantHook, error) {
	var out TenantHook
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "hooks", hook), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// PutEndpoint makes the tenant's own URL serve the hook, replacing any sync
// endpoint it had for it. A hook one of the tenant's functions serves is
// refused with status 409. The answer holds the signing secret.
func (s *TenantHooksService) PutEndpoint(ctx context.Context, tenant, hook string, e HookEndpointPut, opts ...RequestOption) (*outlet.HookEndpoint, error) {
	// outlet.HookEndpoint keeps the secret out of its JSON; this answer
	// carries it beside the other fields.
	var out struct {
		outlet.HookEndpoint
		Secret string `json:"secret"`
	}
	if err := s.c.do(ctx, "PUT", path("v1", "tenants", tenant, "hooks", hook, "endpoint"), nil, e, &out, opts); err != nil {
		return nil, err
	}
	out.HookEndpoint.Secret = out.Secret
	return &out.HookEndpoint, nil
}

// Endpoint returns the tenant's sync endpoint for the hook. Its Secret is
// empty; see EndpointSecret.
func (s *TenantHooksService) Endpoint(ctx context.Context, tenant, hook string, opts ...RequestOption) (*outlet.HookEndpoint, error) {
	var out outlet.HookEndpoint
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "hooks", hook, "endpoint"), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// EndpointSecret returns the secret that signs the calls to the tenant's
// sync endpoint for the hook.
func (s *TenantHooksService) EndpointSecret(ctx context.Context, tenant, hook string, opts ...RequestOption) (string, error) {
	var out struct {
		Secret string `json:"secret"`
	}
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "hooks", hook, "endpoint", "secret"), nil, nil, &out, opts); err != nil {
		return "", err
	}
	return out.Secret, nil
}

// DeleteEndpoint removes the tenant's sync endpoint for the hook.
func (s *TenantHooksService) DeleteEndpoint(ctx context.Context, tenant, hook string, opts ...RequestOption) error {
	return s.c.do(ctx, "DELETE", path("v1", "tenants", tenant, "hooks", hook, "endpoint"), nil, nil, nil, opts)
}

// Invoke calls the hook for the tenant, as the platform does during its own
// request, with input: any value that encodes to JSON, such as a struct, a
// map or a json.RawMessage. Failures of the tenant's code are in the result,
// not the error: the hook answered, as its on_error says.
func (s *TenantHooksService) Invoke(ctx context.Context, tenant, hook string, input any, opts ...RequestOption) (*HookResult, error) {
	body := struct {
		Input any `json:"input"`
	}{input}
	var out HookResult
	if err := s.c.do(ctx, "POST", path("v1", "tenants", tenant, "hooks", hook, "invoke"), nil, body, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}
