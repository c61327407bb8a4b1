package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func TestJSOutputIsCheckedAndTheBootstrapIsOutOfReach(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	for _, tc := range []struct {
		name, body string
		want       string // the output; "" when the call must fail
		code       string
	}{
		{"JSON.stringify replaced to answer nothing", `JSON.stringify = () => ""; return { a: 1 }`, `{"a":1}`, ""},
		{"JSON.stringify replaced to answer what isn't JSON", `JSON.stringify = () => "{"; return { a: 1 }`, `{"a":1}`, ""},
		{"Promise.prototype.then replaced", `Promise.prototype.then = function (ok) { ok("not json {") }; return { a: 1 }`, `{"a":1}`, ""},
		{"no host internals on the global object", `return Object.getOwnPropertyNames(globalThis).filter((k) => k.includes("outlet"))`, `[]`, ""},
		{"a toJSON that answers nothing", `return { toJSON() { return undefined } }`, "", CodeRuntimeError},
		{"a toJSON that throws", `return { toJSON() { throw new Error("no") } }`, "", CodeRuntimeError},
	} {
		fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, "export default async function () {\n"+tc.body+"\n}")
		// Twice: a VM whose module tampered with its world serves the next
		// call the same way.
		for i := range 2 {
			res := run(s, fn, `{}`, Limits{}, nil)
			switch {
			case tc.code != "" && (res.Error == nil || res.Error.Code != tc.code):
				t.Errorf("%s (call %d): %s, %v; want %s", tc.name, i, res.Output, res.Error, tc.code)
			case tc.code == "" && (res.Error != nil || string(res.Output) != tc.want):
				t.Errorf("%s (call %d): %s, %v; want %s", tc.name, i, res.Output, res.Error, tc.want)
			case res.Error == nil && !json.Valid(res.Output):
				t.Errorf("%s (call %d): the output %q is not JSON", tc.name, i, res.Output)
			}
		}
	}
}

func TestGetRandomValuesFillsUpToItsQuotaAndRefusesMore(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `export default () => {
		const a = crypto.getRandomValues(new Uint8Array(65536));
		let zeros = 0; for (let i = 65536 - 4096; i < 65536; i++) if (a[i] === 0) zeros++;
		const refused = (arr) => { try { crypto.getRandomValues(arr); return null } catch (e) { return e.name } };
		const big = new BigUint64Array(4); crypto.getRandomValues(big);
		return { zerosInTheLast4K: zeros, tooMany: refused(new Uint8Array(65537)), floats: refused(new Float64Array(4)),
			bigints: big.some((x) => x !== 0n), uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()) };
	}`)
	res := run(s, fn, `{}`, Limits{}, nil)
	var out struct {
		Zeros   int    `json:"zerosInTheLast4K"`
		TooMany string `json:"tooMany"`
		Floats  string `json:"floats"`
		BigInts bool   `json:"bigints"`
		UUID    bool   `json:"uuid"`
	}
	if res.Error != nil || json.Unmarshal(res.Output, &out) != nil {
		t.Fatalf("%s, %v", res.Output, res.Error)
	}
	// 4,096 random bytes hold about 16 zeros; a zero-filled tail, 4,096.
	if out.Zeros > 64 || out.TooMany != "QuotaExceededError" || out.Floats != "TypeMismatchError" || !out.BigInts || !out.UUID {
		t.Errorf("got %+v; want the whole array filled, QuotaExceededError past 65,536 bytes, TypeMismatchError for floats, a v4 UUID", out)
	}
}

