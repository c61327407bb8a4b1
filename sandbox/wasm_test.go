package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/netguard"
)

// wasmPlugin is testdata/wasmplugin built with the Extism Go PDK, once per
// test binary.
func wasmPlugin(t testing.TB) []byte {
	t.Helper()
	wasmBuilt.Do(func() {
		dir, err := os.MkdirTemp("", "wasmplugin")
		if err != nil {
			wasmBuilt.err = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "plugin.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, ".")
		cmd.Dir = filepath.Join("testdata", "wasmplugin")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			wasmBuilt.err = fmt.Errorf("build the test plugin: %v\n%s", err, msg)
			return
		}
		wasmBuilt.code, wasmBuilt.err = os.ReadFile(out)
	})
	if wasmBuilt.err != nil {
		t.Fatal(wasmBuilt.err)
	}
	return wasmBuilt.code
}

var wasmBuilt struct {
	sync.Once
	code []byte
	err  error
}

// wasmEngines are shared by the tests, one per network policy: compiling the
// Go-built plugin takes seconds, and an engine compiles it once.
var wasmEngines struct {
	sync.Mutex
	strict, private *wasmEngine
}

// wasmPool is the warm pool the test engines' calls share.
var wasmPool = newWarmPool(DefaultWarmMemory, DefaultWarmMemory, DefaultMaxIdle)

// compile compiles fn as a deploy does and returns what is wrong with it.
func (e *wasmEngine) compile(ctx context.Context, fn Function) error {
	c, err := e.compiledFor(ctx, fn)
	if err != nil {
		return err
	}
	return c.err
}

// wasmTestEngine is an engine whose fetcher may reach private networks (test
// servers live on 127.0.0.1) unless strict.
func wasmTestEngine(strict bool) *wasmEngine {
	wasmEngines.Lock()
	defer wasmEngines.Unlock()
	e := &wasmEngines.private
	if strict {
		e = &wasmEngines.strict
	}
	if *e == nil {
		*e = newWasmEngine(newFetcher(netguard.Policy{AllowPrivate: !strict}), "", nil)
	}
	return *e
}

// wasmTenant is a tenant name no other test (or run of this one, with
// -count) uses: the test engines, and their warm instances, are shared.
func wasmTenant(name string) string {
	return fmt.Sprintf("%s-%d", name, wasmTenants.Add(1))
}

var wasmTenants atomic.Int64

// wasmDeploy compiles code as version 1 of tenant's function, as a deploy does.
func wasmDeploy(t testing.TB, e *wasmEngine, tenant string, code []byte) Function {
	t.Helper()
	sum := sha256.Sum256(code)
	fn := Function{Tenant: tenant, Name: "fn", Version: 1, Runtime: outlet.RuntimeWasm, Code: code, SHA256: hex.EncodeToString(sum[:])}
	if err := e.compile(context.Background(), fn); err != nil {
		t.Fatalf("compile: %v", err)
	}
	return fn
}

type wasmOutcome struct {
	out  json.RawMessage
	err  *Error
	logs string
	took time.Duration
}

// wasmInvoke makes one invocation as the Sandbox does: limits filled in, a
// context that ends at the deadline, fresh logs and fetch budget.
func wasmInvoke(e *wasmEngine, fn Function, input string, lim Limits, secrets map[string]string) wasmOutcome {
	lim = lim.withDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), lim.Timeout)
	defer cancel()
	logs := &logBuffer{max: lim.MaxLogs, mask: masker(secrets)}
	start := time.Now()
	call := Call{Function: fn, Input: json.RawMessage(input), Secrets: secrets, Limits: lim}
	out, err := e.run(ctx, call, lim, logs, &fetchBudget{limits: lim.Fetch}, wasmPool)
	return wasmOutcome{out: out, err: err, logs: logs.b.String(), took: time.Since(start)}
}

func TestWasmPluginTransformsItsInputAndReadsItsSecrets(t *testing.T) {
	t.Parallel()
	e := wasmTestEngine(false)
	fn := wasmDeploy(t, e, "acme", wasmPlugin(t))
	secrets := map[string]string{"API_KEY": "sk_live_123456"}

	res := wasmInvoke(e, fn, `{"do":"transform","items":[1,2,3,4]}`, Limits{}, secrets)
	if res.err != nil {
		t.Fatal(res.err)
	}
	var out struct {
		Total, Count int
		Input        struct{ Do string }
	}
	if err := json.Unmarshal(res.out, &out); err != nil || out.Total != 10 || out.Count != 4 || out.Input.Do != "transform" {
		t.Errorf("output %s", res.out)
	}

	res = wasmInvoke(e, fn, `{"do":"secret","key":"API_KEY"}`, Limits{}, secrets)
	if res.err != nil || string(res.out) != `{"found":true,"value":"sk_live_123456"}` {
		t.Errorf("reading a secret: %s, %v", res.out, res.err)
	}
	res = wasmInvoke(e, fn, `{"do":"secret","key":"MISSING"}`, Limits{}, secrets)
	if res.err != nil || string(res.out) != `{"found":false,"value":""}` {
		t.Errorf("reading a secret that isn't set: %s, %v", res.out, res.err)
	}
	res = wasmInvoke(e, fn, `{"do":"nothing"}`, Limits{}, nil)
	if res.err != nil || string(res.out) != "null" {
		t.Errorf("a plugin that sets no output answers null: %s, %v", res.out, res.err)
	}
}

