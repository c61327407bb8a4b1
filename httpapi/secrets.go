package httpapi

import (
	"net/http"
	"time"

	"github.com/outlethq/outlet"
)

type secretsAPI struct {
	store outlet.SecretStore
	fns   Functions
	now   func() time.Time
}

func (a *secretsAPI) routes(s *Server) {
	s.handle("GET /v1/tenants/{tenant}/secrets", tenantScope, a.list)
	s.handle("PUT /v1/tenants/{tenant}/secrets/{name}", tenantScope, a.put)
	s.handle("DELETE /v1/tenants/{tenant}/secrets/{name}", tenantScope, a.delete)
}

func (a *secretsAPI) list(w http.ResponseWriter, r *http.Request) error {
	ss, err := a.store.ListSecrets(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(ss, ""))
	return nil
}

// put stores a secret. The answer never holds the value, and neither does
// any log line: the request body is read here and nowhere else.
func (a *secretsAPI) put(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Value *string `json:"value"`
	}
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	tenantID, name := r.PathValue("tenant"), r.PathValue("name")
	if err := outlet.ValidateSecretName(name); err != nil {
		return err
	}
	if req.Value == nil {
		return outlet.Errorf(outlet.EINVALID, "value is required: the secret, as a string")
	}
	if len(*req.Value) > outlet.MaxSecretValue {
		return outlet.Errorf(outlet.ETOOLARGE, "the value is %d bytes; the limit is %d", len(*req.Value), outlet.MaxSecretValue)
	}
	if _, err := a.store.PutSecret(r.Context(), tenantID, name, a.fns.Seal(tenantID, name, *req.Value), a.now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *secretsAPI) delete(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.DeleteSecret(r.Context(), r.PathValue("tenant"), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
