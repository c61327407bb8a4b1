package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/testwait"
)

// hookResult is the answer of a hook invocation.
type hookResult struct {
	Output     json.RawMessage `json:"output"`
	Error      *struct{ Code, Message string }
	DurationMs int64  `json:"duration_ms"`
	ServedBy   string `json:"served_by"`
}

func (s *server) hook(name string, timeoutMs int, onError string) {
	s.t.Helper()
	s.must(201, "POST", "/v1/hooks", map[string]any{"name": name, "timeout_ms": timeoutMs, "on_error": onError}, nil)
}

func (s *server) deploy(tenant, name string, body map[string]any) (version int) {
	s.t.Helper()
	var v struct{ Version int }
	var raw json.RawMessage
	status := s.call(adminKey, "PUT", "/v1/tenants/"+tenant+"/functions/"+name, body, &raw)
	if status != 200 && status != 201 {
		s.t.Fatalf("deploy %s: %d %s", name, status, raw)
	}
	json.Unmarshal(raw, &v)
	return v.Version
}

func (s *server) invoke(tenant, hook string, input any) hookResult {
	s.t.Helper()
	var r hookResult
	s.must(200, "POST", "/v1/tenants/"+tenant+"/hooks/"+hook+"/invoke", map[string]any{"input": input}, &r)
	return r
}

func TestAJavaScriptHookChangesTheInputAndReadsASecret(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.tenant("acme")
	s.hook("checkout.discount", 1000, "fail_open")
	s.must(204, "PUT", "/v1/tenants/acme/secrets/COUPON", map[string]any{"value": "SAVE10-secret"}, nil)
	s.deploy("acme", "discount", map[string]any{"runtime": "javascript", "hooks": []string{"checkout.discount"}, "code": `
		export default async function (input, ctx) {
			console.log("applying", ctx.secrets.COUPON)
			return { ...input, total: input.total * 0.9, coupon: ctx.secrets.COUPON.slice(0, 6) }
		}`})
	r := s.invoke("acme", "checkout.discount", map[string]any{"total": 100, "currency": "EUR"})
	if r.Error != nil || !sameJSON(r.Output, `{"total":90,"currency":"EUR","coupon":"SAVE10"}`) || r.ServedBy != "functions" {
		t.Fatalf("invoke: %+v %s", r.Error, r.Output)
	}
	// Its log is kept, with the secret masked.
	var logs struct {
		Data []struct {
			Logs, Outcome, Trigger string
			TriggerRef             string `json:"trigger_ref"`
		}
	}
	testwait.Within(t, 5*time.Second, "the invocation's log", func() bool {
		s.must(200, "GET", "/v1/tenants/acme/functions/discount/logs", nil, &logs)
		return len(logs.Data) == 1
	})
	l := logs.Data[0]
	if l.Outcome != "ok" || l.Trigger != "hook" || l.TriggerRef != "checkout.discount" || !strings.Contains(l.Logs, "applying [secret COUPON]") {
		t.Errorf("log %+v; want the run, with the secret masked", l)
	}
	// With nothing bound, the input passes through.
	s.tenant("plain")
	if r := s.invoke("plain", "checkout.discount", map[string]int{"total": 5}); string(r.Output) != `{"total":5}` || r.ServedBy != "passthrough" {
		t.Errorf("unbound hook: %+v %s", r.Error, r.Output)
	}
}

func TestATypeScriptFunctionAndAChainOfTwo(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.tenant("acme")
	s.hook("order.enrich", 2000, "fail_closed")
	s.deploy("acme", "first", map[string]any{"runtime": "typescript", "hooks": []string{"order.enrich"}, "code": `
		interface Order { id: string; items: number[] }
		export default (o: Order): Order & { count: number } => ({ ...o, count: o.items.length })`})
	s.deploy("acme", "second", map[string]any{"runtime": "javascript", "hooks": []string{"order.enrich"}, "code": `
		export default (o) => ({ ...o, sum: o.items.reduce((a, b) => a + b, 0), sawCount: o.count })`})
	r := s.invoke("acme", "order.enrich", map[string]any{"id": "o1", "items": []int{1, 2, 3}})
	if r.Error != nil || !sameJSON(r.Output, `{"id":"o1","items":[1,2,3],"count":3,"sum":6,"sawCount":3}`) {
		t.Errorf("chain: %+v %s; want the second to see the first's output", r.Error, r.Output)
	}
}

