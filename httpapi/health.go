package httpapi

import (
	"context"
	"net/http"

	"github.com/outlethq/outlet"
)

type healthAPI struct {
	ready func(ctx context.Context) error
}

func (a *healthAPI) routes(s *Server) {
	s.handle("GET /healthz", public, a.healthz)
	s.handle("GET /readyz", public, a.readyz)
}

func (a *healthAPI) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (a *healthAPI) readyz(w http.ResponseWriter, r *http.Request) error {
	if a.ready != nil {
		if err := a.ready(r.Context()); err != nil {
			return outlet.Errorf(outlet.EUNAVAILABLE, "not ready: %s", outlet.ErrorMessage(err))
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
