package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// newVersion is a JavaScript version of the named function, with a source
// map, bound to no event and no hook. Each call makes different code.
func newVersion(tenantID, name string) *outlet.FunctionVersion {
	src := fmt.Sprintf("// %s\nexport default async (event, ctx) => { ctx.log(\"Zoë\"); return {ok: true} }\n", outlet.NewID(""))
	v := &outlet.FunctionVersion{
		TenantID:  tenantID,
		Function:  name,
		Runtime:   outlet.RuntimeJavaScript,
		Source:    src,
		Code:      []byte(src),
		SourceMap: sourceMap(name+".ts", src),
		Limits:    outlet.FunctionLimits{TimeoutMs: 5000, MemoryMB: 64},
	}
	v.Seal()
	return v
}

// sourceMap is a source map of code bundled from one file.
func sourceMap(file, content string) []byte {
	m, err := json.Marshal(map[string]any{"version": 3, "sources": []string{file}, "sourcesContent": []string{content},
		"names": []string{}, "mappings": "AAAA;AACA"})
	if err != nil {
		panic(err)
	}
	return m
}

// sameCode is a new version of v's function with v's code, as a caller
// deploying the same code again would make.
func sameCode(v *outlet.FunctionVersion) *outlet.FunctionVersion {
	w := &outlet.FunctionVersion{
		TenantID: v.TenantID, Function: v.Function, Runtime: v.Runtime, Source: v.Source, Code: v.Code, SourceMap: v.SourceMap,
		Events: v.Events, Hooks: v.Hooks, Limits: v.Limits,
	}
	w.Seal()
	return w
}

// deploy stores v as the function's next version at now and returns it with
// its version number filled in.
func (b *bundle) deploy(t *testing.T, v *outlet.FunctionVersion, now time.Time) *outlet.FunctionVersion {
	t.Helper()
	check(t, b.store.DeployFunction(b.ctx, v, now))
	return v
}

// deployFor deploys a version of the function bound to event type filters.
func (b *bundle) deployFor(t *testing.T, tenantID, name string, now time.Time, events ...string) *outlet.FunctionVersion {
	t.Helper()
	v := newVersion(tenantID, name)
	v.Events = events
	return b.deploy(t, v, now)
}

// deployServing deploys a version of the function that serves hooks.
func (b *bundle) deployServing(t *testing.T, tenantID, name string, now time.Time, hooks ...string) *outlet.FunctionVersion {
	t.Helper()
	v := newVersion(tenantID, name)
	v.Hooks = hooks
	return b.deploy(t, v, now)
}

func (b *bundle) getFunction(t *testing.T, tenantID, name string) *outlet.Function {
	t.Helper()
	f, err := b.store.Function(b.ctx, tenantID, name)
	check(t, err)
	return f
}

func (b *bundle) getVersion(t *testing.T, tenantID, name string, version int) *outlet.FunctionVersion {
	t.Helper()
	v, err := b.store.FunctionVersion(b.ctx, tenantID, name, version)
	check(t, err)
	return v
}

func (b *bundle) activate(t *testing.T, tenantID, name string, version int, now time.Time) *outlet.Function {
	t.Helper()
	f, err := b.store.ActivateFunctionVersion(b.ctx, tenantID, name, version, now)
	check(t, err)
	return f
}

func (b *bundle) functions(t *testing.T, tenantID string) []*outlet.Function {
	t.Helper()
	fs, err := b.store.ListFunctions(b.ctx, tenantID)
	check(t, err)
	return fs
}

func (b *bundle) versions(t *testing.T, tenantID, name string) []*outlet.FunctionVersion {
	t.Helper()
	vs, err := b.store.ListFunctionVersions(b.ctx, tenantID, name)
	check(t, err)
	return vs
}

// wantFunction compares a function with what its active version v and the
// times of its first and last change make it.
func wantFunction(t *testing.T, got *outlet.Function, v *outlet.FunctionVersion, latest int, created, updated time.Time) {
	t.Helper()
	wantEqual(t, "function tenant", got.TenantID, v.TenantID)
	wantEqual(t, "function name", got.Name, v.Function)
	wantEqual(t, "function active version", got.ActiveVersion, v.Version)
	wantEqual(t, "function latest version", got.LatestVersion, latest)
	wantEqual(t, "function runtime", got.Runtime, v.Runtime)
	if !slices.Equal(got.Events, v.Events) {
		t.Errorf("function events = %q; want %q", got.Events, v.Events)
	}
	if !slices.Equal(got.Hooks, v.Hooks) {
		t.Errorf("function hooks = %q; want %q", got.Hooks, v.Hooks)
	}
	wantTime(t, "function created_at", got.CreatedAt, created)
	wantTime(t, "function updated_at", got.UpdatedAt, updated)
}

