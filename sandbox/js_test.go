package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/netguard"
)

// setup returns a Sandbox that may fetch from private networks (test servers
// live on 127.0.0.1) unless strict.
func setup(t *testing.T, strict bool, configure ...func(*Config)) *Sandbox {
	t.Helper()
	cfg := Config{Policy: netguard.Policy{AllowPrivate: !strict}}
	for _, f := range configure {
		f(&cfg)
	}
	s := New(cfg)
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// deploy prepares source as a version of a function of tenant.
func deploy(t *testing.T, s *Sandbox, tenant, runtime, source string) Function {
	t.Helper()
	fn := Function{Tenant: tenant, Name: "fn", Version: 1, Runtime: runtime, Code: []byte(source)}
	p, err := s.Prepare(context.Background(), fn, Limits{})
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	fn.Code, fn.SourceMap = p.Code, p.SourceMap
	fn.SHA256 = shaOf(p.Code)
	return fn
}

func shaOf(b []byte) string {
	v := outlet.FunctionVersion{Code: b}
	v.Seal()
	return v.SHA256
}

func run(s *Sandbox, fn Function, input string, lim Limits, secrets map[string]string) Result {
	return s.Run(context.Background(), Call{Function: fn, Input: json.RawMessage(input), Limits: lim, Secrets: secrets})
}

func TestAFunctionTransformsItsInputAndReadsItsSecrets(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `
		export default async function (event, ctx) {
			console.log("got", event.items.length, "items");
			console.warn({ careful: true });
			const total = event.items?.reduce((a, b) => a + b, 0);
			return { ...event, total: Number(total ?? 0), key: ctx.secrets.API_KEY.slice(0, 3), fn: ctx.function };
		}`)
	res := run(s, fn, `{"items":[1,2,3]}`, Limits{}, map[string]string{"API_KEY": "sk_live_123456"})
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	var out map[string]any
	json.Unmarshal(res.Output, &out)
	if out["key"] != "sk_" || out["fn"].(map[string]any)["name"] != "fn" || len(out["items"].([]any)) != 3 {
		t.Errorf("output %s", res.Output)
	}
	if res.Logs != "got 3 items\n[warn] {\"careful\":true}\n" {
		t.Errorf("logs %q", res.Logs)
	}
}

func TestTypeScriptAndModernJavaScriptRun(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	fn := deploy(t, s, "acme", outlet.RuntimeTypeScript, `
		interface Order { id: string; cents: bigint | number; tags?: string[] }
		class Discount {
			#rate: number
			constructor(rate: number) { this.#rate = rate }
			apply(o: Order): number { return Math.round(Number(o.cents) * (1 - this.#rate)) }
		}
		const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
		export default async (order: Order) => {
			await sleep(5)
			const big = 2n ** 64n
			return { id: order.id, cents: new Discount(0.1).apply(order), first: order.tags?.at(0) ?? null,
				big: big.toString(), grouped: Object.groupBy?.([1, 2, 3], (n) => n % 2 ? "odd" : "even") ?? null,
				last: [1, 2, 3].findLast((n) => n < 3) }
		}`)
	res := run(s, fn, `{"id":"o1","cents":1000,"tags":["a"]}`, Limits{}, nil)
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	var out map[string]any
	json.Unmarshal(res.Output, &out)
	if out["cents"] != 900.0 || out["first"] != "a" || out["big"] != "18446744073709551616" || out["last"] != 2.0 {
		t.Errorf("output %s", res.Output)
	}
}