func TestOnErrorDecidesTheAnswerWhenTheTenantsCodeFails(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.tenant("acme")
	s.hook("open.hook", 500, "fail_open")
	s.hook("closed.hook", 500, "fail_closed")
	s.deploy("acme", "broken", map[string]any{"runtime": "javascript", "hooks": []string{"open.hook", "closed.hook"},
		"code": `export default (i) => { if (i.slow) { while (true) {} } throw new Error("nope " + i.n) }`})
	open := s.invoke("acme", "open.hook", map[string]int{"n": 1})
	if string(open.Output) != `{"n":1}` || open.Error == nil || open.Error.Code != "runtime_error" || !strings.Contains(open.Error.Message, "nope 1") {
		t.Errorf("fail_open: %+v %s; want the input unchanged beside the error", open.Error, open.Output)
	}
	closed := s.invoke("acme", "closed.hook", map[string]int{"n": 2})
	if string(closed.Output) != "null" || closed.Error == nil || closed.Error.Code != "runtime_error" {
		t.Errorf("fail_closed: %+v %s; want null beside the error", closed.Error, closed.Output)
	}
	start := time.Now()
	slow := s.invoke("acme", "closed.hook", map[string]any{"slow": true})
	if slow.Error == nil || slow.Error.Code != "timeout" || string(slow.Output) != "null" || time.Since(start) > 3*time.Second {
		t.Errorf("a function past the hook's 500ms: %+v after %s", slow.Error, time.Since(start))
	}
}

func TestAHookServedByTheTenantsSyncEndpoint(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rcv := newReceiver(t)
	rcv.respond(reply{status: 200, body: `{"total": 80, "by": "endpoint"}`}, reply{status: 500, body: "down"})
	s.tenant("acme")
	s.hook("checkout.discount", 1000, "fail_open")
	var ep struct {
		URL, Secret string
	}
	s.must(201, "PUT", "/v1/tenants/acme/hooks/checkout.discount/endpoint", map[string]any{"url": rcv.srv.URL + "/discount"}, &ep)
	r := s.invoke("acme", "checkout.discount", map[string]int{"total": 100})
	if r.Error != nil || string(r.Output) != `{"total":80,"by":"endpoint"}` || r.ServedBy != "endpoint" {
		t.Fatalf("sync endpoint: %+v %s", r.Error, r.Output)
	}
	req, body := rcv.request(0)
	if string(body) != `{"total":100}` || req.Header.Get("outlet-hook") != "checkout.discount" {
		t.Errorf("the endpoint got %s with hook %q; want the input", body, req.Header.Get("outlet-hook"))
	}
	if err := rcv.verify(0, ep.Secret); err != nil {
		t.Errorf("the Standard Webhooks library rejects the request: %v", err)
	}
	failed := s.invoke("acme", "checkout.discount", map[string]int{"total": 100})
	if failed.Error == nil || !strings.Contains(failed.Error.Message, "500") || string(failed.Output) != `{"total":100}` {
		t.Errorf("a failing endpoint: %+v %s", failed.Error, failed.Output)
	}
	// A function can't serve a hook the tenant's endpoint serves.
	status := s.call(adminKey, "PUT", "/v1/tenants/acme/functions/f", map[string]any{"runtime": "javascript",
		"code": "export default (i) => i", "hooks": []string{"checkout.discount"}}, nil)
	if status != 409 {
		t.Errorf("deploying a function for a hook served by an endpoint answered %d; want 409", status)
	}
}

func TestAFunctionBoundToAnEventIsADeliveryTargetWithItsLogs(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retry-schedule", "50ms")
	upstream := newReceiver(t)
	upstream.respond(reply{status: 503})
	s.tenant("acme")
	s.deploy("acme", "on-paid", map[string]any{"runtime": "javascript", "events": []string{"invoice.*"}, "code": `
		export default async (event) => {
			console.log("got", event.type, "for", event.data.amount)
			const r = await fetch(event.data.notify, { method: "POST", body: event.data })
			if (!r.ok) throw new Error("first try fails: upstream answered " + r.status)
			return { seen: event.type, at: event.timestamp }
		}`})
	id := s.publish("acme", "invoice.paid", map[string]any{"amount": 42, "notify": upstream.srv.URL})
	d := s.waitDelivery("acme", id, "succeeded", 10*time.Second)
	if d.Target.Type != "function" || d.Target.ID != "on-paid" || d.Attempts != 2 {
		t.Errorf("delivery %+v; want two attempts to the function", d)
	}
	var as struct {
		Data []struct {
			Succeeded       bool   `json:"succeeded"`
			Error           string `json:"error"`
			Logs            string `json:"logs"`
			ResponseBody    string `json:"response_body"`
			FunctionVersion int    `json:"function_version"`
			DurationMs      int64  `json:"duration_ms"`
		}
	}
	s.must(200, "GET", "/v1/tenants/acme/deliveries/"+d.ID+"/attempts", nil, &as)
	if len(as.Data) != 2 || as.Data[0].Succeeded || !strings.Contains(as.Data[0].Error, "runtime_error: Error: first try fails") ||
		!as.Data[1].Succeeded || !strings.Contains(as.Data[1].Logs, "got invoice.paid for 42") ||
		!strings.Contains(as.Data[1].ResponseBody, `"seen":"invoice.paid"`) || as.Data[1].FunctionVersion != 1 {
		t.Errorf("attempts %+v", as.Data)
	}
	if ds := s.deliveries("acme", "function=on-paid"); len(ds) != 1 {
		t.Errorf("filtering deliveries by function gave %d", len(ds))
	}
	// A type it isn't bound to makes no delivery.
	other := s.publish("acme", "user.created", map[string]int{"n": 1})
	if ds := s.deliveries("acme", "event_id="+other); len(ds) != 0 {
		t.Errorf("user.created made %d deliveries", len(ds))
	}
}