func TestJSRecursionIsBoundedByBytesAsWellAsFrames(t *testing.T) {
	t.Parallel()
	s := setup(t, true, func(c *Config) { c.Defaults.MemoryMB = 2 })
	// A function with 800 locals takes 12.8 KB of the engine's stack a
	// call: at 5,000 frames that would be 64 MB, outside the 2 MiB memory
	// limit (with 60,000 locals, 5 GB).
	const locals = 800
	var b strings.Builder
	b.WriteString("function f(n) {\n")
	for i := range locals {
		fmt.Fprintf(&b, "let a%d = n;", i)
	}
	fmt.Fprintf(&b, "\nreturn f(n + 1) + a0 + a%d }\nexport default () => f(0)\n", locals-1)
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, b.String())
	vm, err := newJSVM(fn, s.limits(Limits{}), s.fetch)
	if err != nil {
		t.Fatal(err)
	}
	lim := s.limits(Limits{})
	if largest := jsLargestFrame(vm.vm); largest < locals*16 {
		t.Errorf("the largest frame reads as %d bytes; the function has %d locals of 16 bytes", largest, locals)
	}
	if frames := jsFrameBound(vm.vm, lim); uint64(frames)*locals*16 > jsStackBytes(lim) {
		t.Errorf("%d frames of %d KB are allowed; the stack share is %d bytes", frames, locals*16>>10, jsStackBytes(lim))
	}
	if heap := vm.heapBytes(); heap < 64<<10 {
		t.Errorf("the VM's heap reads as %d bytes; it holds a module of %d locals", heap, locals)
	}
	vm.close()
	res := run(s, fn, `{}`, Limits{}, nil)
	if res.Error == nil || res.Error.Code != CodeRuntimeError || !strings.Contains(res.Error.Message, "stack overflow") {
		t.Errorf("unbounded recursion of a large frame: %v; want a stack overflow", res.Error)
	}
	// Small frames go deep: 500 deep in the same 2 MiB, and the full
	// 5,000 frames at the default 64 MiB.
	small := deploy(t, s, "acme", outlet.RuntimeJavaScript, `const f = (n) => n === 0 ? 0 : 1 + f(n - 1); export default (e) => f(e.n)`)
	if res := run(s, small, `{"n":500}`, Limits{}, nil); res.Error != nil || string(res.Output) != "500" {
		t.Errorf("recursion 500 deep of a small function in 2 MiB: %s, %v", res.Output, res.Error)
	}
	if res := run(s, small, `{"n":4500}`, Limits{MemoryMB: 64}, nil); res.Error != nil || string(res.Output) != "4500" {
		t.Errorf("recursion 4,500 deep of a small function in 64 MiB: %s, %v", res.Output, res.Error)
	}
}

func TestWarmJSEnginesStayWithinTheNodesBudgetAndEachTenantsShare(t *testing.T) {
	t.Parallel()
	const budget, share = 6 << 20, 3 << 20
	s := setup(t, true, func(c *Config) { c.WarmMemory, c.TenantWarmMemory = budget, share })
	// Each function holds 1 MiB in module scope, as a cache might.
	var fns []Function
	for i := range 8 {
		tenant := []string{"greedy", "other"}[i%2]
		fn := deploy(t, s, tenant, outlet.RuntimeJavaScript, `const cache = "x".repeat(1 << 20); export default () => cache.length`)
		fn.Name = fmt.Sprintf("fn%d", i)
		fns = append(fns, fn)
	}
	for _, fn := range fns {
		if res := run(s, fn, `{}`, Limits{}, nil); res.Error != nil || string(res.Output) != "1048576" {
			t.Fatalf("%s: %s, %v", fn.Name, res.Output, res.Error)
		}
	}
	waitWarm(t, s)
	st := s.WarmStats()
	if st.Bytes[outlet.RuntimeJavaScript] > budget || st.Engines[outlet.RuntimeJavaScript] == 0 {
		t.Errorf("warm JS engines hold %d MiB in %d engines; the budget is %d MiB", st.Bytes[outlet.RuntimeJavaScript]>>20,
			st.Engines[outlet.RuntimeJavaScript], budget>>20)
	}
	s.warm.mu.Lock()
	for tenant, held := range s.warm.byTenant {
		if held > share {
			t.Errorf("tenant %s holds %d MiB warm; its share is %d MiB", tenant, held>>20, share>>20)
		}
	}
	for el := s.warm.lru.Front(); el != nil; el = el.Next() {
		if e := el.Value.(*warmEntry); e.size < 1<<20 {
			t.Errorf("a warm VM holding a 1 MiB string counts %d bytes", e.size)
		}
	}
	s.warm.mu.Unlock()
}

// waitWarm waits for engines being warmed in the background to be kept.
func waitWarm(t *testing.T, s *Sandbox) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		n := len(s.warming)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("engines were still warming after 30s")
		}
	}
}

