package functions

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/outlethq/outlet"
)

// Deployer is what deploying needs of the store.
type Deployer interface {
	DeployFunction(ctx context.Context, v *outlet.FunctionVersion, now time.Time) error
}

// Deploy compiles a new version of a function, stores it as the active one
// and warms it up. v.Code holds what was deployed: JavaScript or TypeScript
// source, or a Wasm binary. A version that can't run is a 422 with the line
// and column of the problem where known, and nothing is stored.
//
// Deploying what is active already — the same code, bindings and limits —
// changes nothing: v becomes the active version and unchanged is true, so a
// deploy from CI that runs twice doesn't make a version per run.
//
// The module's top-level code runs now, with the version's own time and
// memory limits, in one of the tenant's sandbox slots, and its CPU time is
// billed to the tenant, like a run's.
func (s *Service) Deploy(ctx context.Context, store Deployer, v *outlet.FunctionVersion) (unchanged bool, err error) {
	if v.Runtime != outlet.RuntimeWasm {
		v.Source = string(v.Code)
	}
	active, err := s.store.FunctionVersion(ctx, v.TenantID, v.Function, 0)
	switch {
	case err == nil && sameDeploy(active, v):
		*v = *active
		return true, nil
	case err != nil && outlet.ErrorCode(err) != outlet.ENOTFOUND:
		return false, err
	}
	lim := s.limits(v)
	lim.Timeout = s.eventTimeout(v)
	lim.Fetch.AllowedHosts, lim.Fetch.OperatorHosts = []string{}, s.cfg.AllowedHosts
	prepared, err := s.sandbox.Prepare(ctx, Sandboxed(v), lim)
	if err != nil {
		if outlet.ErrorCode(err) == outlet.EUNAVAILABLE {
			return false, err
		}
		return false, outlet.Errorf(outlet.EINVALID, "the function doesn't compile: %v", err)
	}
	v.Code, v.SourceMap = prepared.Code, prepared.SourceMap
	v.Seal()
	if err := store.DeployFunction(ctx, v, s.cfg.Now().UTC().Truncate(time.Millisecond)); err != nil {
		return false, err
	}
	s.Prewarm(v)
	return false, nil
}

// sameDeploy reports whether a deploy asks for what the active version is.
func sameDeploy(active, v *outlet.FunctionVersion) bool {
	same := active.Runtime == v.Runtime && active.Limits == v.Limits &&
		slices.Equal(active.Events, v.Events) && slices.Equal(active.Hooks, v.Hooks)
	if v.Runtime == outlet.RuntimeWasm {
		return same && bytes.Equal(active.Code, v.Code)
	}
	return same && active.Source == v.Source
}

// eventTimeout is how long a version may run on an event: its own limit,
// else the operator's.
func (s *Service) eventTimeout(v *outlet.FunctionVersion) time.Duration {
	if v.Limits.TimeoutMs > 0 {
		return time.Duration(v.Limits.TimeoutMs) * time.Millisecond
	}
	return s.cfg.EventTimeout
}

// Prewarm readies a version to be called: the first call after a deploy
// shouldn't wait for an engine.
func (s *Service) Prewarm(v *outlet.FunctionVersion) {
	lim := s.limits(v)
	lim.Timeout = s.eventTimeout(v) // the module's code runs within the version's own limit
	s.sandbox.Prewarm(context.Background(), Sandboxed(v), lim)
}

// Seal encrypts a tenant's secret for the store.
func (s *Service) Seal(tenantID, name, value string) []byte {
	return s.cfg.Secrets.Seal(tenantID, name, value)
}