func TestDeploysThatCantRunSayWhere(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	cases := []struct {
		name, runtime, source string
		line, col             int
		want                  string
	}{
		{"syntax error", outlet.RuntimeJavaScript, "export default function (e) {\n  return e +;\n}", 2, 13, "Unexpected"},
		{"type annotation in javascript", outlet.RuntimeJavaScript, "export default function (e: number) { return e }", 1, 27, "Expected"},
		{"typescript syntax error", outlet.RuntimeTypeScript, "export default (e: number) => {\n\n  return e as;\n}", 3, 14, "Unexpected"},
		{"an import", outlet.RuntimeJavaScript, "import lodash from 'lodash'\nexport default () => lodash", 0, 0, "bundle"},
		{"no default export", outlet.RuntimeJavaScript, "export const x = 1", 0, 0, "default export"},
		{"a default export that isn't a function", outlet.RuntimeJavaScript, "export default 42", 0, 0, "default export must be a function"},
		{"top-level code that throws", outlet.RuntimeJavaScript, "throw new Error('nope'); export default () => 1", 0, 0, "nope"},
	}
	for _, c := range cases {
		_, err := s.Prepare(context.Background(), Function{Tenant: "acme", Name: "fn", Version: 1, Runtime: c.runtime, Code: []byte(c.source)}, Limits{})
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v; want a CompileError", c.name, err)
			continue
		}
		if ce.Line != c.line || (c.line > 0 && ce.Column != c.col) || !strings.Contains(ce.Message, c.want) {
			t.Errorf("%s: %q at %d:%d; want %q at %d:%d", c.name, ce.Message, ce.Line, ce.Column, c.want, c.line, c.col)
		}
	}
}

func TestHostileCodeFailsWithinItsLimitsAndLeavesOthersServed(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	lim := Limits{Timeout: 2 * time.Second, MemoryMB: 32}
	// A case that must end by another limit than time gets a deadline long
	// enough for the race detector's slowness on a busy machine.
	otherLim := Limits{Timeout: 60 * time.Second, MemoryMB: 32}
	cases := []struct {
		name, body, code, want string
	}{
		{"infinite loop", "while (true) {}", CodeTimeout, ""},
		{"async function that never settles", "await new Promise(() => {})", CodeTimeout, "never settled"},
		{"timer past the deadline", "await new Promise((r) => setTimeout(r, 60000))", CodeTimeout, ""},
		{"array memory bomb", "const a = []; while (true) a.push(new Array(1e5).fill(1))", CodeMemoryLimit, ""},
		{"typed array memory bomb", "const a = []; while (true) a.push(new Float64Array(1e6))", CodeMemoryLimit, ""},
		{"object memory bomb", "const a = []; for (let i = 0; ; i++) a.push({ i, s: 'x' + i })", CodeMemoryLimit, ""},
		{"string doubling", "let s = 'x'; while (true) s += s", CodeMemoryLimit, ""},
		{"deep recursion", "const f = (n) => f(n + 1) + 1; f(0)", CodeRuntimeError, "stack overflow"},
		{"catastrophic regex", "return /(a+)+$/.test('a'.repeat(40) + '!')", CodeTimeout, ""},
		{"huge output", "return 'x'.repeat(2 << 20)", CodeRuntimeError, "limit"},
		{"reading process", "return process.env.HOME", CodeRuntimeError, "process"},
		{"calling require", "return require('fs').readFileSync('/etc/passwd', 'utf8')", CodeRuntimeError, "require"},
		{"fetch to loopback", "return (await fetch('http://127.0.0.1:8080/')).status", CodeRuntimeError, "can't connect to 127.0.0.1: it has no public address"},
		{"fetch to the metadata service", "return (await fetch('http://169.254.169.254/latest/meta-data/')).status", CodeRuntimeError, "can't connect to 169.254.169.254: it has no public address"},
		{"a thrown error", "throw new TypeError('bad input')", CodeRuntimeError, "TypeError: bad input"},
	}
	// Another tenant's function, called all along, keeps answering.
	healthy := deploy(t, s, "bystander", outlet.RuntimeJavaScript, `export default (e) => ({ ok: e.n })`)
	stop := make(chan struct{})
	var bystander sync.WaitGroup
	var served, failed int
	bystander.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			res := run(s, healthy, `{"n":1}`, Limits{Timeout: 2 * time.Second}, nil)
			if res.Error != nil || string(res.Output) != `{"ok":1}` {
				failed++
			} else {
				served++
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	for _, c := range cases {
		fn := deploy(t, s, "attacker", outlet.RuntimeJavaScript, "export default async function () {\n"+c.body+"\n}")
		l := lim
		if c.code != CodeTimeout {
			l = otherLim
		}
		start := time.Now()
		res := run(s, fn, `{}`, l, nil)
		took := time.Since(start)
		if res.Error == nil || res.Error.Code != c.code || !strings.Contains(res.Error.Message, c.want) {
			t.Errorf("%s: %+v; want %s mentioning %q", c.name, res.Error, c.code, c.want)
		}
		if took > l.Timeout+2*time.Second {
			t.Errorf("%s took %s; its limit is %s", c.name, took, lim.Timeout)
		}
	}
	close(stop)
	bystander.Wait()
	if failed > 0 || served == 0 {
		t.Errorf("the other tenant's function failed %d times and answered %d while the hostile code ran", failed, served)
	}
}

func TestSecretsAreMaskedInLogsAndErrors(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `export default (e, ctx) => {
		console.log("key is", ctx.secrets.TOKEN)
		throw new Error("failed with " + ctx.secrets.TOKEN)
	}`)
	res := run(s, fn, `{}`, Limits{}, map[string]string{"TOKEN": "tok_9f8e7d6c"})
	if strings.Contains(res.Logs+res.Error.Message, "tok_9f8e7d6c") {
		t.Errorf("a secret leaked: logs %q, error %q", res.Logs, res.Error.Message)
	}
	if !strings.Contains(res.Logs, "[secret TOKEN]") {
		t.Errorf("logs %q; want the secret masked by name", res.Logs)
	}
}

