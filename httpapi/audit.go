package httpapi

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/outlethq/outlet"
)

// actorOf is who makes the changes of r, as the audit log records them:
// the portal session whose cookie it carries, else the key it sent.
func actorOf(c caller, pc *portalCaller, r *http.Request, now time.Time) outlet.Actor {
	a := outlet.Actor{Type: outlet.ActorAPIKey, ID: c.keyID, Address: addressOf(r), At: now}
	switch {
	case pc != nil:
		a.Type, a.ID = outlet.ActorPortalSession, pc.session.ID
	case c.admin:
		a.Type, a.ID = outlet.ActorAdmin, outlet.AdminActorID
	}
	return a
}

// addressOf is the client's IP address, as the connection gives it: the
// API trusts no header to say otherwise, as its limit on failed
// authentications doesn't (see clientOf).
func addressOf(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ap.Addr().Unmap().WithZone("").String()
}

type auditAPI struct {
	store interface {
		outlet.AuditStore
		Tenant(ctx context.Context, id string) (*outlet.Tenant, error)
	}
}

func (a *auditAPI) routes(s *Server) {
	s.handle("GET /v1/audit-log", adminOnly, a.list)
	s.handle("GET /v1/tenants/{tenant}/audit-log", tenantScope, a.tenantList)
}

// list is the operator's view: every tenant's changes and its own, or one
// tenant's with ?tenant= (a tenant deleted, or created again, included).
func (a *auditAPI) list(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	if f.TenantID = r.URL.Query().Get("tenant"); f.TenantID != "" {
		if err := outlet.ValidateTenantID(f.TenantID); err != nil {
			return err
		}
	}
	return a.answer(w, r, f)
}

// tenantList is a tenant's own changes: those made since it was created,
// none of an earlier tenant of its id.
func (a *auditAPI) tenantList(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	t, err := a.store.Tenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	f.TenantID, f.TenantUID = t.ID, t.UID
	return a.answer(w, r, f)
}

func (a *auditAPI) answer(w http.ResponseWriter, r *http.Request, f outlet.AuditFilter) error {
	es, next, err := a.store.ListAuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(es, next))
	return nil
}

// auditFilter reads the filters both routes take.
func auditFilter(r *http.Request) (outlet.AuditFilter, error) {
	var f outlet.AuditFilter
	var err error
	if f.Page, err = pageParams(r); err != nil {
		return f, err
	}
	q := r.URL.Query()
	f.ActorID, f.Action, f.ResourceType, f.ResourceID = q.Get("actor"), q.Get("action"), q.Get("resource_type"), q.Get("resource_id")
	if f.Action != "" {
		if err := outlet.ValidateAuditAction(f.Action); err != nil {
			return f, err
		}
	}
	if f.ResourceType != "" {
		if err := outlet.ValidateAuditResourceType(f.ResourceType); err != nil {
			return f, err
		}
	}
	for name, v := range map[string]string{"actor": f.ActorID, "resource_id": f.ResourceID} {
		if len(v) > 200 {
			return f, outlet.Errorf(outlet.EINVALID, "%s is %d characters long; no id or name is longer than 200", name, len(v))
		}
	}
	if f.Since, err = timeParam(r, "since"); err != nil {
		return f, err
	}
	if f.Before, err = timeParam(r, "before"); err != nil {
		return f, err
	}
	return f, nil
}