// wantVersion compares a version as deployed at deployedAt; its code, source
// and source map must come back byte for byte when withCode, and its code and
// source be left out when not.
func wantVersion(t *testing.T, got, want *outlet.FunctionVersion, active, withCode bool, deployedAt time.Time) {
	t.Helper()
	wantEqual(t, "version uid", got.UID, want.UID)
	wantEqual(t, "version tenant uid", got.TenantUID, want.TenantUID)
	wantEqual(t, "version tenant", got.TenantID, want.TenantID)
	wantEqual(t, "version function", got.Function, want.Function)
	wantEqual(t, "version number", got.Version, want.Version)
	wantEqual(t, "version runtime", got.Runtime, want.Runtime)
	wantEqual(t, "version sha256", got.SHA256, want.SHA256)
	if !slices.Equal(got.Events, want.Events) {
		t.Errorf("version events = %q; want %q", got.Events, want.Events)
	}
	if !slices.Equal(got.Hooks, want.Hooks) {
		t.Errorf("version hooks = %q; want %q", got.Hooks, want.Hooks)
	}
	wantEqual(t, "version limits", got.Limits, want.Limits)
	wantEqual(t, "version active", got.Active, active)
	wantTime(t, "version created_at", got.CreatedAt, deployedAt)
	if withCode {
		wantEqual(t, "version source", got.Source, want.Source)
		if !bytes.Equal(got.Code, want.Code) {
			t.Errorf("version code = %q; want %q", got.Code, want.Code)
		}
		if !bytes.Equal(got.SourceMap, want.SourceMap) {
			t.Errorf("version source map = %q; want %q", got.SourceMap, want.SourceMap)
		}
	} else if got.Source != "" || got.Code != nil {
		t.Errorf("version %d listed with %d bytes of source and %d of code; want neither", got.Version, len(got.Source), len(got.Code))
	}
}

func functionNames(fs []*outlet.Function) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

func versionNumbers(vs []*outlet.FunctionVersion) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, fmt.Sprint(v.Version))
	}
	return out
}

func versionNames(vs []*outlet.FunctionVersion) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s@%d", v.Function, v.Version))
	}
	return out
}

// allBytes is a Wasm-like binary holding every byte value, NUL and invalid
// UTF-8 included.
func allBytes() []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	for i := range 256 {
		b = append(b, byte(i))
	}
	return b
}