func TestDeployRunsTheModuleWithinTheFunctionsOwnLimits(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	charged := map[string]time.Duration{}
	s := setup(t, true, func(c *Config) {
		c.TenantConcurrency = 1
		c.Defaults.MemoryMB = 1
		c.Meter = meterFunc(func(tenant string, cpu time.Duration) {
			mu.Lock()
			charged[tenant] += cpu
			mu.Unlock()
		})
	})
	prepare := func(tenant, src string, lim Limits) error {
		_, err := s.Prepare(context.Background(), Function{Tenant: tenant, Name: "fn", Version: 1, Runtime: outlet.RuntimeJavaScript, Code: []byte(src)}, lim)
		return err
	}
	// Top-level code that spins stops at the function's own time limit.
	spin := `const end = Date.now() + 60000; while (Date.now() < end) {} export default () => 1`
	start := time.Now()
	err := prepare("spinner", spin, Limits{Timeout: 300 * time.Millisecond})
	var ce *CompileError
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "time limit of") {
		t.Errorf("a module spinning at its top level: %v; want a CompileError naming the time limit", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the deploy of a spinning module took %s; its limit is 300ms", took)
	}
	mu.Lock()
	if charged["spinner"] < 100*time.Millisecond {
		t.Errorf("the spinning deploy charged %s of CPU to its tenant", charged["spinner"])
	}
	mu.Unlock()

	// Memory at the top level counts against the function's own limit,
	// not the operator's default (1 MiB here).
	big := `const keep = "x".repeat(2 << 20); export default () => keep.length`
	if err := prepare("acme", big, Limits{MemoryMB: 8}); err != nil {
		t.Errorf("a module keeping 2 MiB with memory_mb 8: %v", err)
	}
	if err := prepare("acme", big, Limits{MemoryMB: 1}); !errors.As(err, &ce) || !strings.Contains(ce.Message, "memory limit of 1 MiB") {
		t.Errorf("the same module with memory_mb 1: %v; want a CompileError naming the limit", err)
	}

	// A deploy takes one of its tenant's slots: with one slot, a call made
	// while a deploy spins waits for it.
	done := make(chan error, 1)
	go func() { done <- prepare("busy", spin, Limits{Timeout: 2 * time.Second}) }()
	taken := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.tenants["busy"]) > 0
	}
	for deadline := time.Now().Add(10 * time.Second); !taken(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the deploy never took a slot")
		}
	}
	quick := deploy(t, s, "other", outlet.RuntimeJavaScript, `export default () => 1`)
	quick.Tenant = "busy"
	res := run(s, quick, `{}`, Limits{Timeout: 200 * time.Millisecond}, nil)
	if res.Error == nil || res.Error.Code != CodeTimeout || !strings.Contains(res.Error.Message, "other invocations of this tenant") {
		t.Errorf("a call while the tenant's only slot deploys: %v; want a timeout waiting for the slot", res.Error)
	}
	<-done
}

func TestErrorsPointAtTheCustomersSource(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	ts := "interface Cart { total: number }\n\nfunction check(c: Cart): number {\n  if (c.total < 0) {\n    throw new Error(\"negative total\")\n  }\n  return c.total\n}\n\nexport default (c: Cart) => check(c)\n"
	fn := deploy(t, s, "acme", outlet.RuntimeTypeScript, ts)
	res := run(s, fn, `{"total":-1}`, Limits{}, nil)
	if res.Error == nil || !strings.Contains(res.Error.Message, "function.ts:5:") || strings.Contains(res.Error.Message, "function.js:") {
		t.Errorf("a TypeScript error: %v; want its stack to name function.ts line 5", res.Error)
	}
	logged := deploy(t, s, "acme", outlet.RuntimeTypeScript, "export default () => {\n  try { null.x } catch (e) { console.log(e) }\n  return 1\n}\n")
	if res := run(s, logged, `{}`, Limits{}, nil); !strings.Contains(res.Logs, "function.ts:2:") {
		t.Errorf("a logged error's stack %q; want it to name function.ts line 2", res.Logs)
	}

	// A bundle names the files it was built from.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.ts"), []byte("import { check } from './lib/check'\nexport default (c: any) => check(c)\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
	os.WriteFile(filepath.Join(dir, "lib", "check.ts"), []byte("// checks\n\nexport function check(c: any) {\n  throw new Error('bad cart ' + c.id)\n}\n"), 0o644)
	bundle, err := Bundle(dir, "index.ts")
	if err != nil {
		t.Fatal(err)
	}
	fn = deploy(t, s, "acme", outlet.RuntimeJavaScript, string(bundle))
	res = run(s, fn, `{"id":"c1"}`, Limits{}, nil)
	if res.Error == nil || !strings.Contains(res.Error.Message, "lib/check.ts:4:") {
		t.Errorf("an error in a bundle: %v; want it to name lib/check.ts line 4", res.Error)
	}
}

