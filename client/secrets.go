package client

import (
	"context"

	"github.com/outlethq/outlet"
)

// SecretsService manages a tenant's secrets: values its functions read as
// ctx.secrets.NAME (Wasm functions, as config). No call ever answers with a
// value.
type SecretsService struct{ c *Client }

// Put sets the secret name to value, replacing any. A name is a JavaScript
// identifier, such as STRIPE_KEY.
func (s *SecretsService) Put(ctx context.Context, tenant, name, value string, opts ...RequestOption) error {
	body := struct {
		Value string `json:"value"`
	}{value}
	return s.c.do(ctx, "PUT", path("v1", "tenants", tenant, "secrets", name), nil, body, nil, opts)
}

// List returns the names of the tenant's secrets, without their values.
func (s *SecretsService) List(ctx context.Context, tenant string, opts ...RequestOption) ([]*outlet.Secret, error) {
	var out list[*outlet.Secret]
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "secrets"), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Delete removes a secret.
func (s *SecretsService) Delete(ctx context.Context, tenant, name string, opts ...RequestOption) error {
	return s.c.do(ctx, "DELETE", path("v1", "tenants", tenant, "secrets", name), nil, nil, nil, opts)
}

// SettingsService reads and changes what a tenant may set for itself. A
// tenant's key may use it.
type SettingsService struct{ c *Client }

// TenantSettings are a tenant's own settings.
type TenantSettings struct {
	// AllowedHosts limits which hosts the tenant's functions may fetch from:
	// names such as "api.stripe.com" or patterns such as "*.example.com".
	// Empty allows any public host.
	AllowedHosts []string `json:"allowed_hosts"`
}

// Get returns the tenant's settings.
func (s *SettingsService) Get(ctx context.Context, tenant string, opts ...RequestOption) (*TenantSettings, error) {
	var out TenantSettings
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "settings"), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Put replaces the tenant's settings and returns them as they are now.
func (s *SettingsService) Put(ctx context.Context, tenant string, settings TenantSettings, opts ...RequestOption) (*TenantSettings, error) {
	if settings.AllowedHosts == nil {
		settings.AllowedHosts = []string{} // null would be refused as missing
	}
	var out TenantSettings
	if err := s.c.do(ctx, "PUT", path("v1", "tenants", tenant, "settings"), nil, settings, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}
