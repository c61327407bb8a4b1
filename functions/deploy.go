package functions

import (
	"context"
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
func (s *Service) Deploy(ctx context.Context, store Deployer, v *outlet.FunctionVersion) error {
	if v.Runtime != outlet.RuntimeWasm {
		v.Source = string(v.Code)
	}
	code, err := s.sandbox.Prepare(ctx, Sandboxed(v))
	if err != nil {
		return outlet.Errorf(outlet.EINVALID, "the function doesn't compile: %v", err)
	}
	v.Code = code
	v.Seal()
	if err := store.DeployFunction(ctx, v, s.cfg.Now().UTC().Truncate(time.Millisecond)); err != nil {
		return err
	}
	s.Changed(v.TenantID)
	s.Prewarm(v)
	return nil
}

// Prewarm readies a version to be called: the first call after a deploy
// shouldn't wait for an engine.
func (s *Service) Prewarm(v *outlet.FunctionVersion) {
	s.sandbox.Prewarm(context.Background(), Sandboxed(v), s.limits(v))
}

// Seal encrypts a tenant's secret for the store.
func (s *Service) Seal(tenantID, name, value string) []byte {
	return s.cfg.Secrets.Seal(tenantID, name, value)
}
