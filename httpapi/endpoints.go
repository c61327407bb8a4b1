package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/outlethq/outlet"
)

type urlChecker interface {
	CheckURL(raw string) error
}

type recoverer interface {
	Recover(ctx context.Context, tenantID, endpointID string, since time.Time) (int, error)
}

type endpointsAPI struct {
	store   outlet.EndpointStore
	urls    urlChecker
	recover recoverer
	now     func() time.Time
}

func (a *endpointsAPI) routes(s *Server) {
	s.handle("POST /v1/tenants/{tenant}/endpoints", tenantScope, a.create)
	s.handle("GET /v1/tenants/{tenant}/endpoints", tenantScope, a.list)
	s.handle("GET /v1/tenants/{tenant}/endpoints/{id}", tenantScope, a.get)
	s.handle("PATCH /v1/tenants/{tenant}/endpoints/{id}", tenantScope, a.update)
	s.handle("PUT /v1/tenants/{tenant}/endpoints/{id}", tenantScope, a.update)
	s.handle("DELETE /v1/tenants/{tenant}/endpoints/{id}", tenantScope, a.delete)
	s.handle("GET /v1/tenants/{tenant}/endpoints/{id}/secret", tenantScope, a.secret)
	s.handle("POST /v1/tenants/{tenant}/endpoints/{id}/rotate-secret", tenantScope, a.rotate)
	s.handle("POST /v1/tenants/{tenant}/endpoints/{id}/recover", tenantScope, a.recoverFailed)
}

type endpointRequest struct {
	URL         *string            `json:"url"`
	Description *string            `json:"description"`
	EventTypes  *[]string          `json:"event_types"`
	Headers     *map[string]string `json:"headers"`
	Metadata    *map[string]string `json:"metadata"`
	Disabled    *bool              `json:"disabled"`
	Secret      *string            `json:"secret"`
	MaxInFlight *int               `json:"max_in_flight"`
	RateLimit   *int               `json:"rate_limit"`
	Ordered     *bool              `json:"ordered"`
}

func (req *endpointRequest) update() outlet.EndpointUpdate {
	return outlet.EndpointUpdate{URL: req.URL, Description: req.Description, EventTypes: req.EventTypes,
		Headers: req.Headers, Metadata: req.Metadata, Disabled: req.Disabled,
		MaxInFlight: req.MaxInFlight, RateLimit: req.RateLimit, Ordered: req.Ordered}
}

// endpointView shows an endpoint; the secret only where the caller asked for it.
type endpointView struct {
	*outlet.Endpoint
	Secret string `json:"secret,omitempty"`
}

func (a *endpointsAPI) create(w http.ResponseWriter, r *http.Request) error {
	var req endpointRequest
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	now := a.now()
	ep := &outlet.Endpoint{
		ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: r.PathValue("tenant"),
		EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{},
		Secret: outlet.NewEndpointSecret(), CreatedAt: now, UpdatedAt: now,
	}
	ep.Apply(req.update(), now)
	if err := checkSecret(req.Secret); err != nil {
		return err
	}
	if req.Secret != nil {
		ep.Secret = *req.Secret
	}
	if err := ep.Validate(); err != nil {
		return err
	}
	if err := a.urls.CheckURL(ep.URL); err != nil {
		return err
	}
	if err := a.store.CreateEndpoint(r.Context(), ep); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, endpointView{Endpoint: ep, Secret: ep.Secret})
	return nil
}

func checkSecret(s *string) error {
	if s == nil {
		return nil
	}
	_, err := outlet.DecodeEndpointSecret(*s)
	return err
}

func (a *endpointsAPI) list(w http.ResponseWriter, r *http.Request) error {
	page, err := pageParams(r)
	if err != nil {
		return err
	}
	eps, next, err := a.store.ListEndpoints(r.Context(), r.PathValue("tenant"), page)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(eps, next))
	return nil
}

func (a *endpointsAPI) get(w http.ResponseWriter, r *http.Request) error {
	ep, err := a.store.Endpoint(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ep)
	return nil
}

func (a *endpointsAPI) update(w http.ResponseWriter, r *http.Request) error {
	var req endpointRequest
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	if req.Secret != nil {
		return outlet.Errorf(outlet.EINVALID, "the secret can't be set by an update; use POST .../rotate-secret, which keeps the old one valid for a while")
	}
	if req.URL != nil {
		if err := a.urls.CheckURL(*req.URL); err != nil {
			return err
		}
	}
	ep, err := a.store.UpdateEndpoint(r.Context(), r.PathValue("tenant"), r.PathValue("id"), req.update(), a.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ep)
	return nil
}

func (a *endpointsAPI) delete(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.DeleteEndpoint(r.Context(), r.PathValue("tenant"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// secretView shows the signing secrets in use.
type secretView struct {
	Secret                  string     `json:"secret"`
	PreviousSecret          string     `json:"previous_secret,omitempty"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
}

func viewSecrets(ep *outlet.Endpoint, now time.Time) secretView {
	v := secretView{Secret: ep.Secret}
	if s := ep.ActiveSecrets(now); len(s) > 1 {
		v.PreviousSecret, v.PreviousSecretExpiresAt = s[1], ep.PreviousSecretExpiresAt
	}
	return v
}

func (a *endpointsAPI) secret(w http.ResponseWriter, r *http.Request) error {
	ep, err := a.store.Endpoint(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSecrets(ep, a.now()))
	return nil
}

// DefaultSecretOverlap is how long the old secret keeps signing after a
// rotation unless the caller says otherwise.
const DefaultSecretOverlap = 24 * time.Hour

const maxSecretOverlap = 30 * 24 * time.Hour

func (a *endpointsAPI) rotate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Secret         *string `json:"secret"`
		OverlapSeconds *int64  `json:"overlap_seconds"`
	}
	if err := decodeRequest(r, &req, true); err != nil {
		return err
	}
	secret := outlet.NewEndpointSecret()
	if err := checkSecret(req.Secret); err != nil {
		return err
	}
	if req.Secret != nil {
		secret = *req.Secret
	}
	overlap := DefaultSecretOverlap
	if req.OverlapSeconds != nil {
		// Checked before converting, which would overflow for huge values.
		if *req.OverlapSeconds < 0 || *req.OverlapSeconds > int64(maxSecretOverlap/time.Second) {
			return outlet.Errorf(outlet.EINVALID, "overlap_seconds must be 0 to %d (30 days)", int64(maxSecretOverlap/time.Second))
		}
		overlap = time.Duration(*req.OverlapSeconds) * time.Second
	}
	now := a.now()
	ep, err := a.store.RotateEndpointSecret(r.Context(), r.PathValue("tenant"), r.PathValue("id"), secret, now.Add(overlap), now)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSecrets(ep, now))
	return nil
}

func (a *endpointsAPI) recoverFailed(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Since *timeField `json:"since"`
	}
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	if req.Since == nil {
		return outlet.Errorf(outlet.EINVALID, "since is required: the RFC 3339 time from which to re-send failed deliveries, e.g. \"2026-01-02T15:04:05Z\"")
	}
	if req.Since.After(a.now()) {
		return outlet.Errorf(outlet.EINVALID, "since is in the future; give a time in the past")
	}
	n, err := a.recover.Recover(r.Context(), r.PathValue("tenant"), r.PathValue("id"), req.Since.Time)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"recovered": n})
	return nil
}