func TestWasmLogsAreCapturedByLevelWithStdoutAndStderr(t *testing.T) {
	t.Parallel()
	e := wasmTestEngine(false)
	fn := wasmDeploy(t, e, "acme", wasmPlugin(t))
	res := wasmInvoke(e, fn, `{"do":"log"}`, Limits{}, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := "an info line\n[warn] a warning\n[error] an error line\nto stdout\n[error] to stderr\n[error] and a partial line\n"
	if res.logs != want {
		t.Errorf("logs %q, want %q (debug is below the level the host asks for)", res.logs, want)
	}
}

func TestWasmSecretsAreMaskedInLogs(t *testing.T) {
	t.Parallel()
	e := wasmTestEngine(false)
	fn := wasmDeploy(t, e, "acme", wasmPlugin(t))
	secrets := map[string]string{"API_KEY": "sk_live_0123456789abcdef"}
	res := wasmInvoke(e, fn, `{"do":"log","message":"key=sk_live_0123456789abcdef"}`, Limits{}, secrets)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if strings.Contains(res.logs, "sk_live") || strings.Count(res.logs, "key=[secret API_KEY]") != 2 {
		t.Errorf("logs %q", res.logs)
	}

}

func TestWasmOutputLinesAreCutBeforeASecretNotInsideIt(t *testing.T) {
	t.Parallel()
	const secret = "sk_live_0123456789abcdef"
	secrets := map[string]string{"API_KEY": secret}
	for cut := 0; cut <= len(secret); cut++ {
		in := &wasmInstance{secrets: secrets, logs: &logBuffer{max: 100, mask: masker(secrets)}}
		w := &wasmLogWriter{in: in, level: "log"}
		// The line's first 100 bytes end with cut bytes of the secret.
		fmt.Fprintf(w, "%s%s and more\nnext line", strings.Repeat("x", 100-cut), secret)
		w.flush()
		got := in.logs.b.String()
		first, _, _ := strings.Cut(got, "\n")
		first = strings.TrimSuffix(first, "…")
		for k := 1; k < len(secret); k++ {
			if strings.HasSuffix(first, secret[:k]) {
				t.Fatalf("cut at %d: the line ends with %q of the secret: %q", cut, secret[:k], got)
			}
		}
		if cut == 0 && !strings.HasPrefix(got, strings.Repeat("x", 99)) {
			t.Errorf("a line with no secret at the cut lost its text: %q", got)
		}
	}
}

func TestWasmAnInstanceThatFailedIsNeverReused(t *testing.T) {
	t.Parallel()
	e := wasmTestEngine(false)
	fn := wasmDeploy(t, e, wasmTenant("reuse"), wasmPlugin(t))
	count := func() any {
		t.Helper()
		res := wasmInvoke(e, fn, `{"do":"var","key":"k"}`, Limits{}, nil)
		if res.err != nil {
			t.Fatal(res.err)
		}
		var out map[string]any
		json.Unmarshal(res.out, &out)
		return out["calls"]
	}
	if a, b := count(), count(); a != 1.0 || b != 2.0 {
		t.Fatalf("a warm instance wasn't reused: calls %v then %v", a, b)
	}
	if res := wasmInvoke(e, fn, `{"do":"error","message":"no"}`, Limits{}, nil); res.err == nil {
		t.Fatal("the error call succeeded")
	}
	if c := count(); c != 1.0 {
		t.Errorf("after a failure the next call ran in an instance that had made %v calls", c)
	}
}

func TestWasmCodeIsCompiledOncePerSHA256(t *testing.T) {
	t.Parallel()
	e := newWasmEngine(newFetcher(netguard.Policy{}), "", nil)
	t.Cleanup(func() { e.close(context.Background()) })
	code := wasmEchoModule()
	a := wasmDeploy(t, e, "tenant-a", code)
	b := wasmDeploy(t, e, "tenant-b", code)
	ca, _ := e.compiledFor(context.Background(), a)
	cb, _ := e.compiledFor(context.Background(), b)
	if ca != cb || len(e.compiled) != 1 {
		t.Errorf("the same bytes compiled %d times", len(e.compiled))
	}
	for _, fn := range []Function{a, b} {
		if res := wasmInvoke(e, fn, `{"n":1}`, Limits{}, nil); res.err != nil || string(res.out) != `{"n":1}` {
			t.Errorf("%s: %s, %v", fn.Tenant, res.out, res.err)
		}
	}
	for _, fn := range []Function{a, b} {
		if !wasmPool.has(keyOf(fn, Limits{}.withDefaults())) {
			t.Errorf("%s has no warm instance; want one per tenant", fn.Tenant)
		}
	}
}

func TestKernelMemory(t *testing.T) {
	t.Parallel()
	var k kernelMemory
	const room = 1 << 16
	a, _ := k.alloc(5, room)
	b, _ := k.alloc(16, room)
	if a == 0 || b != a+8 || k.length(a) != 5 || k.length(b) != 16 || k.length(a+1) != 0 || k.length(0) != 0 {
		t.Fatalf("blocks at %d and %d, lengths %d and %d", a, b, k.length(a), k.length(b))
	}
	if z, ok := k.alloc(0, room); z != 0 || !ok {
		t.Errorf("alloc(0) = %d, %v; want 0, the ABI's empty block", z, ok)
	}
	copy(k.buf[a:], "hello")
	k.release(a)
	if k.length(a) != 0 {
		t.Error("a freed block still has a length")
	}
	if again, _ := k.alloc(3, room); again != a {
		t.Errorf("a freed block of the same capacity wasn't reused: %d, want %d", again, a)
	}
	if _, ok := k.span(b, 17); ok {
		t.Error("a span past the end of what was allocated")
	}
	if _, ok := k.span(0, 1); ok {
		t.Error("a span at offset 0")
	}
	if _, ok := k.alloc(room, room); ok {
		t.Error("an allocation past the room")
	}
	k.reset()
	c, _ := k.alloc(8, room)
	if c != a || k.length(b) != 0 || !bytes.Equal(k.buf[c:c+8], make([]byte, 8)) {
		t.Errorf("after reset: first block at %d, old block length %d, content %q", c, k.length(b), k.buf[c:c+8])
	}
}

func TestWasmInstancesAreNeverSharedBetweenTenantsOrVersions(t *testing.T) {
	t.Parallel()
	e := wasmTestEngine(false)
	code := wasmPlugin(t)
	a := wasmDeploy(t, e, wasmTenant("a"), code)
	b := wasmDeploy(t, e, wasmTenant("b"), code)
	a2 := a
	a2.Version = 2

	call := func(fn Function, value string) map[string]any {
		t.Helper()
		res := wasmInvoke(e, fn, `{"do":"var","key":"who","value":"`+value+`"}`, Limits{}, nil)
		if res.err != nil {
			t.Fatal(res.err)
		}
		var out map[string]any
		json.Unmarshal(res.out, &out)
		return out
	}
	first := call(a, "tenant-a's secret state")
	second := call(a, "again")
	if first["count"] != 1.0 || second["count"] != 2.0 || second["previous"] != "tenant-a's secret state" || second["calls"] != 2.0 {
		t.Errorf("a warm instance keeps its vars and memory for the same version: %v then %v", first, second)
	}
	if other := call(b, "b"); other["count"] != 1.0 || other["previous"] != "" || other["calls"] != 1.0 {
		t.Errorf("tenant b saw tenant a's instance: %v", other)
	}
	if next := call(a2, "v2"); next["count"] != 1.0 || next["previous"] != "" || next["calls"] != 1.0 {
		t.Errorf("version 2 saw version 1's instance: %v", next)
	}
}

func TestWasmPluginFetchesThroughOutletsFetcher(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Method+" "+r.Header.Get("X-Token")+" "+string(body))
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	e := wasmTestEngine(false)
	fn := wasmDeploy(t, e, "acme", wasmPlugin(t))
	in, _ := json.Marshal(map[string]any{"do": "fetch", "url": srv.URL + "/hook", "method": "POST", "body": "hello", "headers": map[string]string{"X-Token": "t1"}})
	res := wasmInvoke(e, fn, string(in), Limits{}, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	var out []struct {
		Status  int
		Body    string
		Headers map[string]string
	}
	if err := json.Unmarshal(res.out, &out); err != nil || len(out) != 1 {
		t.Fatalf("output %s", res.out)
	}
	if out[0].Status != 201 || out[0].Body != `{"ok":true}` || out[0].Headers["x-seen"] != "POST t1 hello" {
		t.Errorf("response %+v", out[0])
	}
}

func TestWasmFetchIsRefusedWhereAWebhookWouldBe(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") }))
	t.Cleanup(srv.Close)
	strict := wasmTestEngine(true)
	private := wasmTestEngine(false)
	code := wasmPlugin(t)
	fns := map[*wasmEngine]Function{strict: wasmDeploy(t, strict, "acme", code), private: wasmDeploy(t, private, "acme", code)}

	for _, tc := range []struct {
		name   string
		e      *wasmEngine
		url    string
		times  int
		lim    Limits
		reason string
	}{
		{name: "loopback is refused by the default policy", e: strict, url: srv.URL, reason: "can't connect to 127.0.0.1: it has no public address"},
		{name: "the metadata address is refused", e: strict, url: "http://169.254.169.254/latest/meta-data/", reason: "can't connect to 169.254.169.254: it has no public address"},
		{name: "a request past the budget fails the invocation", e: private, url: srv.URL, times: 2, lim: Limits{Fetch: FetchLimits{MaxRequests: 1}}, reason: "already made 1 requests, its limit"},
		{name: "a host outside the tenant's allowed hosts is refused", e: private, url: srv.URL, lim: Limits{Fetch: FetchLimits{AllowedHosts: []string{"api.example.com"}}}, reason: "is not in this tenant's allowed hosts"},
		{name: "a URL that isn't http(s) is refused", e: private, url: "file:///etc/passwd", reason: "is not an absolute http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, _ := json.Marshal(map[string]any{"do": "fetch", "url": tc.url, "times": tc.times})
			res := wasmInvoke(tc.e, fns[tc.e], string(in), tc.lim, nil)
			if res.err == nil || res.err.Code != CodeRuntimeError || !strings.Contains(res.err.Message, "http_request to ") || !strings.Contains(res.err.Message, tc.reason) {
				t.Errorf("got %s, %v; want a runtime_error naming %q", res.out, res.err, tc.reason)
			}
		})
	}
}

