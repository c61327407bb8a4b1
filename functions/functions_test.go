package functions

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/dispatch"
	"github.com/outlethq/outlet/internal/netguard"
	"github.com/outlethq/outlet/internal/secrets"
	"github.com/outlethq/outlet/sandbox"
	"github.com/outlethq/outlet/sqlite"
)

// bundle is a functions service on a real SQLite store and sandbox, with
// writes made through outlet.Watch as the API makes them, so the service
// hears of them.
type bundle struct {
	fns   *Service
	store outlet.Store // watched
	raw   *sqlite.Store
	sb    *sandbox.Sandbox
}

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	raw, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "outlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	sb := sandbox.New(sandbox.Config{Policy: netguard.Policy{}})
	t.Cleanup(func() { sb.Close(context.Background()) })
	box, err := secrets.NewBox(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	// A long cache life: anything seen fresh below was dropped by a change,
	// not by time.
	b := &bundle{raw: raw, sb: sb}
	b.fns = New(Config{Store: raw, Sandbox: sb, Secrets: box, CacheTTL: time.Hour})
	t.Cleanup(b.fns.Close)
	b.store = outlet.Watch(raw, b.fns.Forget)
	return b
}

func (b *bundle) tenant(t *testing.T, id string) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := b.store.CreateTenant(context.Background(), &outlet.Tenant{ID: id, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) hook(t *testing.T, name string) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := b.store.CreateHook(context.Background(), &outlet.Hook{Name: name, TimeoutMs: 5000, OnError: outlet.FailClosed, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

// deploy deploys JavaScript serving hooks, and says whether it was
// unchanged.
func (b *bundle) deploy(t *testing.T, tenant, name, code string, hooks ...string) (*outlet.FunctionVersion, bool) {
	t.Helper()
	v := &outlet.FunctionVersion{TenantID: tenant, Function: name, Runtime: outlet.RuntimeJavaScript, Code: []byte(code),
		Events: []string{}, Hooks: append([]string{}, hooks...)}
	unchanged, err := b.fns.Deploy(context.Background(), b.store, v)
	if err != nil {
		t.Fatalf("deploy %s: %v", name, err)
	}
	return v, unchanged
}

func (b *bundle) secret(t *testing.T, tenant, name, value string) {
	t.Helper()
	if _, err := b.store.PutSecret(context.Background(), tenant, name, b.fns.Seal(tenant, name, value), time.Now()); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) invoke(t *testing.T, tenant, hook string) *HookResult {
	t.Helper()
	r, err := b.fns.Invoke(context.Background(), tenant, hook, json.RawMessage(`{}`))
	if err != nil {
		t.Fatalf("invoke %s: %v", hook, err)
	}
	return r
}

func TestChangesMadeThroughTheWatchAreSeenAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenant(t, "acme")
	b.hook(t, "run")
	b.secret(t, "acme", "KEY", "first")
	b.deploy(t, "acme", "fn", `export default (i, ctx) => ctx.secrets.KEY`, "run")
	if r := b.invoke(t, "acme", "run"); string(r.Output) != `"first"` {
		t.Fatalf("%s %v", r.Output, r.Error)
	}
	b.secret(t, "acme", "KEY", "second")
	if r := b.invoke(t, "acme", "run"); string(r.Output) != `"second"` {
		t.Errorf("after the secret changed the function saw %s", r.Output)
	}
	b.deploy(t, "acme", "fn", `export default () => "v2"`, "run")
	if r := b.invoke(t, "acme", "run"); string(r.Output) != `"v2"` {
		t.Errorf("after a deploy the hook answered %s", r.Output)
	}
	if err := b.store.DeleteFunction(context.Background(), "acme", "fn"); err != nil {
		t.Fatal(err)
	}
	if r := b.invoke(t, "acme", "run"); r.ServedBy != ServedByPassthrough {
		t.Errorf("after the function was deleted the hook was served by %s", r.ServedBy)
	}
}

func TestWarmStateOfADeletedTenantOrFunctionIsGone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenant(t, "acme")
	b.hook(t, "run")
	// The module keeps the first secret it saw.
	code := `let kept; export default (i, ctx) => { kept ??= ctx.secrets.KEY ?? "none"; return kept }`
	b.secret(t, "acme", "KEY", "old-tenant")
	b.deploy(t, "acme", "memo", code, "run")
	b.invoke(t, "acme", "run")
	if err := b.store.DeleteTenant(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	if st := b.sb.WarmStats(); st.Engines[outlet.RuntimeJavaScript] != 0 {
		t.Errorf("%d engines of the deleted tenant stayed warm", st.Engines[outlet.RuntimeJavaScript])
	}
	b.tenant(t, "acme")
	b.deploy(t, "acme", "memo", code, "run")
	if r := b.invoke(t, "acme", "run"); string(r.Output) != `"none"` {
		t.Errorf("the tenant made again got %s; want nothing of the old one", r.Output)
	}

	// A secret deleted leaves no engine that kept it.
	b.secret(t, "acme", "KEY", "to-delete")
	b.deploy(t, "acme", "memo", `let kept; export default (i, ctx) => { kept ??= ctx.secrets.KEY ?? "none"; return kept + "" }`, "run")
	if r := b.invoke(t, "acme", "run"); string(r.Output) != `"to-delete"` {
		t.Fatalf("%s", r.Output)
	}
	if err := b.store.DeleteSecret(context.Background(), "acme", "KEY"); err != nil {
		t.Fatal(err)
	}
	if r := b.invoke(t, "acme", "run"); string(r.Output) != `"none"` {
		t.Errorf("after the secret was deleted the function still had %s", r.Output)
	}
}

func TestATenantMadeAgainOnAnotherNodeNeverGetsTheOldTenantsSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tenant(t, "acme")
	b.secret(t, "acme", "KEY", "old")
	v, _ := b.deploy(t, "acme", "fn", `export default () => 1`)
	if env, err := b.fns.env(ctx, "acme", v.TenantUID); err != nil || env.secrets["KEY"] != "old" {
		t.Fatal(env, err)
	}
	// Deleted and made again through another node: this node's cache still
	// holds the old tenant's secrets.
	if err := b.raw.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := b.raw.CreateTenant(ctx, &outlet.Tenant{ID: "acme", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.raw.PutSecret(ctx, "acme", "KEY", b.fns.Seal("acme", "KEY", "new"), now); err != nil {
		t.Fatal(err)
	}
	fresh, err := b.raw.Tenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	env, err := b.fns.env(ctx, "acme", fresh.UID)
	if err != nil || env.secrets["KEY"] != "new" {
		t.Errorf("a version of the tenant made again got secrets %v (%v); want the new tenant's", env, err)
	}
	// And a version of the old tenant, still cached somewhere, gets nothing.
	if _, err := b.fns.env(ctx, "acme", v.TenantUID); outlet.ErrorCode(err) != outlet.ENOTFOUND {
		t.Errorf("a version of the deleted tenant: %v; want ENOTFOUND", err)
	}
}

func TestDeployingTheActiveVersionAgainChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenant(t, "acme")
	b.hook(t, "run")
	v1, unchanged := b.deploy(t, "acme", "fn", `export default () => 1`, "run")
	if unchanged || v1.Version != 1 {
		t.Fatalf("first deploy: version %d, unchanged %v", v1.Version, unchanged)
	}
	again, unchanged := b.deploy(t, "acme", "fn", `export default () => 1`, "run")
	if !unchanged || again.Version != 1 || again.UID != v1.UID {
		t.Errorf("the same deploy again made version %d (unchanged %v)", again.Version, unchanged)
	}
	for _, tc := range []struct {
		name, code string
		hooks      []string
	}{
		{"other code", `export default () => 2`, []string{"run"}},
		{"other bindings", `export default () => 2`, nil},
	} {
		if v, unchanged := b.deploy(t, "acme", "fn", tc.code, tc.hooks...); unchanged {
			t.Errorf("%s: answered the active version %d unchanged", tc.name, v.Version)
		}
	}
}

func TestATestRunSeesTheCtxOfWhatItStandsFor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenant(t, "acme")
	b.hook(t, "run")
	b.deploy(t, "acme", "fn", `export default (i, ctx) => ({ trigger: ctx.trigger, hook: ctx.hook ?? null, test: ctx.test,
		event: typeof ctx.event_id, attempt: ctx.attempt ?? null, tenant: ctx.tenant })`)
	for _, tc := range []struct {
		name string
		run  TestRun
		want string
	}{
		{"at a hook", TestRun{Input: json.RawMessage(`{}`), Hook: "run", HookTimeout: time.Second},
			`{"trigger":"hook","hook":"run","test":true,"event":"undefined","attempt":null,"tenant":"acme"}`},
		{"on an event", TestRun{Input: EventBody("invoice.paid", json.RawMessage(`{}`), time.Now()), Event: true},
			`{"trigger":"event","hook":null,"test":true,"event":"string","attempt":1,"tenant":"acme"}`},
	} {
		res, err := b.fns.Test(context.Background(), "acme", "fn", tc.run)
		if err != nil || res.Error != nil || string(res.Output) != tc.want {
			t.Errorf("%s: %s %v %v; want %s", tc.name, res.Output, res.Error, err, tc.want)
		}
	}
}

func TestDeployIsBilledAndBoundedByTheVersionsLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenant(t, "acme")
	v := &outlet.FunctionVersion{TenantID: "acme", Function: "spin", Runtime: outlet.RuntimeJavaScript, Events: []string{}, Hooks: []string{},
		Code: []byte("while (true) {}\nexport default () => 1"), Limits: outlet.FunctionLimits{TimeoutMs: 200}}
	start := time.Now()
	_, err := b.fns.Deploy(context.Background(), b.store, v)
	if outlet.ErrorCode(err) != outlet.EINVALID || !strings.Contains(outlet.ErrorMessage(err), "time limit of") {
		t.Errorf("a module spinning at its top level: %v; want EINVALID naming the time limit", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the deploy took %s; the version's limit is 200ms", took)
	}
	if _, err := b.raw.Function(context.Background(), "acme", "spin"); outlet.ErrorCode(err) != outlet.ENOTFOUND {
		t.Errorf("a deploy that failed stored something: %v", err)
	}
}

func TestASecretChangedThroughAnotherNodeRetiresThisNodesWarmEngines(t *testing.T) {
	t.Parallel()
	a := setup(t) // the node the change goes through
	// Node b shares a's store, with a sandbox of its own and a short cache.
	sb := sandbox.New(sandbox.Config{Policy: netguard.Policy{}})
	t.Cleanup(func() { sb.Close(context.Background()) })
	box, _ := secrets.NewBox(make([]byte, secrets.KeySize))
	b := New(Config{Store: a.raw, Sandbox: sb, Secrets: box, CacheTTL: 50 * time.Millisecond})
	t.Cleanup(b.Close)

	a.tenant(t, "acme")
	a.hook(t, "run")
	a.secret(t, "acme", "TOKEN", "old-token")
	a.deploy(t, "acme", "memo", `let kept; export default (i, ctx) => { kept ??= ctx.secrets.TOKEN ?? "none"; return kept }`, "run")
	invokeB := func() string {
		r, err := b.Invoke(context.Background(), "acme", "run", json.RawMessage(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Output)
	}
	if got := invokeB(); got != `"old-token"` {
		t.Fatalf("node b answered %s", got)
	}
	if err := a.store.DeleteSecret(context.Background(), "acme", "TOKEN"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for invokeB() != `"none"` {
		if time.Now().After(deadline) {
			t.Fatal("node b's warm engine kept the deleted secret long past its cache's time to live")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runsSeen is a RunWatcher that writes down what it is told.
type runsSeen struct {
	mu  sync.Mutex
	got []string
}

func (r *runsSeen) FunctionRan(tenantID, function, eventType, errCode, errMsg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, strings.Join([]string{tenantID, function, eventType, errCode, errMsg}, "|"))
}

func TestEveryRunAtAHookOrOnAnEventIsToldTestRunsAreNot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seen := &runsSeen{}
	b.fns.cfg.Runs = seen
	b.tenant(t, "acme")
	b.hook(t, "checkout")
	b.deploy(t, "acme", "pricing", `export default (i) => { if (i.fail || (i.data && i.data.fail)) throw new Error("no price"); return i }`, "checkout")

	b.invoke(t, "acme", "checkout")
	if _, err := b.fns.Invoke(context.Background(), "acme", "checkout", json.RawMessage(`{"fail":true}`)); err != nil {
		t.Fatal(err)
	}
	run := b.fns.RunEvent(context.Background(), dispatch.EventRun{TenantID: "acme", Function: "pricing", EventID: "evt_1", EventType: "invoice.paid",
		DeliveryID: "dlv_1", Attempt: 1, Body: EventBody("invoice.paid", json.RawMessage(`{"fail":true}`), time.Now())})
	if run.ErrCode != sandbox.CodeRuntimeError {
		t.Fatalf("the run on the event: %+v; want a runtime_error", run)
	}
	if _, err := b.fns.Test(context.Background(), "acme", "pricing", TestRun{Input: json.RawMessage(`{"fail":true}`), Hook: "checkout", HookTimeout: time.Second}); err != nil {
		t.Fatal(err)
	}

	seen.mu.Lock()
	defer seen.mu.Unlock()
	want := []string{
		"acme|pricing|||",
		"acme|pricing||runtime_error|Error: no price",
		"acme|pricing|invoice.paid|runtime_error|Error: no price",
	}
	if len(seen.got) != len(want) {
		t.Fatalf("the watcher was told %q; want %q", seen.got, want)
	}
	for i := range want {
		if !strings.HasPrefix(seen.got[i], want[i]) {
			t.Errorf("run %d was told as %q; want %q…", i, seen.got[i], want[i])
		}
	}
}