func TestLogsAreCappedAndSaySo(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `export default () => { for (let i = 0; i < 2000; i++) console.log("line", i); return 1 }`)
	res := run(s, fn, `{}`, Limits{MaxLogs: 1000}, nil)
	if res.Error != nil || len(res.Logs) > 1000 || !res.LogsTruncated {
		t.Errorf("error %v, %d bytes of logs, truncated %v; want at most 1000 and truncated", res.Error, len(res.Logs), res.LogsTruncated)
	}
}

func TestFetchGoesThroughThePolicyTheAllowListAndTheBudget(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("X-Token"))
		w.WriteHeader(201)
		w.Write([]byte(`{"hello":"` + r.Method + `"}`))
	}))
	t.Cleanup(srv.Close)
	s := setup(t, false)
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `export default async (e) => {
		const r = await fetch(e.url, { method: "POST", headers: { "X-Token": "t1" }, body: { a: 1 } })
		return { status: r.status, ok: r.ok, echo: r.headers.get("x-echo"), body: await r.json() }
	}`)
	res := run(s, fn, `{"url":"`+srv.URL+`"}`, Limits{}, nil)
	if res.Error != nil || string(res.Output) != `{"status":201,"ok":true,"echo":"t1","body":{"hello":"POST"}}` {
		t.Errorf("fetch: %s %v", res.Output, res.Error)
	}
	res = run(s, fn, `{"url":"`+srv.URL+`"}`, Limits{Fetch: FetchLimits{AllowedHosts: []string{"api.example.com"}}}, nil)
	if res.Error == nil || !strings.Contains(res.Error.Message, "allowed hosts") {
		t.Errorf("a host off the allow-list: %+v", res.Error)
	}
	many := deploy(t, s, "acme", outlet.RuntimeJavaScript, `export default async (e) => { for (let i = 0; i < 5; i++) await fetch(e.url); return 1 }`)
	res = run(s, many, `{"url":"`+srv.URL+`"}`, Limits{Fetch: FetchLimits{MaxRequests: 3}}, nil)
	if res.Error == nil || !strings.Contains(res.Error.Message, "3 requests") {
		t.Errorf("over the budget: %+v", res.Error)
	}
}