func TestWasmFailuresFailOnlyTheirInvocation(t *testing.T) {
	t.Parallel()
	e := wasmTestEngine(false)
	fn := wasmDeploy(t, e, "acme", wasmPlugin(t))
	for _, tc := range []struct {
		name  string
		input string
		lim   Limits
		code  string
		msg   string
		// within bounds how long the failure may take
		within time.Duration
	}{
		{name: "a busy loop is stopped at the time limit", input: `{"do":"loop"}`, lim: Limits{Timeout: 300 * time.Millisecond}, code: CodeTimeout, msg: "time limit of 300ms", within: 2 * time.Second},
		{name: "a sleep is cut short at the time limit", input: `{"do":"sleep"}`, lim: Limits{Timeout: 300 * time.Millisecond}, code: CodeTimeout, msg: "time limit", within: 2 * time.Second},
		{name: "growing linear memory past the limit", input: `{"do":"grow"}`, lim: Limits{MemoryMB: 32}, code: CodeMemoryLimit, msg: "memory limit of 32 MiB"},
		{name: "allocating host memory past the limit", input: `{"do":"hostalloc"}`, lim: Limits{MemoryMB: 32}, code: CodeMemoryLimit, msg: "past its memory limit of 32 MiB"},
		{name: "a Go panic", input: `{"do":"panic","message":"kaput"}`, code: CodeRuntimeError, msg: "panic: boom: kaput (wasm error: unreachable)"},
		{name: "a nil map write", input: `{"do":"nil"}`, code: CodeRuntimeError, msg: "assignment to entry in nil map"},
		{name: "an error set with the PDK", input: `{"do":"error","message":"the invoice has no lines"}`, code: CodeRuntimeError, msg: "the invoice has no lines"},
		{name: "a non-zero return without a message", input: `{"do":"rc"}`, code: CodeRuntimeError, msg: "handle returned 7"},
		{name: "an exit", input: `{"do":"exit"}`, code: CodeRuntimeError, msg: "exited with code 3"},
		{name: "an output past the limit", input: `{"do":"huge","size":2000000}`, code: CodeRuntimeError, msg: "the output is 2000002 bytes; the limit is 1048576"},
		{name: "an output that isn't JSON", input: `{"do":"notjson"}`, code: CodeRuntimeError, msg: "the output is not valid JSON: this is not JSON"},
		{name: "an input past the limit", input: `{"do":"transform","items":[1,2,3,4,5,6,7,8,9]}`, lim: Limits{MaxInput: 20}, code: CodeRuntimeError, msg: "the input is 46 bytes; the limit is 20"},
		{name: "vars past their bound", input: `{"do":"bigvar","key":"k","size":2000000}`, code: CodeRuntimeError, msg: "the limit is 1048576"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := wasmInvoke(e, fn, tc.input, tc.lim, nil)
			if res.err == nil || res.err.Code != tc.code || !strings.Contains(res.err.Message, tc.msg) {
				t.Fatalf("got %s, %v; want %s with %q", res.out, res.err, tc.code, tc.msg)
			}
			if tc.within > 0 && res.took > tc.within {
				t.Errorf("took %s, want under %s", res.took, tc.within)
			}
			if ok := wasmInvoke(e, fn, `{"do":"transform","items":[2]}`, Limits{}, nil); ok.err != nil || !bytes.Contains(ok.out, []byte(`"total":2`)) {
				t.Errorf("the next call failed: %s, %v", ok.out, ok.err)
			}
		})
	}
}

