package client

import (
	"context"
	"iter"
	"net/url"
	"time"

	"github.com/outlethq/outlet"
)

// TenantsService manages tenants: the platform's customers. Every call but
// Get needs the admin key.
type TenantsService struct{ c *Client }

// TenantCreate is a new tenant.
type TenantCreate struct {
	// ID is the platform's own identifier for the customer, e.g. "acme":
	// 1 to 64 letters, digits, '_', '.' or '-'.
	ID       string            `json:"id"`
	Name     string            `json:"name,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// AllowedHosts limits which hosts the tenant's functions may fetch from:
	// names such as "api.stripe.com" or patterns such as "*.example.com".
	// Empty allows any public host.
	AllowedHosts []string `json:"allowed_hosts,omitempty"`
	// PublishRateLimit caps the events per second the tenant may publish to
	// each node; 0 takes the operator's --publish-rate-limit.
	PublishRateLimit int `json:"publish_rate_limit,omitempty"`
}

// TenantUpdate changes a tenant; nil fields are kept.
type TenantUpdate struct {
	Name *string `json:"name,omitempty"`
	// Metadata replaces all of the tenant's metadata; an empty map clears it.
	Metadata *map[string]string `json:"metadata,omitempty"`
	// AllowedHosts replaces the hosts the tenant's functions may fetch
	// from; an empty list allows any public host.
	AllowedHosts *[]string `json:"allowed_hosts,omitempty"`
	// PublishRateLimit changes the events per second the tenant may publish
	// to each node; 0 takes the operator's --publish-rate-limit.
	PublishRateLimit *int `json:"publish_rate_limit,omitempty"`
}

// Usage returns the tenant's usage for the days from since to before
// (exclusive), for billing. Zero times take the server's defaults: the first
// of this month, and tomorrow. The tenant's own key may read it.
func (s *TenantsService) Usage(ctx context.Context, tenant string, since, before time.Time, opts ...RequestOption) (*outlet.UsageReport, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.DateOnly))
	}
	if !before.IsZero() {
		q.Set("before", before.UTC().Format(time.DateOnly))
	}
	var out outlet.UsageReport
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "usage"), q, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Create makes a tenant. An id already in use is refused with status 409.
func (s *TenantsService) Create(ctx context.Context, t TenantCreate, opts ...RequestOption) (*outlet.Tenant, error) {
	var out outlet.Tenant
	if err := s.c.do(ctx, "POST", "/v1/tenants", nil, t, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns one page of tenants.
func (s *TenantsService) List(ctx context.Context, lo ListOptions, opts ...RequestOption) (*Page[*outlet.Tenant], error) {
	var out Page[*outlet.Tenant]
	if err := s.c.do(ctx, "GET", "/v1/tenants", lo.query(), nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// All yields every tenant from lo.Cursor on, fetching pages of lo.Limit as
// it goes.
func (s *TenantsService) All(ctx context.Context, lo ListOptions, opts ...RequestOption) iter.Seq2[*outlet.Tenant, error] {
	return paginate(lo.Cursor, func(cursor string) (*Page[*outlet.Tenant], error) {
		lo.Cursor = cursor
		return s.List(ctx, lo, opts...)
	})
}

// Get returns a tenant. A tenant's own key may read it.
func (s *TenantsService) Get(ctx context.Context, id string, opts ...RequestOption) (*outlet.Tenant, error) {
	var out outlet.Tenant
	if err := s.c.do(ctx, "GET", path("v1", "tenants", id), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update changes the fields u sets and returns the tenant as it is now.
func (s *TenantsService) Update(ctx context.Context, id string, u TenantUpdate, opts ...RequestOption) (*outlet.Tenant, error) {
	var out outlet.Tenant
	if err := s.c.do(ctx, "PATCH", path("v1", "tenants", id), nil, u, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes a tenant and everything it owns: keys, endpoints, events
// and deliveries.
func (s *TenantsService) Delete(ctx context.Context, id string, opts ...RequestOption) error {
	return s.c.do(ctx, "DELETE", path("v1", "tenants", id), nil, nil, nil, opts)
}

// APIKeysService manages the keys a tenant's systems call the API with. A
// tenant key may only call routes under its own tenant. Every call needs the
// admin key.
type APIKeysService struct{ c *Client }

// APIKeyCreate is a new key.
type APIKeyCreate struct {
	// Name says who or what uses the key, for people.
	Name string `json:"name,omitempty"`
}

// CreatedAPIKey is a new key with its secret, which the server keeps only a
// hash of: this is the one time it can be read.
type CreatedAPIKey struct {
	outlet.APIKey
	// Key is the secret to send as "Authorization: Bearer <key>".
	Key string `json:"key"`
}

// Create makes a key for the tenant.
func (s *APIKeysService) Create(ctx context.Context, tenant string, k APIKeyCreate, opts ...RequestOption) (*CreatedAPIKey, error) {
	var out CreatedAPIKey
	if err := s.c.do(ctx, "POST", path("v1", "tenants", tenant, "api-keys"), nil, k, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns every key of the tenant, without their secrets.
func (s *APIKeysService) List(ctx context.Context, tenant string, opts ...RequestOption) ([]*outlet.APIKey, error) {
	var out list[*outlet.APIKey]
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "api-keys"), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Delete revokes a key by its id (key_…).
func (s *APIKeysService) Delete(ctx context.Context, tenant, id string, opts ...RequestOption) error {
	return s.c.do(ctx, "DELETE", path("v1", "tenants", tenant, "api-keys", id), nil, nil, nil, opts)
}
