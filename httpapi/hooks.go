package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/functions"
	"github.com/outlethq/outlet/internal/schema"
)

// Functions is what the API needs of the functions service.
type Functions interface {
	Invoke(ctx context.Context, tenantID, hook string, input json.RawMessage) (*functions.HookResult, error)
	Test(ctx context.Context, tenantID, function string, t functions.TestRun) (*functions.TestResult, error)
	Deploy(ctx context.Context, store functions.Deployer, v *outlet.FunctionVersion) (unchanged bool, err error)
	Prewarm(v *outlet.FunctionVersion)
	Seal(tenantID, name, value string) []byte
}

type hooksAPI struct {
	store interface {
		outlet.HookStore
		ListFunctions(ctx context.Context, tenantID string) ([]*outlet.Function, error)
		Tenant(ctx context.Context, id string) (*outlet.Tenant, error)
	}
	fns  Functions
	urls urlChecker
	now  func() time.Time
}

func (a *hooksAPI) routes(s *Server) {
	s.handle("POST /v1/hooks", adminOnly, a.create)
	s.handle("GET /v1/hooks", adminOnly, a.list)
	s.handle("GET /v1/hooks/{hook}", adminOnly, a.get)
	s.handle("PATCH /v1/hooks/{hook}", adminOnly, a.update)
	s.handle("PUT /v1/hooks/{hook}", adminOnly, a.update)
	s.handle("DELETE /v1/hooks/{hook}", adminOnly, a.delete)
	s.handle("GET /v1/tenants/{tenant}/hooks", tenantScope, a.tenantList)
	s.handle("GET /v1/tenants/{tenant}/hooks/{hook}", tenantScope, a.tenantGet)
	s.handle("PUT /v1/tenants/{tenant}/hooks/{hook}/endpoint", tenantScope, a.putEndpoint)
	s.handle("GET /v1/tenants/{tenant}/hooks/{hook}/endpoint", tenantScope, a.getEndpoint)
	s.handle("GET /v1/tenants/{tenant}/hooks/{hook}/endpoint/secret", tenantScope, a.endpointSecret)
	s.handle("DELETE /v1/tenants/{tenant}/hooks/{hook}/endpoint", tenantScope, a.deleteEndpoint)
	s.handle("POST /v1/tenants/{tenant}/hooks/{hook}/invoke", tenantScope, a.invoke)
}

type hookRequest struct {
	Name         string          `json:"name"`
	Description  *string         `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`
	OutputSchema json.RawMessage `json:"output_schema"`
	TimeoutMs    *int            `json:"timeout_ms"`
	OnError      *string         `json:"on_error"`
}

func (r *hookRequest) update() outlet.HookUpdate {
	return outlet.HookUpdate{Description: r.Description, InputSchema: r.InputSchema, OutputSchema: r.OutputSchema,
		TimeoutMs: r.TimeoutMs, OnError: r.OnError}
}

// checkHook validates a hook, its schemas included.
func checkHook(h *outlet.Hook) error {
	if err := h.Validate(); err != nil {
		return err
	}
	for _, s := range []struct {
		what string
		raw  json.RawMessage
	}{{"input_schema", h.InputSchema}, {"output_schema", h.OutputSchema}} {
		if s.raw != nil {
			if _, err := schema.Compile(s.raw); err != nil {
				return outlet.Errorf(outlet.EINVALID, "%s: %s", s.what, outlet.ErrorMessage(err))
			}
		}
	}
	return nil
}

func (a *hooksAPI) create(w http.ResponseWriter, r *http.Request) error {
	var req hookRequest
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	now := a.now()
	h := &outlet.Hook{Name: req.Name, TimeoutMs: outlet.DefaultHookTimeoutMs, OnError: outlet.FailOpen, CreatedAt: now, UpdatedAt: now}
	h.Apply(req.update())
	if err := checkHook(h); err != nil {
		return err
	}
	if err := a.store.CreateHook(r.Context(), h); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, h)
	return nil
}

func (a *hooksAPI) list(w http.ResponseWriter, r *http.Request) error {
	hs, err := a.store.ListHooks(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(hs, ""))
	return nil
}