func TestWasmTrapsAndLimitsOfAHandWrittenModule(t *testing.T) {
	t.Parallel()
	e := newWasmEngine(newFetcher(netguard.Policy{}), "", nil)
	t.Cleanup(func() { e.close(context.Background()) })
	for _, tc := range []struct {
		name   string
		module []byte
		lim    Limits
		code   string
		msg    string
		within time.Duration
	}{
		{name: "unreachable", module: wasmTrapModule(), code: CodeRuntimeError, msg: "wasm error: unreachable"},
		{name: "unbounded recursion exhausts the stack", module: wasmRecursionModule(), code: CodeRuntimeError, msg: "stack overflow"},
		{name: "a load outside what the plugin allocated", module: wasmWildLoadModule(), code: CodeRuntimeError, msg: "load_u64 at offset 4096: outside the memory the plugin allocated"},
		{name: "a busy loop", module: wasmSpinModule(), lim: Limits{Timeout: 200 * time.Millisecond}, code: CodeTimeout, msg: "time limit of 200ms", within: 2 * time.Second},
		{name: "memory.grow until refused, then a trap", module: wasmGrowModule(), lim: Limits{MemoryMB: 16}, code: CodeMemoryLimit, msg: "memory limit of 16 MiB"},
		{name: "a module whose memory starts past the limit", module: wasmBigMemoryModule(2048), lim: Limits{MemoryMB: 64}, code: CodeMemoryLimit, msg: "initial 2048 pages (128.0 MiB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := wasmDeploy(t, e, "acme", tc.module)
			res := wasmInvoke(e, fn, `{}`, tc.lim, nil)
			if res.err == nil || res.err.Code != tc.code || !strings.Contains(res.err.Message, tc.msg) {
				t.Fatalf("got %s, %v; want %s with %q", res.out, res.err, tc.code, tc.msg)
			}
			if tc.within > 0 && res.took > tc.within {
				t.Errorf("took %s, want under %s", res.took, tc.within)
			}
		})
	}
	echo := wasmDeploy(t, e, "acme", wasmEchoModule())
	for _, in := range []string{`{"a":1}`, `"exactly 16 bytes"`, `[]`, strings.Repeat(" ", 1000) + `{"long":true}`} {
		if res := wasmInvoke(e, echo, in, Limits{}, nil); res.err != nil || string(res.out) != in {
			t.Errorf("echo of %q: %q, %v", in, res.out, res.err)
		}
	}
}

