package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/testwait"
)

// The attacks of issue 7's security review, made again through the real
// binary by a hostile tenant. Each held the server's memory or a core
// before its fix.

// wasmHandleModule is a module whose only function, handle, has the given
// body; tableType, when set, declares table 0 (funcref, then limits).
func wasmHandleModule(tableType, body []byte) string {
	section := func(id byte, content ...byte) []byte {
		return append([]byte{id, byte(len(content))}, content...)
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, 0x01, 0x60, 0x00, 0x01, 0x7f)...) // (func (result i32))
	m = append(m, section(3, 0x01, 0x00)...)
	if tableType != nil {
		m = append(m, section(4, append([]byte{0x01, 0x70}, tableType...)...)...)
	}
	m = append(m, section(7, append([]byte{0x01, 0x06}, append([]byte("handle"), 0x00, 0x00)...)...)...)
	code := append([]byte{0x00}, body...) // no locals
	code = append(code, 0x0b)
	m = append(m, section(10, append([]byte{0x01, byte(len(code))}, code...)...)...)
	return base64.StdEncoding.EncodeToString(m)
}

func TestWasmTablesAndRecursionStayWithinTheMemoryLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.tenant("attacker")
	s.hook("run", 5000, "fail_closed")
	base, _ := s.rss()

	// A table declared at 2^27 entries (1 GiB) is refused at deploy.
	var refusal struct {
		Error struct{ Code, Message string }
	}
	status := s.call(adminKey, "PUT", "/v1/tenants/attacker/functions/huge", map[string]any{"runtime": "wasm", "memory_mb": 8, "hooks": []string{"run"},
		"wasm": wasmHandleModule([]byte{0x00, 0x80, 0x80, 0x80, 0x40}, []byte{0x41, 0x00})}, &refusal)
	if status != 422 || !strings.Contains(refusal.Error.Message, "table 0 starts with 134217728 entries") {
		t.Errorf("deploying a 2^27-entry table: %d %+v; want 422 naming the table", status, refusal)
	}

	// table.grow by 2^25 entries per call: refused every time.
	grow := []byte{0xd0, 0x70, 0x41, 0x80, 0x80, 0x80, 0x10, 0xfc, 0x0f, 0x00, 0x41, 0x7f, 0x47} // handle = (table.grow 2^25) != -1
	s.deploy("attacker", "grow", map[string]any{"runtime": "wasm", "memory_mb": 8, "hooks": []string{"run"}, "wasm": wasmHandleModule([]byte{0x00, 0x01}, grow)})
	for i := range 4 {
		if r := s.invoke("attacker", "run", map[string]any{}); r.Error != nil {
			t.Fatalf("call %d: %+v; want every grow refused", i, r.Error)
		}
	}
	s.must(204, "DELETE", "/v1/tenants/attacker/functions/grow", nil, nil)

	// Unbounded recursion fails with a stack overflow within its share.
	s.deploy("attacker", "deep", map[string]any{"runtime": "wasm", "memory_mb": 8, "hooks": []string{"run"}, "wasm": wasmHandleModule(nil, []byte{0x10, 0x00})})
	for range 3 {
		if r := s.invoke("attacker", "run", map[string]any{}); r.Error == nil || !strings.Contains(r.Error.Message, "stack overflow") {
			t.Errorf("unbounded recursion: %+v; want a stack overflow", r.Error)
		}
	}
	// Before the fix: 3 GB after the grows, 160 MB more for the recursion.
	if _, peak := s.rss(); peak-base > 150 {
		t.Errorf("the server's peak RSS grew by %d MiB through table grows and recursion capped at 8 MiB", peak-base)
	}
}

func TestJavaScriptRecursionOfLargeFramesStaysWithinTheMemoryLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.tenant("attacker")
	s.hook("run", 30000, "fail_closed")
	// 8,000 locals: 128 KB of the engine's stack a call, outside its heap.
	var b strings.Builder
	b.WriteString("function f(n) {\n")
	for i := range 8000 {
		fmt.Fprintf(&b, "let a%d = n;", i)
	}
	b.WriteString("\nreturn f(n + 1) + a0 + a7999 }\nexport default () => f(0)\n")
	base, _ := s.rss()
	s.deploy("attacker", "frames", map[string]any{"runtime": "javascript", "timeout_ms": 30000, "hooks": []string{"run"}, "code": b.String()})
	if r := s.invoke("attacker", "run", map[string]any{}); r.Error == nil || !strings.Contains(r.Error.Message, "stack overflow") {
		t.Errorf("recursion of 128 KB frames: %+v; want a stack overflow", r.Error)
	}
	// Before the fix it reached 640 MB (5,000 frames).
	if _, peak := s.rss(); peak-base > 300 {
		t.Errorf("the server's peak RSS grew by %d MiB through recursion in a 64 MiB function", peak-base)
	}
}

