package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/outlethq/outlet"
)

type portalSessionsAPI struct {
	store outlet.PortalSessionStore
	// publicURL, when set, makes the links absolute.
	publicURL string
	off       bool
	now       func() time.Time
}

func (a *portalSessionsAPI) routes(s *Server) {
	s.handle("POST /v1/tenants/{tenant}/portal-sessions", adminOnly, a.guard(a.create))
	s.handle("GET /v1/tenants/{tenant}/portal-sessions", adminOnly, a.guard(a.list))
	s.handle("DELETE /v1/tenants/{tenant}/portal-sessions/{id}", adminOnly, a.guard(a.revoke))
	s.handle("POST /v1/portal-sessions", adminOnly, a.guard(a.create))
	s.handle("GET /v1/portal-sessions", adminOnly, a.guard(a.list))
	s.handle("DELETE /v1/portal-sessions/{id}", adminOnly, a.guard(a.revoke))
}

// guard refuses the routes when the portal is off, and to a portal
// session: sessions are minted and revoked with the admin key alone, so
// that no session outlives its revocation by minting another.
func (a *portalSessionsAPI) guard(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if a.off {
			return outlet.Errorf(outlet.ENOTFOUND, "the portal is switched off on this server (outlet serve --portal=false): it has no portal sessions")
		}
		if portalCallerOf(r) != nil {
			return outlet.Errorf(outlet.EFORBIDDEN, "portal sessions are made and revoked with the admin key, not from a portal session")
		}
		return h(w, r)
	}
}

type portalSessionRequest struct {
	// ExpiresIn is in seconds.
	ExpiresIn *int64             `json:"expires_in"`
	ReadOnly  bool               `json:"read_only"`
	Features  map[string]bool    `json:"features"`
	Theme     outlet.PortalTheme `json:"theme"`
}

// portalSessionView is a session as minted: with the link to open and the
// one-time token in it, shown only here.
type portalSessionView struct {
	*outlet.PortalSession
	URL   string `json:"url"`
	Token string `json:"token"`
}

func (v portalSessionView) MarshalJSON() ([]byte, error) { return outlet.MarshalView(v) }

func (a *portalSessionsAPI) create(w http.ResponseWriter, r *http.Request) error {
	var req portalSessionRequest
	if err := decodeRequest(r, &req, true); err != nil {
		return err
	}
	o := outlet.PortalSessionOptions{ReadOnly: req.ReadOnly, Theme: req.Theme}
	if req.ExpiresIn != nil {
		lo, hi := int64(outlet.MinPortalSessionTTL/time.Second), int64(outlet.MaxPortalSessionTTL/time.Second)
		if *req.ExpiresIn < lo || *req.ExpiresIn > hi {
			return outlet.Errorf(outlet.EINVALID, "expires_in is %d; give seconds from %d to %d (a minute to a day), or leave it out for an hour",
				*req.ExpiresIn, lo, hi)
		}
		o.ExpiresIn = time.Duration(*req.ExpiresIn) * time.Second
	}
	var err error
	if o.Features, err = outlet.AllPortalFeatures().With(req.Features); err != nil {
		return err
	}
	ps, token, err := outlet.NewPortalSession(r.PathValue("tenant"), o, a.now())
	if err != nil {
		return err
	}
	if err := a.store.CreatePortalSession(r.Context(), ps); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, portalSessionView{PortalSession: ps, URL: a.link(token), Token: token})
	return nil
}

// link is the address that opens a session: absolute with --public-url,
// else relative to Outlet's own address.
func (a *portalSessionsAPI) link(token string) string {
	return strings.TrimRight(a.publicURL, "/") + "/portal/?token=" + token
}

func (a *portalSessionsAPI) list(w http.ResponseWriter, r *http.Request) error {
	page, err := pageParams(r)
	if err != nil {
		return err
	}
	pss, next, err := a.store.ListPortalSessions(r.Context(), r.PathValue("tenant"), page)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(pss, next))
	return nil
}

func (a *portalSessionsAPI) revoke(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.RevokePortalSession(r.Context(), r.PathValue("tenant"), r.PathValue("id"), a.now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
