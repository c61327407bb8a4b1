package client

import (
	"context"
	"iter"
	"net/url"
	"time"

	"github.com/outlethq/outlet"
)

// AuditLogService reads the audit log: every change made through the API,
// with who made it (a key's or portal session's id, or "admin"), from which
// address and when.
type AuditLogService struct{ c *Client }

// AuditFilter selects entries of the audit log; zero fields select all.
type AuditFilter struct {
	// Tenant selects one tenant's entries on the operator's log (List and
	// All with tenant ""); a tenant's own log is always its own.
	Tenant       string
	Actor        string    // a key's id (key_…), a portal session's (ps_…), or "admin"
	Action       string    // e.g. "endpoint.created"; see outlet.AuditActions
	ResourceType string    // e.g. "endpoint"
	ResourceID   string    // the resource's id, or its name
	Since        time.Time // made at or after
	Before       time.Time // made before
	Limit        int
	Cursor       string
}

func (f AuditFilter) query() url.Values {
	q := ListOptions{Limit: f.Limit, Cursor: f.Cursor}.query()
	setNonEmpty(q, "tenant", f.Tenant)
	setNonEmpty(q, "actor", f.Actor)
	setNonEmpty(q, "action", f.Action)
	setNonEmpty(q, "resource_type", f.ResourceType)
	setNonEmpty(q, "resource_id", f.ResourceID)
	setTime(q, "since", f.Since)
	setTime(q, "before", f.Before)
	return q
}

// auditPath is the tenant's log, or the operator's for "".
func auditPath(tenant string) string {
	if tenant == "" {
		return path("v1", "audit-log")
	}
	return path("v1", "tenants", tenant, "audit-log")
}

// List returns one page, newest first, of the entries f selects: of the
// tenant's log, or of the operator's (every tenant's and its own; admin
// key) when tenant is "".
func (s *AuditLogService) List(ctx context.Context, tenant string, f AuditFilter, opts ...RequestOption) (*Page[*outlet.AuditEntry], error) {
	var out Page[*outlet.AuditEntry]
	if err := s.c.do(ctx, "GET", auditPath(tenant), f.query(), nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// All yields every entry f selects from f.Cursor on, newest first,
// fetching pages of f.Limit as it goes.
func (s *AuditLogService) All(ctx context.Context, tenant string, f AuditFilter, opts ...RequestOption) iter.Seq2[*outlet.AuditEntry, error] {
	return paginate(f.Cursor, func(cursor string) (*Page[*outlet.AuditEntry], error) {
		f.Cursor = cursor
		return s.List(ctx, tenant, f, opts...)
	})
}
