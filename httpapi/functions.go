package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/functions"
	"github.com/outlethq/outlet/tstypes"
)

type functionsAPI struct {
	store interface {
		outlet.FunctionStore
		outlet.InvocationStore
		Hook(ctx context.Context, name string) (*outlet.Hook, error)
		// For the function types.
		Tenant(ctx context.Context, id string) (*outlet.Tenant, error)
		ListEventTypes(ctx context.Context) ([]*outlet.EventType, error)
		ListHooks(ctx context.Context) ([]*outlet.Hook, error)
		ListSecrets(ctx context.Context, tenantID string) ([]*outlet.Secret, error)
	}
	fns    Functions
	maxima outlet.FunctionLimits
	now    func() time.Time
}

func (a *functionsAPI) routes(s *Server) {
	s.handle("PUT /v1/tenants/{tenant}/functions/{name}", tenantScope, a.deploy)
	s.handle("GET /v1/tenants/{tenant}/functions", tenantScope, a.list)
	s.handle("GET /v1/tenants/{tenant}/functions/{name}", tenantScope, a.get)
	s.handle("DELETE /v1/tenants/{tenant}/functions/{name}", tenantScope, a.delete)
	s.handle("GET /v1/tenants/{tenant}/functions/{name}/versions", tenantScope, a.versions)
	s.handle("GET /v1/tenants/{tenant}/functions/{name}/versions/{version}", tenantScope, a.version)
	s.handle("POST /v1/tenants/{tenant}/functions/{name}/rollback", tenantScope, a.rollback)
	s.handle("POST /v1/tenants/{tenant}/functions/{name}/test", tenantScope, a.test)
	s.handle("GET /v1/tenants/{tenant}/functions/{name}/logs", tenantScope, a.logs)
	s.handle("GET /v1/tenants/{tenant}/function-types", tenantScope, a.types)
}

// maxDeploy caps a deploy's body: a Wasm binary at the code limit, in base64.
const maxDeploy = outlet.MaxFunctionCode*4/3 + 64<<10

type deployRequest struct {
	Runtime     string   `json:"runtime"`
	Code        *string  `json:"code"`
	Wasm        *string  `json:"wasm"` // base64
	Events      []string `json:"events"`
	Hooks       []string `json:"hooks"`
	TimeoutMs   int      `json:"timeout_ms"`
	MemoryMB    int      `json:"memory_mb"`
	StackFrames int      `json:"stack_frames"`
	MaxInputKB  int      `json:"max_input_kb"`
	MaxOutputKB int      `json:"max_output_kb"`
	MaxLogsKB   int      `json:"max_logs_kb"`
}

// versionView shows a version; source only where asked for.
type versionView struct {
	*outlet.FunctionVersion
	Name string `json:"name"`
}

func (a *functionsAPI) deploy(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r, maxDeploy)
	if err != nil {
		return err
	}
	var req deployRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return err
	}
	v := &outlet.FunctionVersion{
		TenantID: r.PathValue("tenant"), Function: r.PathValue("name"), Runtime: req.Runtime,
		Events: orEmpty(req.Events), Hooks: orEmpty(req.Hooks),
		Limits: outlet.FunctionLimits{TimeoutMs: req.TimeoutMs, MemoryMB: req.MemoryMB, StackFrames: req.StackFrames,
			MaxInputKB: req.MaxInputKB, MaxOutputKB: req.MaxOutputKB, MaxLogsKB: req.MaxLogsKB},
	}
	switch req.Runtime {
	case outlet.RuntimeWasm:
		if req.Wasm == nil || req.Code != nil {
			return outlet.Errorf(outlet.EINVALID, "a wasm function is deployed with \"wasm\": the module's bytes in base64, and no \"code\"")
		}
		if v.Code, err = base64.StdEncoding.DecodeString(*req.Wasm); err != nil {
			return outlet.Errorf(outlet.EINVALID, "wasm is not valid base64: %v", err)
		}
	case outlet.RuntimeJavaScript, outlet.RuntimeTypeScript:
		if req.Code == nil || req.Wasm != nil {
			return outlet.Errorf(outlet.EINVALID, "a %s function is deployed with \"code\": its source, and no \"wasm\"", req.Runtime)
		}
		v.Code = []byte(*req.Code)
	}
	if err := v.Validate(a.maxima); err != nil {
		return err
	}
	if len(v.Code) == 0 {
		return outlet.Errorf(outlet.EINVALID, "the function's code is empty")
	}
	unchanged, err := a.fns.Deploy(r.Context(), a.store, v)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if v.Version == 1 && !unchanged {
		status = http.StatusCreated
	}
	v.Source = ""
	writeJSON(w, status, versionView{FunctionVersion: v, Name: v.Function})
	return nil
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func (a *functionsAPI) list(w http.ResponseWriter, r *http.Request) error {
	fs, err := a.store.ListFunctions(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(fs, ""))
	return nil
}

