package client

import (
	"context"
	"iter"
	"time"

	"github.com/outlethq/outlet"
)

// EndpointsService manages a tenant's webhook endpoints: the URLs its events
// are sent to.
type EndpointsService struct{ c *Client }

// EndpointCreate is a new endpoint.
type EndpointCreate struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
	// EventTypes are the types sent to the endpoint: exact names,
	// "prefix.*" wildcards, or "*". Empty means every type.
	EventTypes []string `json:"event_types,omitempty"`
	// Headers are sent with every request to the endpoint.
	Headers  map[string]string `json:"headers,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Disabled bool              `json:"disabled,omitempty"`
	// Secret is the signing secret (whsec_ and base64); empty makes one.
	Secret string `json:"secret,omitempty"`
	// MaxInFlight caps attempts in flight to the endpoint at once, per node;
	// 0 takes the server's default.
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// RateLimit caps attempts per second, per node; 0 sets no cap.
	RateLimit int `json:"rate_limit,omitempty"`
	// Ordered sends the endpoint's events one at a time in publish order.
	Ordered bool `json:"ordered,omitempty"`
}

// EndpointUpdate changes an endpoint; nil fields are kept, and a pointer to
// an empty slice or map clears. The secret changes by RotateSecret only.
type EndpointUpdate struct {
	URL         *string `json:"url,omitempty"`
	Description *string `json:"description,omitempty"`
	// EventTypes replaces the list; an empty list means every type.
	EventTypes *[]string          `json:"event_types,omitempty"`
	Headers    *map[string]string `json:"headers,omitempty"`
	Metadata   *map[string]string `json:"metadata,omitempty"`
	// Disabled stops (true) or resumes (false) deliveries to the endpoint.
	// Enabling it also clears its failing streak.
	Disabled    *bool `json:"disabled,omitempty"`
	MaxInFlight *int  `json:"max_in_flight,omitempty"`
	RateLimit   *int  `json:"rate_limit,omitempty"`
	Ordered     *bool `json:"ordered,omitempty"`
}

// EndpointSecret is the signing secret of an endpoint and, for a while after
// a rotation, the previous one, which still signs requests beside it.
type EndpointSecret struct {
	Secret                  string     `json:"secret"`
	PreviousSecret          string     `json:"previous_secret,omitempty"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
}

// SecretRotation asks for a new signing secret.
type SecretRotation struct {
	// Secret is the new secret (whsec_ and base64); empty makes one.
	Secret string `json:"secret,omitempty"`
	// OverlapSeconds is how long the old secret keeps signing beside the
	// new one, so receivers can switch without refusing requests: 0 stops it
	// at once; nil takes the server's default of a day.
	OverlapSeconds *int64 `json:"overlap_seconds,omitempty"`
}

// Create makes an endpoint. The answer is the only one besides Secret that
// holds the signing secret, in its Secret field.
func (s *EndpointsService) Create(ctx context.Context, tenant string, ep EndpointCreate, opts ...RequestOption) (*outlet.Endpoint, error) {
	// outlet.Endpoint keeps the secret out of its JSON; the create answer
	// carries it beside the other fields.
	var out struct {
		outlet.Endpoint
		Secret string `json:"secret"`
	}
	if err := s.c.do(ctx, "POST", path("v1", "tenants", tenant, "endpoints"), nil, ep, &out, opts); err != nil {
		return nil, err
	}
	out.Endpoint.Secret = out.Secret
	return &out.Endpoint, nil
}

// List returns one page of the tenant's endpoints. Their Secret is empty.
func (s *EndpointsService) List(ctx context.Context, tenant string, lo ListOptions, opts ...RequestOption) (*Page[*outlet.Endpoint], error) {
	var out Page[*outlet.Endpoint]
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "endpoints"), lo.query(), nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// All yields every endpoint of the tenant from lo.Cursor on, fetching pages
// of lo.Limit as it goes.
func (s *EndpointsService) All(ctx context.Context, tenant string, lo ListOptions, opts ...RequestOption) iter.Seq2[*outlet.Endpoint, error] {
	return paginate(lo.Cursor, func(cursor string) (*Page[*outlet.Endpoint], error) {
		lo.Cursor = cursor
		return s.List(ctx, tenant, lo, opts...)
	})
}

// Get returns an endpoint. Its Secret is empty; see Secret.
func (s *EndpointsService) Get(ctx context.Context, tenant, id string, opts ...RequestOption) (*outlet.Endpoint, error) {
	var out outlet.Endpoint
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "endpoints", id), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update changes the fields u sets and returns the endpoint as it is now.
func (s *EndpointsService) Update(ctx context.Context, tenant, id string, u EndpointUpdate, opts ...RequestOption) (*outlet.Endpoint, error) {
	var out outlet.Endpoint
	if err := s.c.do(ctx, "PATCH", path("v1", "tenants", tenant, "endpoints", id), nil, u, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes an endpoint. Its deliveries stay listed, and are not
// attempted again.
func (s *EndpointsService) Delete(ctx context.Context, tenant, id string, opts ...RequestOption) error {
	return s.c.do(ctx, "DELETE", path("v1", "tenants", tenant, "endpoints", id), nil, nil, nil, opts)
}

// Secret returns the secrets that sign the endpoint's requests now.
func (s *EndpointsService) Secret(ctx context.Context, tenant, id string, opts ...RequestOption) (*EndpointSecret, error) {
	var out EndpointSecret
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "endpoints", id, "secret"), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// RotateSecret gives the endpoint a new signing secret and returns the
// secrets that sign its requests from now on.
func (s *EndpointsService) RotateSecret(ctx context.Context, tenant, id string, r SecretRotation, opts ...RequestOption) (*EndpointSecret, error) {
	var out EndpointSecret
	if err := s.c.do(ctx, "POST", path("v1", "tenants", tenant, "endpoints", id, "rotate-secret"), nil, r, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Recover sends every failed delivery of the endpoint created at or after
// since once more, now, and returns how many there were.
func (s *EndpointsService) Recover(ctx context.Context, tenant, id string, since time.Time, opts ...RequestOption) (int, error) {
	var out struct {
		Recovered int `json:"recovered"`
	}
	body := struct {
		Since time.Time `json:"since"`
	}{since}
	if err := s.c.do(ctx, "POST", path("v1", "tenants", tenant, "endpoints", id, "recover"), nil, body, &out, opts); err != nil {
		return 0, err
	}
	return out.Recovered, nil
}