func (a *hooksAPI) get(w http.ResponseWriter, r *http.Request) error {
	h, err := a.store.Hook(r.Context(), r.PathValue("hook"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (a *hooksAPI) update(w http.ResponseWriter, r *http.Request) error {
	var req hookRequest
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	name := r.PathValue("hook")
	if req.Name != "" && req.Name != name {
		return outlet.Errorf(outlet.EINVALID, "a hook can't be renamed; create %q and delete %q instead", req.Name, name)
	}
	h, err := a.store.Hook(r.Context(), name)
	if err != nil {
		return err
	}
	h.Apply(req.update())
	if err := checkHook(h); err != nil {
		return err
	}
	if h, err = a.store.UpdateHook(r.Context(), name, req.update(), a.now()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (a *hooksAPI) delete(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.DeleteHook(r.Context(), r.PathValue("hook")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// tenantHook is a hook as a tenant sees it: what it is and what of the
// tenant's serves it.
type tenantHook struct {
	*outlet.Hook
	ServedBy  outlet.ServedBy      `json:"served_by"` // "functions", "endpoint", or "passthrough": the input passes through
	Functions []string             `json:"functions"`
	Endpoint  *outlet.HookEndpoint `json:"endpoint"`
}

func (a *hooksAPI) tenantHooks(ctx context.Context, tenantID string) ([]*tenantHook, error) {
	hs, err := a.store.ListHooks(ctx)
	if err != nil {
		return nil, err
	}
	fns, err := a.store.ListFunctions(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	eps, err := a.store.ListHookEndpoints(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]*tenantHook, len(hs))
	for i, h := range hs {
		th := &tenantHook{Hook: h, Functions: []string{}, ServedBy: functions.ServedByPassthrough}
		for _, f := range fns {
			for _, name := range f.Hooks {
				if name == h.Name {
					th.Functions = append(th.Functions, f.Name)
				}
			}
		}
		for _, ep := range eps {
			if ep.Hook == h.Name {
				th.Endpoint = ep
			}
		}
		switch {
		case th.Endpoint != nil:
			th.ServedBy = functions.ServedByEndpoint
		case len(th.Functions) > 0:
			th.ServedBy = functions.ServedByFunctions
		}
		out[i] = th
	}
	return out, nil
}

func (a *hooksAPI) tenantList(w http.ResponseWriter, r *http.Request) error {
	ths, err := a.tenantHooks(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(ths, ""))
	return nil
}

func (a *hooksAPI) tenantGet(w http.ResponseWriter, r *http.Request) error {
	ths, err := a.tenantHooks(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	for _, th := range ths {
		if th.Name == r.PathValue("hook") {
			writeJSON(w, http.StatusOK, th)
			return nil
		}
	}
	return outlet.Errorf(outlet.ENOTFOUND, "hook %q not found", r.PathValue("hook"))
}

// hookEndpointView shows a sync endpoint, with its secret where asked for.
type hookEndpointView struct {
	*outlet.HookEndpoint
	Secret string `json:"secret,omitempty"`
}

func (a *hooksAPI) putEndpoint(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
		Secret  *string           `json:"secret"`
	}
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	tenantID, hook := r.PathValue("tenant"), r.PathValue("hook")
	now := a.now()
	ep := &outlet.HookEndpoint{TenantID: tenantID, Hook: hook, URL: req.URL, Headers: req.Headers, CreatedAt: now, UpdatedAt: now}
	if ep.Headers == nil {
		ep.Headers = map[string]string{}
	}
	if err := ep.Validate(); err != nil {
		return err
	}
	if err := a.urls.CheckURL(ep.URL); err != nil {
		return err
	}
	status := http.StatusCreated
	old, err := a.store.HookEndpoint(r.Context(), tenantID, hook)
	switch {
	case err == nil:
		ep.Secret, status = old.Secret, http.StatusOK // the receiver keeps verifying with what it has
	case outlet.ErrorCode(err) != outlet.ENOTFOUND:
		return err
	default:
		ep.Secret = outlet.NewEndpointSecret()
	}
	if req.Secret != nil {
		if err := checkSecret(req.Secret); err != nil {
			return err
		}
		ep.Secret = *req.Secret
	}
	if err := a.store.PutHookEndpoint(r.Context(), ep); err != nil {
		return err
	}
	writeJSON(w, status, hookEndpointView{HookEndpoint: ep, Secret: ep.Secret})
	return nil
}

func (a *hooksAPI) getEndpoint(w http.ResponseWriter, r *http.Request) error {
	ep, err := a.store.HookEndpoint(r.Context(), r.PathValue("tenant"), r.PathValue("hook"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ep)
	return nil
}

func (a *hooksAPI) endpointSecret(w http.ResponseWriter, r *http.Request) error {
	ep, err := a.store.HookEndpoint(r.Context(), r.PathValue("tenant"), r.PathValue("hook"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"secret": ep.Secret})
	return nil
}

func (a *hooksAPI) deleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.DeleteHookEndpoint(r.Context(), r.PathValue("tenant"), r.PathValue("hook")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *hooksAPI) invoke(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Input json.RawMessage `json:"input"`
	}
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	if req.Input == nil {
		return outlet.Errorf(outlet.EINVALID, "input is required: the JSON value the hook's functions get, e.g. {\"input\": {\"cart\": {…}}}")
	}
	res, err := a.fns.Invoke(r.Context(), r.PathValue("tenant"), r.PathValue("hook"), req.Input)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