func TestWarmJavaScriptEnginesStayWithinTheirBudget(t *testing.T) {
	t.Parallel()
	s := startServer(t) // 256 MiB for warm engines, 64 MiB of it per tenant
	s.hook("run", 10000, "fail_closed")
	for i := range 4 {
		s.tenant(fmt.Sprintf("t%d", i))
	}
	// Sixteen functions each keeping 30 MiB in module scope: before the fix
	// all stayed warm, a gigabyte.
	for i := range 16 {
		tenant := fmt.Sprintf("t%d", i%4)
		s.deploy(tenant, fmt.Sprintf("cache%d", i), map[string]any{"runtime": "javascript", "hooks": []string{"run"}, "memory_mb": 64,
			"code": fmt.Sprintf(`const cache = "%d".repeat(30 << 20); export default () => cache.length`, i%10)})
	}
	for i := range 4 {
		if r := s.invoke(fmt.Sprintf("t%d", i), "run", map[string]any{}); r.Error != nil {
			t.Fatalf("t%d: %+v", i, r.Error)
		}
	}
	warm := func() (bytes float64) {
		m := regexp.MustCompile(`(?m)^outlet_function_warm_bytes\{runtime="javascript"\} (\S+)$`).FindStringSubmatch(s.metrics())
		if m == nil {
			t.Fatal("/metrics has no outlet_function_warm_bytes for javascript")
		}
		f, _ := strconv.ParseFloat(m[1], 64)
		return f
	}
	// Warming happens in the background; give it time to settle, then the
	// budget must hold (a wait for something that must not happen).
	time.Sleep(2 * time.Second)
	if got := warm(); got > 256<<20 || got < 30<<20 {
		t.Errorf("warm JavaScript engines hold %.0f MiB; the budget is 256 MiB and at least one 30 MiB engine fits", got/(1<<20))
	}
	if now, _ := s.rss(); now > 600 {
		t.Errorf("the server holds %d MiB after sixteen 30 MiB functions ran, with 256 MiB for warm engines", now)
	}
}

func TestDeployRunsTopLevelCodeWithinTheFunctionsLimits(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.tenant("acme")
	start := time.Now()
	var refusal struct {
		Error struct{ Code, Message string }
	}
	status := s.call(adminKey, "PUT", "/v1/tenants/acme/functions/spin", map[string]any{"runtime": "javascript", "timeout_ms": 2000,
		"code": "while (true) {}\nexport default () => 1"}, &refusal)
	if status != 422 || !strings.Contains(refusal.Error.Message, "time limit of") {
		t.Errorf("a module spinning at its top level: %d %+v; want 422 naming the time limit", status, refusal)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the deploy took %s; the function's limit is 2s (the old deploy ran top-level code for 10s)", took)
	}
	// 60 MiB at the top level deploys with memory_mb 128 (before, the
	// default 64 MiB applied at deploy).
	s.deploy("acme", "big", map[string]any{"runtime": "javascript", "memory_mb": 128,
		"code": `const keep = "x".repeat(60 << 20); export default () => keep.length`})
	// The spinning deploy's CPU is the tenant's.
	testwait.Within(t, 15*time.Second, "the deploys' CPU time billed", func() bool {
		var u struct {
			Total struct {
				FunctionCPUMs int64 `json:"function_cpu_ms"`
			}
		}
		s.must(200, "GET", "/v1/tenants/acme/usage", nil, &u)
		return u.Total.FunctionCPUMs >= 300
	})
}

func TestATenantMadeAgainInheritsNothingOfTheDeletedOne(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.hook("run", 5000, "fail_closed")
	// The module keeps the first input and secret it saw.
	code := `let first; export default (input, ctx) => { first ??= { input, key: ctx.secrets.KEY ?? null }; return first }`
	s.tenant("acme")
	s.must(204, "PUT", "/v1/tenants/acme/secrets/KEY", map[string]any{"value": "sk_old_tenant_secret"}, nil)
	s.deploy("acme", "memo", map[string]any{"runtime": "javascript", "hooks": []string{"run"}, "code": code})
	var wg sync.WaitGroup
	for range 8 { // several warm engines
		wg.Go(func() { s.invoke("acme", "run", map[string]any{"card": "4242-old"}) })
	}
	wg.Wait()
	s.must(204, "DELETE", "/v1/tenants/acme", nil, nil)
	s.tenant("acme")
	s.deploy("acme", "memo", map[string]any{"runtime": "javascript", "hooks": []string{"run"}, "code": code})
	for range 8 {
		r := s.invoke("acme", "run", map[string]any{"card": "new"})
		if bytes.Contains(r.Output, []byte("4242-old")) || bytes.Contains(r.Output, []byte("sk_old")) {
			t.Fatalf("the tenant made again got the deleted tenant's state: %s", r.Output)
		}
		if r.Error != nil || string(r.Output) != `{"input":{"card":"new"},"key":null}` {
			t.Errorf("the tenant made again: %s %+v", r.Output, r.Error)
		}
	}
}

func TestAFunctionsOutputIsAlwaysJSON(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.tenant("acme")
	s.hook("run", 2000, "fail_closed")
	s.deploy("acme", "tamper", map[string]any{"runtime": "javascript", "hooks": []string{"run"},
		"code": `export default () => { JSON.stringify = () => ""; Promise.prototype.then = function (ok) { ok("") }; return { ok: 1 } }`})
	for range 2 {
		r := s.invoke("acme", "run", map[string]any{})
		if r.Error != nil || string(r.Output) != `{"ok":1}` {
			t.Errorf("a function that replaced JSON.stringify and then: %s %+v; want its real output", r.Output, r.Error)
		}
	}
	var test struct {
		Output json.RawMessage
		Error  *struct{ Code string }
	}
	s.must(200, "POST", "/v1/tenants/acme/functions/tamper/test", map[string]any{"input": map[string]any{}}, &test)
	if string(test.Output) != `{"ok":1}` {
		t.Errorf("a test run of it answered %s %+v", test.Output, test.Error)
	}
}
