package storetest

import (
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func (b *bundle) hookFunctions(t *testing.T, tenantID, hookName string) []*outlet.FunctionVersion {
	t.Helper()
	vs, err := b.store.HookFunctions(b.ctx, tenantID, hookName)
	check(t, err)
	return vs
}

// functionHookTests are the rules of how function versions serve hooks, run
// in the "functions" group.
func functionHookTests(t *testing.T, s suite) {
	s.test(t, "deploying a version bound to an undeclared hook is EINVALID and stores nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount)
		first := newVersion("acme", "fresh")
		first.Hooks = []string{discount, "no.such"}
		wantCode(t, b.store.DeployFunction(b.ctx, first, base), outlet.EINVALID)
		_, err := b.store.Function(b.ctx, "acme", "fresh")
		wantCode(t, err, outlet.ENOTFOUND)

		v1 := b.deployServing(t, "acme", "pricing", base, discount)
		next := newVersion("acme", "pricing")
		next.Hooks = []string{"no.such"}
		wantCode(t, b.store.DeployFunction(b.ctx, next, at(time.Hour)), outlet.EINVALID)
		wantFunction(t, b.getFunction(t, "acme", "pricing"), v1, 1, base, base)
		wantIDs(t, "versions", versionNumbers(b.versions(t, "acme", "pricing")), []string{"1"})
		wantIDs(t, "functions", functionNames(b.functions(t, "acme")), []string{"pricing"})
	})

	s.test(t, "deploying a version bound to a hook the tenant serves with an endpoint is ECONFLICT and stores nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount, validate)
		b.putHookEndpoint(t, "acme", discount, base)
		first := newVersion("acme", "fresh")
		first.Hooks = []string{validate, discount}
		wantCode(t, b.store.DeployFunction(b.ctx, first, base), outlet.ECONFLICT)
		_, err := b.store.Function(b.ctx, "acme", "fresh")
		wantCode(t, err, outlet.ENOTFOUND)

		v1 := b.deployServing(t, "acme", "pricing", base, validate)
		next := newVersion("acme", "pricing")
		next.Hooks = []string{discount}
		wantCode(t, b.store.DeployFunction(b.ctx, next, at(time.Hour)), outlet.ECONFLICT)
		wantFunction(t, b.getFunction(t, "acme", "pricing"), v1, 1, base, base)
		wantIDs(t, "versions", versionNumbers(b.versions(t, "acme", "pricing")), []string{"1"})
		b.getHookEndpoint(t, "acme", discount)
	})

	s.test(t, "activating a version bound to a hook the tenant now serves with an endpoint is ECONFLICT and changes nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount)
		b.deployServing(t, "acme", "pricing", base, discount)
		v2 := b.deploy(t, newVersion("acme", "pricing"), at(time.Minute))
		b.putHookEndpoint(t, "acme", discount, at(time.Hour))
		_, err := b.store.ActivateFunctionVersion(b.ctx, "acme", "pricing", 1, at(2*time.Hour))
		wantCode(t, err, outlet.ECONFLICT)
		wantFunction(t, b.getFunction(t, "acme", "pricing"), v2, 2, base, at(time.Minute))
		wantEqual(t, "functions serving the hook", len(b.hookFunctions(t, "acme", discount)), 0)
	})

	s.test(t, "a hook's functions are the tenant's active versions serving it, in the order first deployed, with code", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.declare(t, discount, validate)
		b.deployServing(t, "acme", "first", base, discount)
		second := b.deployServing(t, "acme", "second", at(time.Minute), validate, discount)
		b.deployServing(t, "acme", "unbound", at(2*time.Minute), validate)
		b.deployServing(t, "acme", "dropped", at(3*time.Minute), discount)
		b.deploy(t, newVersion("acme", "dropped"), at(4*time.Minute)) // serves no hook now
		b.deployServing(t, "globex", "theirs", at(5*time.Minute), discount)
		first := b.deployServing(t, "acme", "first", at(6*time.Minute), discount) // a redeploy keeps its place

		got := b.hookFunctions(t, "acme", discount)
		wantIDs(t, "functions serving the hook", versionNames(got), []string{"first@2", "second@1"})
		if len(got) == 2 {
			wantVersion(t, got[0], first, true, true, at(6*time.Minute))
			wantVersion(t, got[1], second, true, true, at(time.Minute))
		}
		wantEqual(t, "functions serving an undeclared hook", len(b.hookFunctions(t, "acme", "no.such")), 0)
	})

	s.test(t, "a hook's functions follow rollbacks", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount)
		b.deploy(t, newVersion("acme", "pricing"), base)
		b.deployServing(t, "acme", "pricing", at(time.Minute), discount)
		wantIDs(t, "serving after the deploy", versionNames(b.hookFunctions(t, "acme", discount)), []string{"pricing@2"})
		b.activate(t, "acme", "pricing", 1, at(time.Hour))
		wantIDs(t, "serving after rolling back to a version that doesn't serve it", versionNames(b.hookFunctions(t, "acme", discount)), []string{})
		b.activate(t, "acme", "pricing", 2, at(2*time.Hour))
		wantIDs(t, "serving after rolling forward", versionNames(b.hookFunctions(t, "acme", discount)), []string{"pricing@2"})
		check(t, b.store.DeleteFunction(b.ctx, "acme", "pricing"))
		wantIDs(t, "serving after the delete", versionNames(b.hookFunctions(t, "acme", discount)), []string{})
	})
}