func TestNoVMIsSharedBetweenTenants(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	const src = `let calls = 0
		export default (e) => {
			calls++
			if (e.poison) Array.prototype.reduce = () => "poisoned"
			return { calls, sum: [1, 2].reduce((a, b) => a + b, 0) }
		}`
	a := deploy(t, s, "tenant-a", outlet.RuntimeJavaScript, src)
	b := deploy(t, s, "tenant-b", outlet.RuntimeJavaScript, src)
	for range 3 {
		run(s, a, `{"poison":true}`, Limits{}, nil)
	}
	res := run(s, b, `{}`, Limits{}, nil)
	if string(res.Output) != `{"calls":1,"sum":3}` {
		t.Errorf("tenant b got %s; its VM must be its own", res.Output)
	}
	// Within one version, module state survives warm calls, as documented.
	res = run(s, b, `{}`, Limits{}, nil)
	if string(res.Output) != `{"calls":2,"sum":3}` {
		t.Errorf("second call of tenant b got %s; want module state kept", res.Output)
	}
}

func TestATenantCantHoldMoreThanItsShareOfTheSandbox(t *testing.T) {
	t.Parallel()
	s := setup(t, false, func(c *Config) { c.TenantConcurrency = 2 })
	// The greedy tenant's calls wait inside this server until released, so
	// how many run at once is counted, not timed.
	var inside, most atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		inside.Add(-1)
		w.Write([]byte("done"))
	}))
	defer srv.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	greedy := deploy(t, s, "greedy", outlet.RuntimeJavaScript, `export default async (e) => (await fetch(e.url)).text()`)
	var wg sync.WaitGroup
	results := make([]Result, 4)
	for i := range results {
		wg.Go(func() { results[i] = run(s, greedy, `{"url":"`+srv.URL+`"}`, Limits{Timeout: time.Minute}, nil) })
	}
	for deadline := time.Now().Add(30 * time.Second); inside.Load() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of the greedy tenant's calls started", inside.Load())
		}
	}

	other := deploy(t, s, "patient", outlet.RuntimeJavaScript, `export default () => 2`)
	if res := run(s, other, `{}`, Limits{}, nil); res.Error != nil || string(res.Output) != "2" {
		t.Errorf("another tenant's call answered %s, %v while the greedy one held its share", res.Output, res.Error)
	}
	if n := inside.Load(); n != 2 {
		t.Errorf("the greedy tenant has %d calls running; its cap is 2", n)
	}
	close(release)
	released = true
	wg.Wait()
	for i, r := range results {
		if r.Error != nil || string(r.Output) != `"done"` {
			t.Errorf("greedy call %d answered %s, %v; want it to wait its turn and finish", i, r.Output, r.Error)
		}
	}
	if n := most.Load(); n != 2 {
		t.Errorf("the greedy tenant ran %d calls at once; its cap is 2", n)
	}
}

// BenchmarkJSCall is the engine's cost of one warm call of a trivial
// function with about 1 KB of JSON in and out.
func BenchmarkJSCall(b *testing.B) {
	s := New(Config{})
	defer s.Close(context.Background())
	fn := Function{Tenant: "bench", Name: "fn", Version: 1, Runtime: outlet.RuntimeJavaScript,
		Code: []byte(`export default (e) => ({ ...e, seen: true })`)}
	p, err := s.Prepare(context.Background(), fn, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	fn.Code, fn.SHA256 = p.Code, shaOf(p.Code)
	input := json.RawMessage(`{"id":"evt_1","items":[1,2,3],"pad":"` + strings.Repeat("x", 1000) + `"}`)
	call := Call{Function: fn, Input: input}
	if res := s.Run(context.Background(), call); res.Error != nil {
		b.Fatal(res.Error)
	}
	b.ResetTimer()
	for range b.N {
		if res := s.Run(context.Background(), call); res.Error != nil {
			b.Fatal(res.Error)
		}
	}
}

// BenchmarkJSFirstCall is the first call of a version nothing has warmed: a
// new VM, the module loaded, one call.
func BenchmarkJSFirstCall(b *testing.B) {
	s := New(Config{})
	defer s.Close(context.Background())
	src := `export default (e) => ({ ...e, seen: true })`
	p, err := s.Prepare(context.Background(), Function{Runtime: outlet.RuntimeJavaScript, Code: []byte(src)}, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	code := p.Code
	b.ResetTimer()
	for i := range b.N {
		fn := Function{Tenant: "bench", Name: "fn", Version: i + 1, Runtime: outlet.RuntimeJavaScript, Code: code, SHA256: shaOf(code)}
		if res := s.Run(context.Background(), Call{Function: fn, Input: json.RawMessage(`{"n":1}`)}); res.Error != nil {
			b.Fatal(res.Error)
		}
	}
}

func TestAReturnValueJSONCantHoldIsARuntimeError(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	for _, ret := range []string{"() => 1", "Symbol('x')"} {
		fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `export default () => `+ret)
		res := run(s, fn, `{}`, Limits{}, nil)
		if res.Error == nil || res.Error.Code != CodeRuntimeError || !strings.Contains(res.Error.Message, "JSON can't hold") {
			t.Errorf("returning %s: output %s, error %v; want a runtime_error saying JSON can't hold it", ret, res.Output, res.Error)
		}
	}
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `export default () => undefined`)
	if res := run(s, fn, `{}`, Limits{}, nil); res.Error != nil || string(res.Output) != "null" {
		t.Errorf("returning undefined: output %s, error %v; want null", res.Output, res.Error)
	}
}