func TestWasmCompileRefusesWhatIsntAnExtismPlugin(t *testing.T) {
	t.Parallel()
	e := newWasmEngine(newFetcher(netguard.Policy{}), "", nil)
	t.Cleanup(func() { e.close(context.Background()) })
	for _, tc := range []struct {
		name string
		code []byte
		msg  string
	}{
		{name: "junk bytes", code: []byte("console.log('not wasm')"), msg: "not a WebAssembly module"},
		{name: "a truncated module", code: wasmTrapModule()[:20], msg: "malformed"},
		{name: "no handle", code: wasmNoHandleModule(), msg: "doesn't export a function named handle"},
		{name: "a handle that takes arguments", code: wasmHandleWithParamsModule(), msg: "its handle is (i32) -> (i32)"},
		{name: "an import from elsewhere", code: wasmForeignImportModule("env", "now"), msg: `imports now from module "env"`},
		{name: "a user host function", code: wasmForeignImportModule("extism:host/user", "lookup"), msg: `imports lookup from module "extism:host/user"`},
		{name: "an unknown extism function", code: wasmForeignImportModule("extism:host/env", "teleport"), msg: "imports extism:host/env.teleport, which Outlet doesn't provide"},
		{name: "a known function with the wrong type", code: wasmWrongAllocModule(), msg: "imports extism:host/env.alloc as (i32) -> (i32); Outlet provides it as (i64) -> (i64)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum := sha256.Sum256(tc.code)
			err := e.compile(context.Background(), Function{Tenant: "acme", Name: "fn", Runtime: outlet.RuntimeWasm, Code: tc.code, SHA256: hex.EncodeToString(sum[:])})
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want an error with %q", err, tc.msg)
			}
		})
	}
}