func TestRollbackRestoresTheEarlierBehaviour(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.tenant("acme")
	s.hook("greet", 1000, "fail_closed")
	v1 := s.deploy("acme", "greeter", map[string]any{"runtime": "javascript", "hooks": []string{"greet"}, "code": `export default (i) => ({ hello: i.name })`})
	v2 := s.deploy("acme", "greeter", map[string]any{"runtime": "javascript", "hooks": []string{"greet"}, "code": `export default (i) => ({ bonjour: i.name })`})
	if v1 != 1 || v2 != 2 {
		t.Fatalf("versions %d, %d", v1, v2)
	}
	if r := s.invoke("acme", "greet", map[string]string{"name": "ada"}); string(r.Output) != `{"bonjour":"ada"}` {
		t.Errorf("v2 answered %s", r.Output)
	}
	var f struct {
		ActiveVersion int `json:"active_version"`
		LatestVersion int `json:"latest_version"`
	}
	s.must(200, "POST", "/v1/tenants/acme/functions/greeter/rollback", map[string]int{"version": 1}, &f)
	if f.ActiveVersion != 1 || f.LatestVersion != 2 {
		t.Errorf("after rollback: %+v", f)
	}
	if r := s.invoke("acme", "greet", map[string]string{"name": "ada"}); string(r.Output) != `{"hello":"ada"}` {
		t.Errorf("after rolling back to v1: %s", r.Output)
	}
	var v struct{ Source string }
	s.must(200, "GET", "/v1/tenants/acme/functions/greeter/versions/2", nil, &v)
	if !strings.Contains(v.Source, "bonjour") {
		t.Errorf("version 2's source: %q", v.Source)
	}
	var vs struct {
		Data []struct {
			Version int
			Active  bool
		}
	}
	s.must(200, "GET", "/v1/tenants/acme/functions/greeter/versions", nil, &vs)
	if len(vs.Data) != 2 || vs.Data[0].Version != 2 || vs.Data[0].Active || !vs.Data[1].Active {
		t.Errorf("versions %+v", vs.Data)
	}
}

func TestTheTestRouteRecordsNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.tenant("acme")
	s.deploy("acme", "f", map[string]any{"runtime": "javascript", "events": []string{"invoice.paid"}, "code": `
		export default (e) => { console.log("testing", e.type); return { ok: e.data.n } }`})
	var res struct {
		Output json.RawMessage
		Error  any
		Logs   string
	}
	s.must(200, "POST", "/v1/tenants/acme/functions/f/test", map[string]any{"event": map[string]any{"type": "invoice.paid", "data": map[string]int{"n": 7}}}, &res)
	if string(res.Output) != `{"ok":7}` || res.Error != nil || res.Logs != "testing invoice.paid\n" {
		t.Errorf("test: %+v", res)
	}
	s.must(200, "POST", "/v1/tenants/acme/functions/f/test", map[string]any{"input": map[string]any{"type": "x", "data": map[string]int{"n": 1}}}, &res)
	time.Sleep(300 * time.Millisecond)
	if ds := s.deliveries("acme", ""); len(ds) != 0 {
		t.Errorf("a test made %d deliveries", len(ds))
	}
	var logs struct{ Data []any }
	s.must(200, "GET", "/v1/tenants/acme/functions/f/logs", nil, &logs)
	if len(logs.Data) != 0 {
		t.Errorf("a test left %d log entries", len(logs.Data))
	}
}

var (
	wasmOnce sync.Once
	wasmBin  []byte
	wasmErr  error
)