func TestTimersPastTheLimitThrow(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `export default () => {
		let set = 0;
		try { for (let i = 0; i < 2000; i++) { setTimeout(() => {}, 60000); set++; } }
		catch (e) { return { set, error: e.name + ": " + e.message }; }
		return { set };
	}`)
	res := run(s, fn, `{}`, Limits{}, nil)
	want := `{"set":1000,"error":"RangeError: more than 1000 timers pending; clear some first"}`
	if res.Error != nil || string(res.Output) != want {
		t.Errorf("output %s, error %v; want %s", res.Output, res.Error, want)
	}
	_, err := s.Prepare(context.Background(), Function{Tenant: "acme", Name: "fn", Version: 2, Runtime: outlet.RuntimeJavaScript,
		Code: []byte(`setTimeout(() => {}, 1); export default () => 1`)}, Limits{})
	if err == nil || !strings.Contains(err.Error(), "module loads") {
		t.Errorf("a timer set while the module loads: %v; want an error saying timers can't be set then", err)
	}
}

func TestCtxSaysWhatTheCallIs(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `export default (e, ctx) => ({ ...ctx, secrets: Object.keys(ctx.secrets) })`)
	res := s.Run(context.Background(), Call{Function: fn, Input: json.RawMessage(`{}`), Secrets: map[string]string{"K": "v"},
		Meta: Meta{Tenant: "acme", Trigger: "event", EventID: "evt_1", DeliveryID: "dlv_1", Attempt: 2}})
	want := `{"tenant":"acme","trigger":"event","event_id":"evt_1","delivery_id":"dlv_1","attempt":2,"secrets":["K"],"function":{"name":"fn","version":1}}`
	if res.Error != nil || string(res.Output) != want {
		t.Errorf("ctx = %s (%v); want %s", res.Output, res.Error, want)
	}
}

// meterFunc is a Meter of one function.
type meterFunc func(tenant string, cpu time.Duration)

func (f meterFunc) ChargeCPU(tenant string, cpu time.Duration) { f(tenant, cpu) }

func TestWarmingAVMIsChargedToItsTenant(t *testing.T) {
	t.Parallel()
	charged := make(chan string, 16)
	s := setup(t, true, func(c *Config) {
		c.Meter = meterFunc(func(tenant string, cpu time.Duration) {
			if cpu > 0 {
				charged <- tenant
			}
		})
	})
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `for (let i = 0; i < 1e5; i++) {} export default () => 1`)
	if res := run(s, fn, `{}`, Limits{}, nil); res.Error != nil {
		t.Fatal(res.Error)
	}
	select {
	case tenant := <-charged:
		if tenant != "acme" {
			t.Errorf("warming was charged to %q; want acme", tenant)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("warming a VM charged no CPU to anyone")
	}
}