func TestWasmRunsThroughTheSandbox(t *testing.T) {
	t.Parallel()
	s := New(Config{})
	t.Cleanup(func() { s.Close(context.Background()) })
	fn := Function{Tenant: "acme", Name: "echo", Version: 1, Runtime: outlet.RuntimeWasm, Code: wasmEchoModule()}
	p, err := s.Prepare(context.Background(), fn, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(p.Code)
	fn.Code, fn.SHA256 = p.Code, hex.EncodeToString(sum[:])
	res := s.Run(context.Background(), Call{Function: fn, Input: json.RawMessage(`{"n":1}`)})
	if res.Error != nil || string(res.Output) != `{"n":1}` {
		t.Errorf("got %s, %v", res.Output, res.Error)
	}
	_, err = s.Prepare(context.Background(), Function{Tenant: "acme", Name: "bad", Runtime: outlet.RuntimeWasm, Code: wasmNoHandleModule()}, Limits{})
	if ce, ok := err.(*CompileError); !ok || !strings.Contains(ce.Message, "handle") {
		t.Errorf("a module without handle: %v", err)
	}
}

// The benchmarks measure a call of a warm instance and one of a new instance
// (instantiate, initialize, call, close), for the Go-built plugin and for the
// hand-written echo, whose cost is the engine's own.

func BenchmarkWasmCall(b *testing.B) {
	b.Run("go-pdk plugin", func(b *testing.B) { benchmarkWasmWarm(b, wasmPlugin(b)) })
	b.Run("hand-written echo", func(b *testing.B) { benchmarkWasmWarm(b, wasmEchoModule()) })
}

func BenchmarkWasmInstantiateAndCall(b *testing.B) {
	b.Run("go-pdk plugin", func(b *testing.B) { benchmarkWasmCold(b, wasmPlugin(b)) })
	b.Run("hand-written echo", func(b *testing.B) { benchmarkWasmCold(b, wasmEchoModule()) })
}

// wasmBenchInput is about 1 KB of JSON the plugin and the echo both accept.
func wasmBenchInput() string {
	items := make([]string, 240)
	for i := range items {
		items[i] = fmt.Sprint(i)
	}
	return `{"do":"transform","items":[` + strings.Join(items, ",") + `]}`
}

func benchmarkWasmWarm(b *testing.B, code []byte) {
	e := newWasmEngine(newFetcher(netguard.Policy{}), "", nil)
	b.Cleanup(func() { e.close(context.Background()) })
	fn := wasmDeploy(b, e, "acme", code)
	input := wasmBenchInput()
	if res := wasmInvoke(e, fn, input, Limits{}, nil); res.err != nil {
		b.Fatal(res.err)
	}
	b.SetBytes(int64(len(input)))
	b.ResetTimer()
	for range b.N {
		if res := wasmInvoke(e, fn, input, Limits{}, nil); res.err != nil {
			b.Fatal(res.err)
		}
	}
}

func benchmarkWasmCold(b *testing.B, code []byte) {
	e := newWasmEngine(newFetcher(netguard.Policy{}), "", nil)
	b.Cleanup(func() { e.close(context.Background()) })
	fn := wasmDeploy(b, e, "acme", code)
	c, err := e.compiledFor(context.Background(), fn)
	if err != nil {
		b.Fatal(err)
	}
	input := wasmBenchInput()
	lim := Limits{}.withDefaults()
	call := Call{Function: fn, Input: json.RawMessage(input), Limits: lim}
	b.SetBytes(int64(len(input)))
	b.ResetTimer()
	for range b.N {
		in := &wasmInstance{limit: uint64(lim.MemoryMB) << 20}
		logs := &logBuffer{max: lim.MaxLogs}
		if _, rerr := in.run(context.Background(), e, c, call, lim, logs, &fetchBudget{limits: lim.Fetch}); rerr != nil {
			b.Fatal(rerr)
		}
		in.close()
	}
}

// Hand-written modules, assembled from their instructions. Each says in WAT
// what it is.

// wasmEchoModule copies the input to the output, 8 bytes at a time and then
// byte by byte, through the kernel's memory:
//
//	(func (export "handle") (result i32) (local $n i64) (local $off i64) (local $i i64)
//	  (local.set $n (call $input_length))
//	  (local.set $off (call $alloc (local.get $n)))
//	  (block (loop
//	    (br_if 1 (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $n)))
//	    (call $store_u64 (i64.add (local.get $off) (local.get $i)) (call $input_load_u64 (local.get $i)))
//	    (local.set $i (i64.add (local.get $i) (i64.const 8))) (br 0)))
//	  (block (loop
//	    (br_if 1 (i64.ge_u (local.get $i) (local.get $n)))
//	    (call $store_u8 (i64.add (local.get $off) (local.get $i)) (call $input_load_u8 (local.get $i)))
//	    (local.set $i (i64.add (local.get $i) (i64.const 1))) (br 0)))
//	  (call $output_set (local.get $off) (local.get $n))
//	  (i32.const 0))
func wasmEchoModule() []byte {
	const (
		inputLength = iota
		alloc
		inputLoadU64
		storeU64
		inputLoadU8
		storeU8
		outputSet
	)
	const n, off, i = 0, 1, 2
	body := wasmCat(
		wasmOp(wasmOpCall, inputLength), wasmOp(wasmOpLocalSet, n),
		wasmOp(wasmOpLocalGet, n), wasmOp(wasmOpCall, alloc), wasmOp(wasmOpLocalSet, off),
		wasmOp(wasmOpBlock, wasmVoid), wasmOp(wasmOpLoop, wasmVoid),
		wasmOp(wasmOpLocalGet, i), wasmOp(wasmOpI64Const, 8), wasmOp(wasmOpI64Add), wasmOp(wasmOpLocalGet, n), wasmOp(wasmOpI64GtU), wasmOp(wasmOpBrIf, 1),
		wasmOp(wasmOpLocalGet, off), wasmOp(wasmOpLocalGet, i), wasmOp(wasmOpI64Add), wasmOp(wasmOpLocalGet, i), wasmOp(wasmOpCall, inputLoadU64), wasmOp(wasmOpCall, storeU64),
		wasmOp(wasmOpLocalGet, i), wasmOp(wasmOpI64Const, 8), wasmOp(wasmOpI64Add), wasmOp(wasmOpLocalSet, i), wasmOp(wasmOpBr, 0),
		wasmOp(wasmOpEnd), wasmOp(wasmOpEnd),
		wasmOp(wasmOpBlock, wasmVoid), wasmOp(wasmOpLoop, wasmVoid),
		wasmOp(wasmOpLocalGet, i), wasmOp(wasmOpLocalGet, n), wasmOp(wasmOpI64GeU), wasmOp(wasmOpBrIf, 1),
		wasmOp(wasmOpLocalGet, off), wasmOp(wasmOpLocalGet, i), wasmOp(wasmOpI64Add), wasmOp(wasmOpLocalGet, i), wasmOp(wasmOpCall, inputLoadU8), wasmOp(wasmOpCall, storeU8),
		wasmOp(wasmOpLocalGet, i), wasmOp(wasmOpI64Const, 1), wasmOp(wasmOpI64Add), wasmOp(wasmOpLocalSet, i), wasmOp(wasmOpBr, 0),
		wasmOp(wasmOpEnd), wasmOp(wasmOpEnd),
		wasmOp(wasmOpLocalGet, off), wasmOp(wasmOpLocalGet, n), wasmOp(wasmOpCall, outputSet),
		wasmOp(wasmOpI32Const, 0),
	)
	return wasmModuleOf([]wasmImport{
		{"extism:host/env", "input_length", nil, []byte{wasmI64}},
		{"extism:host/env", "alloc", []byte{wasmI64}, []byte{wasmI64}},
		{"extism:host/env", "input_load_u64", []byte{wasmI64}, []byte{wasmI64}},
		{"extism:host/env", "store_u64", []byte{wasmI64, wasmI64}, nil},
		{"extism:host/env", "input_load_u8", []byte{wasmI64}, []byte{wasmI32}},
		{"extism:host/env", "store_u8", []byte{wasmI64, wasmI32}, nil},
		{"extism:host/env", "output_set", []byte{wasmI64, wasmI64}, nil},
	}, 0, []wasmFunc{{export: "handle", results: []byte{wasmI32}, locals: 3, body: body}})
}

// (func (export "handle") (result i32) unreachable)
func wasmTrapModule() []byte {
	return wasmModuleOf(nil, 0, []wasmFunc{{export: "handle", results: []byte{wasmI32}, body: wasmOp(wasmOpUnreachable)}})
}

// (func $f (export "handle") (result i32) (call $f))
func wasmRecursionModule() []byte {
	return wasmModuleOf(nil, 0, []wasmFunc{{export: "handle", results: []byte{wasmI32}, body: wasmOp(wasmOpCall, 0)}})
}

// (func (export "handle") (result i32) (drop (call $load_u64 (i64.const 4096))) (i32.const 0))
func wasmWildLoadModule() []byte {
	return wasmModuleOf([]wasmImport{{"extism:host/env", "load_u64", []byte{wasmI64}, []byte{wasmI64}}}, 0,
		[]wasmFunc{{export: "handle", results: []byte{wasmI32}, body: wasmCat(wasmOp(wasmOpI64Const), wasmLEB(4096), wasmOp(wasmOpCall, 0), wasmOp(wasmOpDrop), wasmOp(wasmOpI32Const, 0))}})
}

// (func (export "handle") (result i32) (loop (br 0)) (i32.const 0))
func wasmSpinModule() []byte {
	return wasmModuleOf(nil, 0, []wasmFunc{{export: "handle", results: []byte{wasmI32}, body: wasmCat(wasmOp(wasmOpLoop, wasmVoid), wasmOp(wasmOpBr, 0), wasmOp(wasmOpEnd), wasmOp(wasmOpI32Const, 0))}})
}

// wasmGrowModule grows its memory a MiB at a time and traps when refused:
//
//	(memory 1)
//	(func (export "handle") (result i32)
//	  (loop (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable)) (br 0))
//	  (i32.const 0))
func wasmGrowModule() []byte {
	body := wasmCat(wasmOp(wasmOpLoop, wasmVoid), wasmOp(wasmOpI32Const, 16), wasmOp(wasmOpMemoryGrow, 0), wasmOp(wasmOpI32Const), wasmSLEB(-1), wasmOp(wasmOpI32Eq), wasmOp(wasmOpIf, wasmVoid), wasmOp(wasmOpUnreachable), wasmOp(wasmOpEnd), wasmOp(wasmOpBr, 0), wasmOp(wasmOpEnd), wasmOp(wasmOpI32Const, 0))
	return wasmModuleOf(nil, 1, []wasmFunc{{export: "handle", results: []byte{wasmI32}, body: body}})
}

// (memory pages) (func (export "handle") (result i32) (i32.const 0))
func wasmBigMemoryModule(pages int) []byte {
	return wasmModuleOf(nil, pages, []wasmFunc{{export: "handle", results: []byte{wasmI32}, body: wasmOp(wasmOpI32Const, 0)}})
}

// (func (export "run") (result i32) (i32.const 0))
func wasmNoHandleModule() []byte {
	return wasmModuleOf(nil, 0, []wasmFunc{{export: "run", results: []byte{wasmI32}, body: wasmOp(wasmOpI32Const, 0)}})
}

// (func (export "handle") (param i32) (result i32) (local.get 0))
func wasmHandleWithParamsModule() []byte {
	return wasmModuleOf(nil, 0, []wasmFunc{{export: "handle", params: []byte{wasmI32}, results: []byte{wasmI32}, body: wasmOp(wasmOpLocalGet, 0)}})
}

// (import module name (func)) (func (export "handle") (result i32) (i32.const 0))
func wasmForeignImportModule(module, name string) []byte {
	return wasmModuleOf([]wasmImport{{module, name, nil, nil}}, 0, []wasmFunc{{export: "handle", results: []byte{wasmI32}, body: wasmOp(wasmOpI32Const, 0)}})
}

// (import "extism:host/env" "alloc" (func (param i32) (result i32))) and a handle.
func wasmWrongAllocModule() []byte {
	return wasmModuleOf([]wasmImport{{"extism:host/env", "alloc", []byte{wasmI32}, []byte{wasmI32}}}, 0,
		[]wasmFunc{{export: "handle", results: []byte{wasmI32}, body: wasmOp(wasmOpI32Const, 0)}})
}

// The opcodes the hand-written modules use.
const (
	wasmOpUnreachable = 0x00
	wasmOpBlock       = 0x02
	wasmOpLoop        = 0x03
	wasmOpIf          = 0x04
	wasmOpEnd         = 0x0b
	wasmOpBr          = 0x0c
	wasmOpBrIf        = 0x0d
	wasmOpCall        = 0x10
	wasmOpDrop        = 0x1a
	wasmOpLocalGet    = 0x20
	wasmOpLocalSet    = 0x21
	wasmOpMemoryGrow  = 0x40
	wasmOpI32Const    = 0x41
	wasmOpI64Const    = 0x42
	wasmOpI32Eq       = 0x46
	wasmOpI64GtU      = 0x56
	wasmOpI64GeU      = 0x5a
	wasmOpI64Add      = 0x7c

	wasmVoid = 0x40 // the type of a block that takes and leaves nothing
	wasmI32  = 0x7f
	wasmI64  = 0x7e
)

type wasmImport struct {
	module, name    string
	params, results []byte
}

type wasmFunc struct {
	export          string
	params, results []byte
	locals          int // of type i64
	body            []byte
}

// wasmModuleOf assembles a module: imported functions, a memory of
// memPages pages (none if 0), and functions, each exported under its name.
func wasmModuleOf(imports []wasmImport, memPages int, funcs []wasmFunc) []byte {
	vec := func(items ...[]byte) []byte { return wasmCat(wasmLEB(len(items)), wasmCat(items...)) }
	name := func(s string) []byte { return wasmCat(wasmLEB(len(s)), []byte(s)) }
	section := func(id byte, body []byte) []byte { return wasmCat([]byte{id}, wasmLEB(len(body)), body) }
	var types, imps, decls, exports, codes [][]byte
	for i, imp := range imports {
		types = append(types, wasmCat([]byte{0x60}, wasmLEB(len(imp.params)), imp.params, wasmLEB(len(imp.results)), imp.results))
		imps = append(imps, wasmCat(name(imp.module), name(imp.name), []byte{0x00}, wasmLEB(i)))
	}
	for i, f := range funcs {
		types = append(types, wasmCat([]byte{0x60}, wasmLEB(len(f.params)), f.params, wasmLEB(len(f.results)), f.results))
		decls = append(decls, wasmLEB(len(imports)+i))
		exports = append(exports, wasmCat(name(f.export), []byte{0x00}, wasmLEB(len(imports)+i)))
		locals := vec()
		if f.locals > 0 {
			locals = vec(wasmCat(wasmLEB(f.locals), []byte{wasmI64}))
		}
		code := wasmCat(locals, f.body, []byte{0x0b})
		codes = append(codes, wasmCat(wasmLEB(len(code)), code))
	}
	out := wasmCat([]byte("\x00asm\x01\x00\x00\x00"), section(1, vec(types...)))
	if len(imps) > 0 {
		out = wasmCat(out, section(2, vec(imps...)))
	}
	out = wasmCat(out, section(3, vec(decls...)))
	if memPages > 0 {
		out = wasmCat(out, section(5, vec(wasmCat([]byte{0x00}, wasmLEB(memPages)))))
	}
	return wasmCat(out, section(7, vec(exports...)), section(10, vec(codes...)))
}

// op is an instruction: an opcode and its immediates, each a small unsigned
// LEB128 number (the i32.const and i64.const used here are small and
// non-negative, which encode the same).
func wasmOp(code byte, imm ...int) []byte {
	b := []byte{code}
	for _, v := range imm {
		b = append(b, wasmLEB(v)...)
	}
	return b
}

// wasmLEB and wasmSLEB encode numbers as the module builders here need
// them, with the encoders the rewrite uses.
func wasmLEB(v int) []byte { return uleb(uint64(v)) }

func wasmSLEB(v int) []byte { return sleb(int64(v)) }

func wasmCat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestWasmConfigSaysWhatTheCallIs(t *testing.T) {
	t.Parallel()
	e := wasmTestEngine(false)
	fn := wasmDeploy(t, e, "acme", wasmPlugin(t))
	lim := Limits{}.withDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), lim.Timeout)
	defer cancel()
	meta := Meta{Tenant: "acme", Trigger: "event", EventID: "evt_1", DeliveryID: "dlv_1", Attempt: 3}
	for key, want := range map[string]string{
		"outlet.tenant": `{"found":true,"value":"acme"}`, "outlet.event_id": `{"found":true,"value":"evt_1"}`,
		"outlet.attempt": `{"found":true,"value":"3"}`, "outlet.hook": `{"found":false,"value":""}`,
	} {
		call := Call{Function: fn, Input: json.RawMessage(`{"do":"secret","key":"` + key + `"}`), Limits: lim, Meta: meta}
		out, err := e.run(ctx, call, lim, &logBuffer{max: lim.MaxLogs}, &fetchBudget{limits: lim.Fetch}, wasmPool)
		if err != nil || string(out) != want {
			t.Errorf("config %s: %s, %v; want %s", key, out, err, want)
		}
	}
}