func TestNoCodeIsMadeFromStringsAndBindCopiesNothingOntoTheStack(t *testing.T) {
	t.Parallel()
	s := setup(t, true, func(c *Config) { c.Defaults.MemoryMB = 16 })
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `export default (i) => {
		const refused = (f) => { try { f(); return "ran" } catch (e) { return e.name } };
		const add = function (a, b) { return this.base + a + b };
		const bound = add.bind({ base: 1 }, 2);
		class P { constructor(x) { this.x = x } }
		const BP = P.bind(null, 7);
		return {
			eval: refused(() => eval("1 + 1")),
			indirect: refused(() => (0, eval)("1 + 1")),
			fn: refused(() => new Function("return 1")),
			ctor: refused(() => (function () {}).constructor("return 1")),
			async: refused(() => (async () => {}).constructor("return 1")),
			gen: refused(() => (function* () {}).constructor("yield 1")),
			instance: (() => {}) instanceof Function,
			bound: bound(3), name: bound.name, length: bound.length, constructed: new BP().x, isP: new BP() instanceof P,
		};
	}`)
	res := run(s, fn, `{}`, Limits{}, nil)
	want := `{"eval":"EvalError","indirect":"EvalError","fn":"EvalError","ctor":"EvalError","async":"EvalError","gen":"EvalError","instance":true,"bound":6,"name":"bound add","length":1,"constructed":7,"isP":true}`
	if res.Error != nil || string(res.Output) != want {
		t.Errorf("got %s %v; want %s", res.Output, res.Error, want)
	}
	// A function bound with many arguments, called deep: the engine's own
	// bound functions copy them onto its stack at every call, outside the
	// heap (1,000 × 160 KB here); bound by bind, they count in the heap.
	deep := deploy(t, s, "acme", outlet.RuntimeJavaScript, `export default () => {
		let depth = 0;
		const target = function () { return ++depth >= 1000 ? depth : bound() };
		const bound = target.bind(null, ...new Array(10000).fill(0));
		return bound();
	}`)
	res = run(s, deep, `{}`, Limits{}, nil)
	if res.Error == nil || (res.Error.Code != CodeMemoryLimit && !strings.Contains(res.Error.Message, "stack overflow")) {
		t.Errorf("1,000 nested calls of a function bound with 10,000 arguments in 16 MiB: %s %v; want the memory limit", res.Output, res.Error)
	}
}

func TestWarmingAVMTakesTheTenantsSlotsLikeACall(t *testing.T) {
	t.Parallel()
	s := setup(t, true, func(c *Config) { c.TenantConcurrency = 2 })
	// A module whose top level spins, and a handler that fails, so each call
	// discards its VM and warming another would run the module again.
	src := `const end = Date.now() + 300; while (Date.now() < end) {} export default () => { throw new Error("on purpose") }`
	var fns []Function
	for i := range 6 {
		fn := deploy(t, s, "greedy", outlet.RuntimeJavaScript, src)
		fn.Name = fmt.Sprintf("f%d", i)
		fns = append(fns, fn)
	}
	for _, fn := range fns {
		run(s, fn, `{}`, Limits{}, nil)
		s.mu.Lock()
		if len(s.tenants["greedy"]) > 2 {
			t.Errorf("the tenant holds %d slots; it has 2", len(s.tenants["greedy"]))
		}
		s.mu.Unlock()
	}
	// Each warming holds a slot while it runs: never more going at once
	// than the tenant's two.
	s.mu.Lock()
	if n := len(s.warming); n > 2 {
		t.Errorf("%d module evaluations are warming at once; the tenant may run 2", n)
	}
	s.mu.Unlock()
	waitWarm(t, s)
}