func (a *functionsAPI) get(w http.ResponseWriter, r *http.Request) error {
	f, err := a.store.Function(r.Context(), r.PathValue("tenant"), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (a *functionsAPI) delete(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.DeleteFunction(r.Context(), r.PathValue("tenant"), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *functionsAPI) versions(w http.ResponseWriter, r *http.Request) error {
	vs, err := a.store.ListFunctionVersions(r.Context(), r.PathValue("tenant"), r.PathValue("name"))
	if err != nil {
		return err
	}
	out := make([]versionView, len(vs))
	for i, v := range vs {
		out[i] = versionView{FunctionVersion: v, Name: v.Function}
	}
	writeJSON(w, http.StatusOK, listOf(out, ""))
	return nil
}

func versionParam(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, outlet.Errorf(outlet.EINVALID, "version %q is not a version number (1, 2, …)", s)
	}
	return n, nil
}

func (a *functionsAPI) version(w http.ResponseWriter, r *http.Request) error {
	n, err := versionParam(r.PathValue("version"))
	if err != nil {
		return err
	}
	v, err := a.store.FunctionVersion(r.Context(), r.PathValue("tenant"), r.PathValue("name"), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, versionView{FunctionVersion: v, Name: v.Function})
	return nil
}

func (a *functionsAPI) rollback(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Version int `json:"version"`
	}
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	if req.Version < 1 {
		return outlet.Errorf(outlet.EINVALID, "version is required: the number of the version to make active again (see .../versions)")
	}
	tenantID, name := r.PathValue("tenant"), r.PathValue("name")
	f, err := a.store.ActivateFunctionVersion(r.Context(), tenantID, name, req.Version, a.now())
	if err != nil {
		return err
	}
	if v, err := a.store.FunctionVersion(r.Context(), tenantID, name, req.Version); err == nil {
		a.fns.Prewarm(v)
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (a *functionsAPI) test(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Event *struct {
			Type      string          `json:"type"`
			Data      json.RawMessage `json:"data"`
			Timestamp *timeField      `json:"timestamp"`
		} `json:"event"`
		Input   json.RawMessage `json:"input"`
		Hook    string          `json:"hook"`
		Version int             `json:"version"`
	}
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	var input json.RawMessage
	switch {
	case req.Event != nil && req.Input == nil:
		if req.Event.Type == "" {
			return outlet.Errorf(outlet.EINVALID, "event.type is required, e.g. \"invoice.paid\"")
		}
		if err := outlet.ValidateEventTypeName(req.Event.Type); err != nil {
			return err
		}
		if len(req.Event.Data) == 0 {
			return outlet.Errorf(outlet.EINVALID, "event.data is required")
		}
		at := a.now()
		if req.Event.Timestamp != nil {
			at = req.Event.Timestamp.Time
		}
		input = functions.EventBody(req.Event.Type, req.Event.Data, at)
	case req.Input != nil && req.Event == nil:
		input = req.Input
	default:
		return outlet.Errorf(outlet.EINVALID, "give either \"event\" ({\"type\", \"data\"}: run as on a published event) or \"input\" (run as at a hook)")
	}
	if req.Version < 0 {
		return outlet.Errorf(outlet.EINVALID, "version %d is not a version number; leave it out for the active version", req.Version)
	}
	run := functions.TestRun{Version: req.Version, Input: input, Event: req.Event != nil, Hook: req.Hook}
	if req.Hook != "" {
		h, err := a.store.Hook(r.Context(), req.Hook)
		if outlet.ErrorCode(err) == outlet.ENOTFOUND {
			// The function is found; what the body names isn't.
			return outlet.Errorf(outlet.EINVALID, "hook %q is not declared; see the hooks you can serve with GET /v1/tenants/%s/hooks", req.Hook, r.PathValue("tenant"))
		}
		if err != nil {
			return err
		}
		run.HookTimeout = time.Duration(h.TimeoutMs) * time.Millisecond
	}
	res, err := a.fns.Test(r.Context(), r.PathValue("tenant"), r.PathValue("name"), run)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *functionsAPI) logs(w http.ResponseWriter, r *http.Request) error {
	var f outlet.InvocationFilter
	var err error
	if f.Page, err = pageParams(r); err != nil {
		return err
	}
	f.After = r.URL.Query().Get("after")
	invs, next, err := a.store.ListInvocations(r.Context(), r.PathValue("tenant"), r.PathValue("name"), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(invs, next))
	return nil
}

// types answers the TypeScript declarations of the tenant's functions: ctx
// with its secret names, the sandbox's globals, and a type per event type
// and hook, from the catalog's schemas (outlet types writes them to files;
// the portal's templates use them).
func (a *functionsAPI) types(w http.ResponseWriter, r *http.Request) error {
	ctx, tenantID := r.Context(), r.PathValue("tenant")
	if _, err := a.store.Tenant(ctx, tenantID); err != nil {
		return err
	}
	ets, err := a.store.ListEventTypes(ctx)
	if err != nil {
		return err
	}
	// A function may subscribe to Outlet's own events too.
	ets = append(ets, outlet.OperationalEventTypes()...)
	hooks, err := a.store.ListHooks(ctx)
	if err != nil {
		return err
	}
	secrets, err := a.store.ListSecrets(ctx, tenantID)
	if err != nil {
		return err
	}
	c := tstypes.Catalog{Tenant: tenantID}
	for _, et := range ets {
		c.EventTypes = append(c.EventTypes, tstypes.EventType{Name: et.Name, Description: et.Description, Schema: et.Schema, Deprecated: et.Deprecated})
	}
	for _, h := range hooks {
		c.Hooks = append(c.Hooks, tstypes.Hook{Name: h.Name, Description: h.Description, InputSchema: h.InputSchema, OutputSchema: h.OutputSchema})
	}
	for _, s := range secrets {
		c.Secrets = append(c.Secrets, s.Name)
	}
	writeJSON(w, http.StatusOK, tstypes.Generate(c))
	return nil
}
