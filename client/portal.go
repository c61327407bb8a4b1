package client

import (
	"context"
	"iter"

	"github.com/outlethq/outlet"
)

// PortalSessionsService mints, lists and revokes portal sessions: the
// one-time links that open the portal for one tenant's people, or for the
// operator. Every call needs the admin key.
type PortalSessionsService struct{ c *Client }

// PortalSessionCreate is a new session; every field is optional.
type PortalSessionCreate struct {
	// ExpiresIn is how long the session lasts, in seconds: 60 to 86400; 0
	// takes an hour.
	ExpiresIn int `json:"expires_in,omitempty"`
	// ReadOnly sessions read what their tenant may and write nothing.
	ReadOnly bool `json:"read_only,omitempty"`
	// Features switches parts of the portal off ("functions": false) or on:
	// functions, endpoints, hooks, secrets, usage; all are on by default.
	Features map[string]bool `json:"features,omitempty"`
	// Theme brands the portal; its Mode defaults to "auto".
	Theme *outlet.PortalTheme `json:"theme,omitempty"`
}

// CreatedPortalSession is a new session with the link that opens it, which
// holds a one-time token the server keeps only a hash of: this is the one
// time it can be read.
type CreatedPortalSession struct {
	outlet.PortalSession
	// URL opens the session, once: absolute when the server runs with
	// --public-url, else a path on the server's address.
	URL   string `json:"url"`
	Token string `json:"token"`
}

// Create mints a session for the tenant.
func (s *PortalSessionsService) Create(ctx context.Context, tenant string, p PortalSessionCreate, opts ...RequestOption) (*CreatedPortalSession, error) {
	var out CreatedPortalSession
	if err := s.c.do(ctx, "POST", path("v1", "tenants", tenant, "portal-sessions"), nil, p, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateOperator mints a session for the operator: the portal's operator
// console, with the admin key's rights.
func (s *PortalSessionsService) CreateOperator(ctx context.Context, p PortalSessionCreate, opts ...RequestOption) (*CreatedPortalSession, error) {
	var out CreatedPortalSession
	if err := s.c.do(ctx, "POST", path("v1", "portal-sessions"), nil, p, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns one page of the tenant's sessions ("" for the operator's),
// newest first, without their tokens.
func (s *PortalSessionsService) List(ctx context.Context, tenant string, o ListOptions, opts ...RequestOption) (*Page[*outlet.PortalSession], error) {
	var out Page[*outlet.PortalSession]
	if err := s.c.do(ctx, "GET", sessionsPath(tenant), o.query(), nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// All yields every session of the tenant ("" for the operator's), page by
// page.
func (s *PortalSessionsService) All(ctx context.Context, tenant string, opts ...RequestOption) iter.Seq2[*outlet.PortalSession, error] {
	return paginate("", func(cursor string) (*Page[*outlet.PortalSession], error) {
		return s.List(ctx, tenant, ListOptions{Cursor: cursor}, opts...)
	})
}

// Revoke ends a session of the tenant ("" for the operator's) by its id
// (ps_…): at once on the server that takes the call, within its
// --cache-ttl on others.
func (s *PortalSessionsService) Revoke(ctx context.Context, tenant, id string, opts ...RequestOption) error {
	return s.c.do(ctx, "DELETE", sessionsPath(tenant)+path(id), nil, nil, nil, opts)
}

func sessionsPath(tenant string) string {
	if tenant == "" {
		return path("v1", "portal-sessions")
	}
	return path("v1", "tenants", tenant, "portal-sessions")
}