// wasmFunction builds e2e/testdata/wasmfn, a Go function made with the
// Extism Go PDK, for wasip1.
func wasmFunction(t *testing.T) []byte {
	t.Helper()
	wasmOnce.Do(func() {
		out := filepath.Join(os.TempDir(), "outlet-e2e-wasmfn.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, ".")
		cmd.Dir = "testdata/wasmfn"
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if wasmErr = cmd.Run(); wasmErr != nil {
			wasmErr = fmt.Errorf("go build: %v: %s", wasmErr, stderr.String())
			return
		}
		wasmBin, wasmErr = os.ReadFile(out)
	})
	if wasmErr != nil {
		t.Fatal(wasmErr)
	}
	return wasmBin
}

func TestAWasmFunctionBuiltFromGoRunsOnAnEventAndAtAHook(t *testing.T) {
	t.Parallel()
	bin := wasmFunction(t)
	s := startServer(t)
	s.tenant("acme")
	s.hook("checkout.discount", 3000, "fail_closed")
	s.must(204, "PUT", "/v1/tenants/acme/secrets/DISCOUNT", map[string]any{"value": "25"}, nil)
	s.deploy("acme", "gofn", map[string]any{"runtime": "wasm", "wasm": base64.StdEncoding.EncodeToString(bin),
		"events": []string{"order.placed"}, "hooks": []string{"checkout.discount"}})
	r := s.invoke("acme", "checkout.discount", map[string]any{"cart": map[string]int{"total": 200}})
	if r.Error != nil || string(r.Output) != `{"cart":{"total":150},"wasm":true}` {
		t.Errorf("wasm at a hook: %+v %s", r.Error, r.Output)
	}
	id := s.publish("acme", "order.placed", map[string]int{"n": 1})
	d := s.waitDelivery("acme", id, "succeeded", 20*time.Second)
	as := s.attempts("acme", d.ID)
	if len(as) != 1 || !as[0].Succeeded || !strings.Contains(as[0].ResponseBody, `"handled":"order.placed"`) {
		t.Errorf("wasm on an event: %+v", as)
	}
	var a struct{ Data []struct{ Logs string } }
	s.must(200, "GET", "/v1/tenants/acme/deliveries/"+d.ID+"/attempts", nil, &a)
	if !strings.Contains(a.Data[0].Logs, "received order.placed") {
		t.Errorf("the wasm function's log line is missing: %q", a.Data[0].Logs)
	}
}

// sameJSON reports whether two JSON texts hold the same value, whatever the
// order of their keys.
func sameJSON(got json.RawMessage, want string) bool {
	var a, b any
	return json.Unmarshal(got, &a) == nil && json.Unmarshal([]byte(want), &b) == nil && reflect.DeepEqual(a, b)
}

func TestADeploysOwnLimitsApplyWithinTheOperatorsMaxima(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--function-max-memory", "128")
	s.tenant("acme")
	s.hook("h", 2000, "fail_closed")
	s.deploy("acme", "tight", map[string]any{"runtime": "javascript", "hooks": []string{"h"},
		"max_output_kb": 1, "stack_frames": 200, "max_logs_kb": 1, "memory_mb": 16, "code": `
		export default (i) => {
			if (i.deep) { const f = (n) => n === 0 ? 0 : f(n - 1) + 1; return f(i.deep) }
			if (i.log) { for (let n = 0; n < 500; n++) console.log("line", n); return 1 }
			if (i.big) { const a = []; while (true) a.push(new Array(1e5).fill(1)) }
			return "x".repeat(i.size)
		}`})
	cases := []struct {
		input    map[string]int
		code     string
		contains string
	}{
		{map[string]int{"size": 500}, "", ""},
		{map[string]int{"size": 2000}, "runtime_error", "limit"},
		{map[string]int{"deep": 100}, "", ""},
		{map[string]int{"deep": 1000}, "runtime_error", "stack overflow"},
		{map[string]int{"big": 1}, "memory_limit", ""},
	}
	for _, c := range cases {
		r := s.invoke("acme", "h", c.input)
		switch {
		case c.code == "" && r.Error != nil:
			t.Errorf("%v: %+v; want it within the limits", c.input, r.Error)
		case c.code != "" && (r.Error == nil || r.Error.Code != c.code || !strings.Contains(r.Error.Message, c.contains)):
			t.Errorf("%v: %+v; want %s mentioning %q", c.input, r.Error, c.code, c.contains)
		}
	}
	var res struct {
		Logs          string
		LogsTruncated bool `json:"logs_truncated"`
	}
	s.must(200, "POST", "/v1/tenants/acme/functions/tight/test", map[string]any{"input": map[string]int{"log": 1}}, &res)
	if len(res.Logs) > 1024 || !res.LogsTruncated {
		t.Errorf("%d bytes of logs, truncated %v; the deploy allows 1 KiB", len(res.Logs), res.LogsTruncated)
	}
	// Asking for more than the operator allows is refused.
	status := s.call(adminKey, "PUT", "/v1/tenants/acme/functions/greedy", map[string]any{"runtime": "javascript",
		"code": "export default () => 1", "memory_mb": 512}, nil)
	if status != 422 {
		t.Errorf("a deploy asking for 512 MiB under a 128 MiB maximum answered %d; want 422", status)
	}
}