func functionTests(t *testing.T, s suite) {
	for _, tc := range []struct {
		runtime   string
		source    string
		code      []byte
		sourceMap []byte
	}{
		{outlet.RuntimeJavaScript, "export default () => 'Zoë'\n", []byte("export default () => 'Zoë'\n"), sourceMap("pricing.js", "export default () => 'Zoë'\n")},
		{outlet.RuntimeTypeScript, "export default (e: Event): string => 'Zoë'\n", []byte("export default (e) => 'Zoë'\n"),
			sourceMap("pricing.ts", "export default (e: Event): string => 'Zoë'\n")},
		{outlet.RuntimeWasm, "", allBytes(), nil},
	} {
		s.test(t, "a first "+tc.runtime+" deploy makes version 1 active with its source and code byte for byte", func(t *testing.T, b *bundle) {
			b.tenant(t, "acme")
			b.declare(t, discount)
			v := &outlet.FunctionVersion{
				TenantID: "acme", Function: "pricing", Runtime: tc.runtime, Source: tc.source, Code: tc.code, SourceMap: tc.sourceMap,
				Events: []string{"invoice.*", "customer.created"}, Hooks: []string{discount},
				Limits: outlet.FunctionLimits{TimeoutMs: 1500, MemoryMB: 32},
			}
			v.Seal()
			b.deploy(t, v, at(time.Minute))
			wantEqual(t, "version filled in", v.Version, 1)
			wantFunction(t, b.getFunction(t, "acme", "pricing"), v, 1, at(time.Minute), at(time.Minute))
			wantVersion(t, b.getVersion(t, "acme", "pricing", 0), v, true, true, at(time.Minute))
			wantVersion(t, b.getVersion(t, "acme", "pricing", 1), v, true, true, at(time.Minute))
		})
	}

	s.test(t, "a version deployed without events, hooks or limits reads back with none", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		v := newVersion("acme", "pricing")
		v.Limits = outlet.FunctionLimits{}
		b.deploy(t, v, base)
		got := b.getVersion(t, "acme", "pricing", 0)
		wantVersion(t, got, v, true, true, base)
		if len(got.Events) != 0 || len(got.Hooks) != 0 {
			t.Errorf("version bound to events %q and hooks %q; want none", got.Events, got.Hooks)
		}
	})

	s.test(t, "redeploying makes version 2 active and keeps version 1 as it was", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		v1 := b.deployFor(t, "acme", "pricing", base, paid)
		v2 := newVersion("acme", "pricing")
		v2.Runtime, v2.Source, v2.Code = outlet.RuntimeWasm, "", allBytes()
		v2.Seal()
		b.deploy(t, v2, at(time.Hour))
		wantEqual(t, "version filled in", v2.Version, 2)
		wantFunction(t, b.getFunction(t, "acme", "pricing"), v2, 2, base, at(time.Hour))
		wantVersion(t, b.getVersion(t, "acme", "pricing", 0), v2, true, true, at(time.Hour))
		wantVersion(t, b.getVersion(t, "acme", "pricing", 2), v2, true, true, at(time.Hour))
		wantVersion(t, b.getVersion(t, "acme", "pricing", 1), v1, false, true, base)
	})

	s.test(t, "getting an unknown version, or any version of an unknown function, is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.deploy(t, newVersion("acme", "pricing"), base)
		for _, tc := range []struct {
			name    string
			version int
		}{
			{"pricing", 2},
			{"pricing", -1},
			{"nothing", 0},
			{"nothing", 1},
		} {
			_, err := b.store.FunctionVersion(b.ctx, "acme", tc.name, tc.version)
			if code := outlet.ErrorCode(err); code != outlet.ENOTFOUND {
				t.Errorf("version %d of %q: error code %q; want %q", tc.version, tc.name, code, outlet.ENOTFOUND)
			}
		}
		_, err := b.store.Function(b.ctx, "acme", "nothing")
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.ListFunctionVersions(b.ctx, "acme", "nothing")
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "versions list newest first without code or source, with only the active one marked active", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		var deployed []*outlet.FunctionVersion
		for i := range 3 {
			deployed = append(deployed, b.deployFor(t, "acme", "pricing", at(time.Duration(i)*time.Hour), fmt.Sprintf("type%d.*", i)))
		}
		b.activate(t, "acme", "pricing", 2, at(5*time.Hour))
		got := b.versions(t, "acme", "pricing")
		wantIDs(t, "versions", versionNumbers(got), []string{"3", "2", "1"})
		if len(got) == 3 {
			for i, v := range got {
				want := deployed[2-i]
				wantVersion(t, v, want, want.Version == 2, false, at(time.Duration(want.Version-1)*time.Hour))
			}
		}
	})

	s.test(t, "rolling back makes an earlier version active and the function takes its runtime, events and hooks", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount, validate)
		v1 := newVersion("acme", "pricing")
		v1.Events, v1.Hooks = []string{paid}, []string{discount}
		b.deploy(t, v1, base)
		v2 := newVersion("acme", "pricing")
		v2.Runtime, v2.Events, v2.Hooks = outlet.RuntimeTypeScript, []string{"customer.*"}, []string{validate}
		b.deploy(t, v2, at(time.Hour))

		got := b.activate(t, "acme", "pricing", 1, at(2*time.Hour))
		wantFunction(t, got, v1, 2, base, at(2*time.Hour))
		wantFunction(t, b.getFunction(t, "acme", "pricing"), v1, 2, base, at(2*time.Hour))
		wantVersion(t, b.getVersion(t, "acme", "pricing", 0), v1, true, true, base)
		wantVersion(t, b.getVersion(t, "acme", "pricing", 2), v2, false, true, at(time.Hour))

		// Rolling forward again works the same way, and a new deploy
		// numbers on from the latest version, not the active one.
		wantFunction(t, b.activate(t, "acme", "pricing", 2, at(3*time.Hour)), v2, 2, base, at(3*time.Hour))
		b.activate(t, "acme", "pricing", 1, at(4*time.Hour))
		v3 := b.deploy(t, newVersion("acme", "pricing"), at(5*time.Hour))
		wantEqual(t, "version after a rollback", v3.Version, 3)
		wantFunction(t, b.getFunction(t, "acme", "pricing"), v3, 3, base, at(5*time.Hour))
	})

	s.test(t, "activating the active version changes nothing but the update time", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		v := b.deployFor(t, "acme", "pricing", base, paid)
		wantFunction(t, b.activate(t, "acme", "pricing", 1, at(time.Hour)), v, 1, base, at(time.Hour))
	})

	s.test(t, "activating an unknown version, or a version of an unknown function, is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		v := b.deployFor(t, "acme", "pricing", base, paid)
		for _, tc := range []struct {
			name    string
			version int
		}{
			{"pricing", 2},
			{"pricing", 0},
			{"nothing", 1},
		} {
			_, err := b.store.ActivateFunctionVersion(b.ctx, "acme", tc.name, tc.version, at(time.Hour))
			if code := outlet.ErrorCode(err); code != outlet.ENOTFOUND {
				t.Errorf("activating version %d of %q: error code %q; want %q", tc.version, tc.name, code, outlet.ENOTFOUND)
			}
		}
		wantFunction(t, b.getFunction(t, "acme", "pricing"), v, 1, base, base)
	})

	// Whatever is kept for a version outside the store (a warm engine) is
	// keyed by its uid and its tenant's, never by names a caller may reuse.
	s.test(t, "every deploy gets a new version uid carrying its tenant's uid, also when the function is deleted and the same code deployed again", func(t *testing.T, b *bundle) {
		tn := b.tenant(t, "acme")
		v1 := b.deploy(t, newVersion("acme", "pricing"), base)
		v2 := b.deploy(t, newVersion("acme", "pricing"), at(time.Minute))
		listed := b.versions(t, "acme", "pricing")
		check(t, b.store.DeleteFunction(b.ctx, "acme", "pricing"))
		v3 := b.deploy(t, sameCode(v1), at(time.Hour))
		wantEqual(t, "version of the same code deployed after the delete", v3.Version, 1)

		seen := map[string]bool{}
		for _, v := range []*outlet.FunctionVersion{v1, v2, v3} {
			if v.UID == "" || seen[v.UID] {
				t.Errorf("deploy at %v got uid %q; want a new one", v.CreatedAt, v.UID)
			}
			seen[v.UID] = true
			wantEqual(t, "tenant uid of a deploy", v.TenantUID, tn.UID)
		}
		got := b.getVersion(t, "acme", "pricing", 1)
		wantEqual(t, "read uid of version 1 after the delete", got.UID, v3.UID)
		wantEqual(t, "read tenant uid", got.TenantUID, tn.UID)

		// Listing reads no code, but still the uids.
		wantIDs(t, "listed versions", versionNumbers(listed), []string{"2", "1"})
		if len(listed) == 2 {
			wantEqual(t, "listed uid of version 2", listed[0].UID, v2.UID)
			wantEqual(t, "listed uid of version 1", listed[1].UID, v1.UID)
			wantEqual(t, "listed tenant uid", listed[1].TenantUID, tn.UID)
		}
	})

	s.test(t, "a version deployed by a tenant created again carries the new tenant's uid", func(t *testing.T, b *bundle) {
		old := b.tenant(t, "acme")
		b.declare(t, discount)
		before := b.deployServing(t, "acme", "pricing", base, discount)
		check(t, b.store.DeleteTenant(b.ctx, "acme"))
		again := b.tenant(t, "acme")
		after := b.deploy(t, sameCode(before), at(time.Hour))
		wantEqual(t, "version", after.Version, 1)
		wantEqual(t, "tenant uid of the new deploy", after.TenantUID, again.UID)
		if after.TenantUID == old.UID || after.UID == before.UID {
			t.Errorf("the new deploy carries uid %q of tenant %q; want neither the old version's %q nor the old tenant's %q",
				after.UID, after.TenantUID, before.UID, old.UID)
		}
		wantVersion(t, b.getVersion(t, "acme", "pricing", 0), after, true, true, at(time.Hour))
		served := b.hookFunctions(t, "acme", discount)
		if len(served) != 1 {
			t.Fatalf("%d functions serve the hook; want 1", len(served))
		}
		wantVersion(t, served[0], after, true, true, at(time.Hour))
	})

	s.test(t, "a version's source map reads back byte for byte wherever its code does, and a version without one reads back with none", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount)
		mapped := newVersion("acme", "pricing")
		mapped.Hooks = []string{discount}
		mapped.SourceMap = sourceMap("src/pricing.ts", strings.Repeat("// Zoë's \u0000 \"pricing\"\n", 1000))
		b.deploy(t, mapped, base)
		plain := newVersion("acme", "pricing")
		plain.SourceMap = nil
		b.deploy(t, plain, at(time.Minute))

		wantVersion(t, b.getVersion(t, "acme", "pricing", 1), mapped, false, true, base)
		wantVersion(t, b.getVersion(t, "acme", "pricing", 0), plain, true, true, at(time.Minute))
		if got := b.getVersion(t, "acme", "pricing", 2); len(got.SourceMap) != 0 {
			t.Errorf("source map of a version deployed without one = %q; want none", got.SourceMap)
		}
		b.activate(t, "acme", "pricing", 1, at(time.Hour))
		served := b.hookFunctions(t, "acme", discount)
		if len(served) != 1 {
			t.Fatalf("%d functions serve the hook; want 1", len(served))
		}
		wantVersion(t, served[0], mapped, true, true, base)
	})

	s.test(t, "deploying for an unknown tenant is ENOTFOUND", func(t *testing.T, b *bundle) {
		wantCode(t, b.store.DeployFunction(b.ctx, newVersion("nobody", "pricing"), base), outlet.ENOTFOUND)
		b.tenant(t, "nobody")
		wantIDs(t, "functions of a tenant created afterwards", functionNames(b.functions(t, "nobody")), []string{})
	})

	s.test(t, "a tenant's functions list in the order they were first deployed without other tenants'", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.deploy(t, newVersion("acme", "zeta"), base)
		b.deploy(t, newVersion("globex", "beta"), at(time.Minute))
		b.deploy(t, newVersion("acme", "alpha"), at(2*time.Minute))
		b.deploy(t, newVersion("acme", "zeta"), at(3*time.Minute)) // a redeploy doesn't move it
		b.deploy(t, newVersion("acme", "mid"), at(4*time.Minute))
		wantIDs(t, "acme's functions", functionNames(b.functions(t, "acme")), []string{"zeta", "alpha", "mid"})
		wantIDs(t, "globex's functions", functionNames(b.functions(t, "globex")), []string{"beta"})
		_, err := b.store.ListFunctions(b.ctx, "nobody")
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "functions first deployed in the same millisecond list in the order they were deployed", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.declare(t, discount)
		for _, name := range []string{"zeta", "alpha", "mid"} {
			b.deployServing(t, "acme", name, base, discount)
		}
		wantIDs(t, "functions", functionNames(b.functions(t, "acme")), []string{"zeta", "alpha", "mid"})
		wantIDs(t, "functions serving the hook", versionNames(b.hookFunctions(t, "acme", discount)), []string{"zeta@1", "alpha@1", "mid@1"})
	})

	s.test(t, "another tenant can't get, list, activate or delete a tenant's function", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.declare(t, discount)
		v1 := b.deployServing(t, "acme", "pricing", base, discount)
		v2 := b.deploy(t, newVersion("acme", "pricing"), at(time.Minute))
		for _, op := range []struct {
			name string
			do   func() error
		}{
			{"get", func() error {
				_, err := b.store.Function(b.ctx, "globex", "pricing")
				return err
			}},
			{"get a version", func() error {
				_, err := b.store.FunctionVersion(b.ctx, "globex", "pricing", 1)
				return err
			}},
			{"get the active version", func() error {
				_, err := b.store.FunctionVersion(b.ctx, "globex", "pricing", 0)
				return err
			}},
			{"list versions", func() error {
				_, err := b.store.ListFunctionVersions(b.ctx, "globex", "pricing")
				return err
			}},
			{"activate", func() error {
				_, err := b.store.ActivateFunctionVersion(b.ctx, "globex", "pricing", 1, at(time.Hour))
				return err
			}},
			{"delete", func() error { return b.store.DeleteFunction(b.ctx, "globex", "pricing") }},
		} {
			if code := outlet.ErrorCode(op.do()); code != outlet.ENOTFOUND {
				t.Errorf("%s by another tenant: error code %q; want %q", op.name, code, outlet.ENOTFOUND)
			}
		}
		wantIDs(t, "globex's functions", functionNames(b.functions(t, "globex")), []string{})
		wantEqual(t, "functions serving the hook for globex", len(b.hookFunctions(t, "globex", discount)), 0)
		wantFunction(t, b.getFunction(t, "acme", "pricing"), v2, 2, base, at(time.Minute))
		wantVersion(t, b.getVersion(t, "acme", "pricing", 1), v1, false, true, base)
	})

	s.test(t, "two tenants' functions of the same name are separate", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		ours := b.deployFor(t, "acme", "pricing", base, paid)
		b.deployFor(t, "globex", "pricing", at(time.Minute), "customer.*")
		theirs := b.deployFor(t, "globex", "pricing", at(2*time.Minute), "*")
		wantFunction(t, b.getFunction(t, "acme", "pricing"), ours, 1, base, base)
		wantFunction(t, b.getFunction(t, "globex", "pricing"), theirs, 2, at(time.Minute), at(2*time.Minute))
		check(t, b.store.DeleteFunction(b.ctx, "globex", "pricing"))
		wantFunction(t, b.getFunction(t, "acme", "pricing"), ours, 1, base, base)
	})

	s.test(t, "deleting a function deletes its versions, deliveries and invocations and nothing of another function's", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.deployFor(t, "acme", "pricing", base, paid)
		b.deployFor(t, "acme", "pricing", at(time.Minute), paid)
		b.deployFor(t, "acme", "audit", at(time.Minute), paid)
		ep := b.endpoint(t, "acme")
		ev := b.publish(t, newEvent("acme", paid, `{"amount":100}`, at(2*time.Minute))).Event
		gone := b.functionDelivery(t, "acme", "pricing", ev.ID)
		kept := b.functionDelivery(t, "acme", "audit", ev.ID)
		b.complete(t, at(3*time.Minute), noDisable, retrying(gone, at(3*time.Minute), at(time.Hour)), retrying(kept, at(3*time.Minute), at(time.Hour)))
		b.record(t, newInvocation("acme", "pricing", 2, at(3*time.Minute)), newInvocation("acme", "audit", 1, at(3*time.Minute)))

		check(t, b.store.DeleteFunction(b.ctx, "acme", "pricing"))

		_, err := b.store.Function(b.ctx, "acme", "pricing")
		wantCode(t, err, outlet.ENOTFOUND)
		for _, version := range []int{0, 1, 2} {
			_, err = b.store.FunctionVersion(b.ctx, "acme", "pricing", version)
			wantCode(t, err, outlet.ENOTFOUND)
		}
		_, err = b.store.Delivery(b.ctx, "acme", gone.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.ListAttempts(b.ctx, "acme", gone.ID)
		wantCode(t, err, outlet.ENOTFOUND)
		_, _, err = b.store.ListInvocations(b.ctx, "acme", "pricing", outlet.InvocationFilter{})
		wantCode(t, err, outlet.ENOTFOUND)
		wantIDs(t, "functions left", functionNames(b.functions(t, "acme")), []string{"audit"})
		wantEqual(t, "deliveries of the event left", len(b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID})), 2)
		wantEqual(t, "attempts of audit's delivery", len(b.attempts(t, kept)), 1)
		wantEqual(t, "audit's invocations", len(b.invocations(t, "acme", "audit", outlet.InvocationFilter{})), 1)
		b.getEvent(t, "acme", ev.ID)
		b.getEndpoint(t, ep)
		wantCode(t, b.store.DeleteFunction(b.ctx, "acme", "pricing"), outlet.ENOTFOUND)

		// Deployed again under its name, it starts afresh.
		v := b.deployFor(t, "acme", "pricing", at(time.Hour), paid)
		wantEqual(t, "version of a new deploy after the delete", v.Version, 1)
		wantFunction(t, b.getFunction(t, "acme", "pricing"), v, 1, at(time.Hour), at(time.Hour))
		wantIDs(t, "versions", versionNumbers(b.versions(t, "acme", "pricing")), []string{"1"})
		wantEqual(t, "deliveries of the new function", len(b.deliveries(t, "acme", outlet.DeliveryFilter{Function: "pricing"})), 0)
		wantEqual(t, "invocations of the new function", len(b.invocations(t, "acme", "pricing", outlet.InvocationFilter{})), 0)
	})

	s.test(t, "deleting an unknown function is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		wantCode(t, b.store.DeleteFunction(b.ctx, "acme", "nothing"), outlet.ENOTFOUND)
		wantCode(t, b.store.DeleteFunction(b.ctx, "nobody", "nothing"), outlet.ENOTFOUND)
	})

	// How versions bind to hooks: functionhooks.go.
	functionHookTests(t, s)
}
