package httpapi

import (
	"net/http"
	"time"

	"github.com/outlethq/outlet"
)

type tenantsAPI struct {
	store outlet.TenantStore
	auth  *authenticator
	fns   Functions
	now   func() time.Time
}

func (a *tenantsAPI) routes(s *Server) {
	s.handle("POST /v1/tenants", adminOnly, a.create)
	s.handle("GET /v1/tenants", adminOnly, a.list)
	s.handle("GET /v1/tenants/{tenant}", tenantScope, a.get)
	s.handle("PATCH /v1/tenants/{tenant}", adminOnly, a.update)
	s.handle("PUT /v1/tenants/{tenant}", adminOnly, a.update)
	s.handle("DELETE /v1/tenants/{tenant}", adminOnly, a.delete)
	s.handle("GET /v1/tenants/{tenant}/settings", tenantScope, a.settings)
	s.handle("PUT /v1/tenants/{tenant}/settings", tenantScope, a.putSettings)
	s.handle("POST /v1/tenants/{tenant}/api-keys", adminOnly, a.createKey)
	s.handle("GET /v1/tenants/{tenant}/api-keys", adminOnly, a.listKeys)
	s.handle("DELETE /v1/tenants/{tenant}/api-keys/{key}", adminOnly, a.deleteKey)
}

type tenantRequest struct {
	ID           string            `json:"id"`
	Name         *string           `json:"name"`
	Metadata     map[string]string `json:"metadata"`
	AllowedHosts *[]string         `json:"allowed_hosts"`
	// PublishRateLimit is the operator's to set, for the tenant's plan.
	PublishRateLimit *int `json:"publish_rate_limit"`
}

func (a *tenantsAPI) create(w http.ResponseWriter, r *http.Request) error {
	var req tenantRequest
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	now := a.now()
	t := &outlet.Tenant{ID: req.ID, Metadata: req.Metadata, AllowedHosts: []string{}, CreatedAt: now, UpdatedAt: now}
	if req.Name != nil {
		t.Name = *req.Name
	}
	if t.Metadata == nil {
		t.Metadata = map[string]string{}
	}
	if req.PublishRateLimit != nil {
		t.PublishRateLimit = *req.PublishRateLimit
	}
	if req.AllowedHosts != nil {
		t.AllowedHosts = orEmpty(*req.AllowedHosts)
	}
	if req.ID == "" {
		return outlet.Errorf(outlet.EINVALID, "id is required: the platform's own identifier for this customer, e.g. \"acme\"")
	}
	if err := t.Validate(); err != nil {
		return err
	}
	if err := a.store.CreateTenant(r.Context(), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (a *tenantsAPI) list(w http.ResponseWriter, r *http.Request) error {
	page, err := pageParams(r)
	if err != nil {
		return err
	}
	ts, next, err := a.store.ListTenants(r.Context(), page)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(ts, next))
	return nil
}

func (a *tenantsAPI) get(w http.ResponseWriter, r *http.Request) error {
	t, err := a.store.Tenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (a *tenantsAPI) update(w http.ResponseWriter, r *http.Request) error {
	var req tenantRequest
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	if req.ID != "" && req.ID != r.PathValue("tenant") {
		return outlet.Errorf(outlet.EINVALID, "a tenant's id can't change; leave id out of the body")
	}
	t, err := a.store.UpdateTenant(r.Context(), r.PathValue("tenant"),
		outlet.TenantUpdate{Name: req.Name, Metadata: req.Metadata, AllowedHosts: req.AllowedHosts,
			PublishRateLimit: req.PublishRateLimit}, a.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// tenantSettings are what a tenant may set for itself.
type tenantSettings struct {
	AllowedHosts []string `json:"allowed_hosts"`
}

func (a *tenantsAPI) settings(w http.ResponseWriter, r *http.Request) error {
	t, err := a.store.Tenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tenantSettings{AllowedHosts: orEmpty(t.AllowedHosts)})
	return nil
}

func (a *tenantsAPI) putSettings(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		AllowedHosts *[]string `json:"allowed_hosts"`
	}
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	if req.AllowedHosts == nil {
		return outlet.Errorf(outlet.EINVALID, "allowed_hosts is required: the hosts your functions may fetch from (an empty list allows any public host)")
	}
	t, err := a.store.UpdateTenant(r.Context(), r.PathValue("tenant"), outlet.TenantUpdate{AllowedHosts: req.AllowedHosts}, a.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tenantSettings{AllowedHosts: orEmpty(t.AllowedHosts)})
	return nil
}

func (a *tenantsAPI) delete(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.DeleteTenant(r.Context(), r.PathValue("tenant")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type keyView struct {
	*outlet.APIKey
	Key string `json:"key,omitempty"`
}

func (a *tenantsAPI) createKey(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeRequest(r, &req, true); err != nil {
		return err
	}
	k, secret, err := outlet.NewAPIKey(r.PathValue("tenant"), req.Name, a.now())
	if err != nil {
		return err
	}
	if err := a.store.CreateAPIKey(r.Context(), k); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, keyView{APIKey: k, Key: secret})
	return nil
}

func (a *tenantsAPI) listKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := a.store.ListAPIKeys(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(ks, ""))
	return nil
}

func (a *tenantsAPI) deleteKey(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.DeleteAPIKey(r.Context(), r.PathValue("tenant"), r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
