package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/outlethq/outlet"
)

// The platform's span, as its traceparent names it.
const (
	platformTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	platformSpanID  = "00f067aa0ba902b7"
	platformParent  = "00-" + platformTraceID + "-" + platformSpanID + "-01"
)

// What must never be in a span: the event's data, a hook's input, a
// tenant's secret, an endpoint's signing secret and custom headers, keys.
const (
	payloadMarker = "payload-7f3a9c-do-not-trace"
	secretValue   = "secret-value-51e2-do-not-trace"
	headerValue   = "Bearer header-cred-88d1-do-not-trace"
)

// tracedServer is a server whose spans a recorder keeps.
func tracedServer(t *testing.T, schedule outlet.RetrySchedule) (url string, spans *tracetest.SpanRecorder) {
	t.Helper()
	spans = tracetest.NewSpanRecorder()
	cfg := config(t.TempDir())
	cfg.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	cfg.RetrySchedule = schedule
	return start(t, cfg).URL(), spans
}

// traceReceiver records the traceparent of every request and answers with
// the statuses queued, then 200 with body.
type traceReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	parents  []string
	statuses []int
}

func newTraceReceiver(t *testing.T, body string, statuses ...int) *traceReceiver {
	r := &traceReceiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.parents = append(r.parents, req.Header.Get("traceparent"))
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *traceReceiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.parents...)
}

// traced makes an admin request with the platform's traceparent (unless
// parent is empty) and answers the status and body.
func traced(t *testing.T, url, method, path, parent, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	if parent != "" {
		req.Header.Set("traceparent", parent)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// waitSpans waits until spans has ended ones that satisfy enough, and
// returns them all.
func waitSpans(t *testing.T, spans *tracetest.SpanRecorder, what string, enough func([]sdktrace.ReadOnlySpan) bool) []sdktrace.ReadOnlySpan {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got := spans.Ended(); enough(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; spans: %s", what, describeSpans(spans.Ended()))
		}
	}
}

func named(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func childrenOf(spans []sdktrace.ReadOnlySpan, parent sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range named(spans, name) {
		if s.Parent().SpanID() == parent.SpanContext().SpanID() && s.SpanContext().TraceID() == parent.SpanContext().TraceID() {
			out = append(out, s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value
		}
	}
	return attribute.Value{}
}

// wantAttrs checks that s has these attributes, with these values.
func wantAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got := attr(s, k).AsInterface(); got != v {
			t.Errorf("span %q: %s = %v; want %v", s.Name(), k, got, v)
		}
	}
}

// wantNothingSecret fails if any attribute of any span holds one of the
// strings.
func wantNothingSecret(t *testing.T, spans []sdktrace.ReadOnlySpan, secrets ...string) {
	t.Helper()
	for _, s := range spans {
		for _, a := range s.Attributes() {
			for _, sec := range secrets {
				if strings.Contains(a.Value.Emit(), sec) {
					t.Errorf("span %q: attribute %s holds %q", s.Name(), a.Key, sec)
				}
			}
		}
	}
}

func describeSpans(spans []sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString("\n  " + s.Name() + " " + s.SpanContext().SpanID().String() + " ← " + s.Parent().SpanID().String())
	}
	return b.String()
}

func traceIDOf(traceparent string) string {
	if p := strings.Split(traceparent, "-"); len(p) == 4 {
		return p[1]
	}
	return ""
}

func spanIDOf(traceparent string) string {
	if p := strings.Split(traceparent, "-"); len(p) == 4 {
		return p[2]
	}
	return ""
}

// A platform's publish, in its trace, is the parent of every attempt of the
// event's deliveries — a retry made later from the store too — and each
// receiver gets the attempt's span as its traceparent; the store's commit
// is in the trace as well. No span holds the payload or a secret.
func TestAPublishIsTheParentOfEveryAttemptAndReceiversGetItsTrace(t *testing.T) {
	t.Parallel()
	url, spans := tracedServer(t, outlet.RetrySchedule{10 * time.Millisecond})
	receiver := newTraceReceiver(t, `{}`, http.StatusInternalServerError)

	call(t, url, "POST", "/v1/tenants", `{"id":"acme","name":"Acme"}`, 201, nil)
	call(t, url, "PUT", "/v1/tenants/acme/secrets/TOKEN", `{"value":"`+secretValue+`"}`, 204, nil)
	var ep struct{ ID, Secret string }
	call(t, url, "POST", "/v1/tenants/acme/endpoints", `{"url":"`+receiver.URL+`","event_types":["invoice.paid"],
		"headers":{"Authorization":"`+headerValue+`"}}`, 201, &ep)
	code, _ := json.Marshal(`export default function (event, ctx) { return { seen: event.data.note, token: ctx.secrets.TOKEN }; }`)
	call(t, url, "PUT", "/v1/tenants/acme/functions/audit", `{"runtime":"javascript","code":`+string(code)+`,"events":["invoice.paid"]}`, 201, nil)

	status, body := traced(t, url, "POST", "/v1/tenants/acme/events", platformParent, `{"type":"invoice.paid","data":{"note":"`+payloadMarker+`"}}`)
	if status != 202 {
		t.Fatalf("publish answered %d: %s", status, body)
	}
	var ev struct{ ID string }
	json.Unmarshal(body, &ev)

	got := waitSpans(t, spans, "the publish, two attempts of the webhook and the function's run", func(s []sdktrace.ReadOnlySpan) bool {
		return len(named(s, "publish")) == 1 && len(named(s, "deliver")) == 3 && len(named(s, "function.run")) == 1
	})

	servers := named(got, "POST /v1/tenants/{tenant}/events")
	if len(servers) != 1 {
		t.Fatalf("%d server spans of the publish; want 1:%s", len(servers), describeSpans(got))
	}
	server := servers[0]
	if server.SpanKind() != trace.SpanKindServer || server.SpanContext().TraceID().String() != platformTraceID || server.Parent().SpanID().String() != platformSpanID {
		t.Errorf("the request's span (kind %s) is in trace %s under %s; want a server span under the platform's %s",
			server.SpanKind(), server.SpanContext().TraceID(), server.Parent().SpanID(), platformParent)
	}
	wantAttrs(t, server, map[string]any{"http.request.method": "POST", "http.route": "/v1/tenants/{tenant}/events",
		"http.response.status_code": int64(202), "outlet.tenant.id": "acme"})

	publishes := childrenOf(got, server, "publish")
	if len(publishes) != 1 {
		t.Fatalf("the publish span is not the request's child:%s", describeSpans(got))
	}
	publish := publishes[0]
	wantAttrs(t, publish, map[string]any{"outlet.tenant.id": "acme", "outlet.event.id": ev.ID, "outlet.event.type": "invoice.paid",
		"outlet.deliveries": int64(2), "outlet.replayed": false})
	if len(childrenOf(got, publish, "sqlite.commit")) != 1 {
		t.Errorf("no commit span under the publish:%s", describeSpans(got))
	}

	attempts := childrenOf(got, publish, "deliver")
	var webhook []sdktrace.ReadOnlySpan
	var fn sdktrace.ReadOnlySpan
	for _, a := range attempts {
		if attr(a, "outlet.endpoint.id").AsString() == ep.ID {
			webhook = append(webhook, a)
		} else if attr(a, "outlet.function.name").AsString() == "audit" {
			fn = a
		}
	}
	if len(webhook) != 2 || fn == nil {
		t.Fatalf("under the publish: %d webhook attempts and function attempt %v; want 2 and 1:%s", len(webhook), fn != nil, describeSpans(got))
	}
	parents := receiver.got()
	if len(parents) != 2 {
		t.Fatalf("the receiver got %d requests; want 2", len(parents))
	}
	for i, a := range webhook {
		n := attr(a, "outlet.attempt").AsInt64()
		if n != int64(i+1) {
			t.Errorf("attempt span %d says attempt %d", i+1, n)
		}
		wantAttrs(t, a, map[string]any{"outlet.tenant.id": "acme", "outlet.event.id": ev.ID, "outlet.event.type": "invoice.paid",
			"http.request.method": "POST", "server.address": "127.0.0.1"})
		if attr(a, "outlet.delivery.id").AsString() == "" {
			t.Errorf("attempt %d has no delivery id", n)
		}
		if a.SpanKind() != trace.SpanKindClient {
			t.Errorf("attempt %d is a %s span; want client", n, a.SpanKind())
		}
		if traceIDOf(parents[i]) != platformTraceID || spanIDOf(parents[i]) != a.SpanContext().SpanID().String() {
			t.Errorf("request %d came with traceparent %q; want the platform's trace and attempt %d's span %s", i+1, parents[i], n, a.SpanContext().SpanID())
		}
	}
	wantAttrs(t, webhook[0], map[string]any{"http.response.status_code": int64(500), "error.type": "500"})
	wantAttrs(t, webhook[1], map[string]any{"http.response.status_code": int64(200)})

	runs := childrenOf(got, fn, "function.run")
	if len(runs) != 1 {
		t.Fatalf("the function's attempt has %d runs under it; want 1:%s", len(runs), describeSpans(got))
	}
	wantAttrs(t, runs[0], map[string]any{"outlet.function.name": "audit", "outlet.function.version": int64(1), "outlet.trigger": "event"})

	wantNothingSecret(t, got, payloadMarker, secretValue, headerValue, ep.Secret, adminKey)
}

// A hook invocation in the platform's trace is the parent of every function
// of its chain; a tenant's sync endpoint gets the trace as its traceparent.
func TestAHookInvocationIsTheParentOfEveryFunctionInItsChain(t *testing.T) {
	t.Parallel()
	url, spans := tracedServer(t, outlet.RetrySchedule{})
	sync := newTraceReceiver(t, `{"total":1}`)

	call(t, url, "POST", "/v1/hooks", `{"name":"checkout.discount","timeout_ms":5000}`, 201, nil)
	call(t, url, "POST", "/v1/tenants", `{"id":"acme","name":"Acme"}`, 201, nil)
	call(t, url, "POST", "/v1/tenants", `{"id":"globex","name":"Globex"}`, 201, nil)
	call(t, url, "PUT", "/v1/tenants/acme/secrets/TOKEN", `{"value":"`+secretValue+`"}`, 204, nil)
	for _, name := range []string{"first", "second"} {
		code, _ := json.Marshal(`export default function (input, ctx) { return { ...input, ` + name + `: ctx.secrets.TOKEN.length }; }`)
		call(t, url, "PUT", "/v1/tenants/acme/functions/"+name, `{"runtime":"javascript","code":`+string(code)+`,"hooks":["checkout.discount"]}`, 201, nil)
	}
	var hookEP struct{ Secret string }
	call(t, url, "PUT", "/v1/tenants/globex/hooks/checkout.discount/endpoint", `{"url":"`+sync.URL+`"}`, 201, &hookEP)

	input := `{"input":{"cart":"` + payloadMarker + `"}}`
	for _, tenant := range []string{"acme", "globex"} {
		if status, body := traced(t, url, "POST", "/v1/tenants/"+tenant+"/hooks/checkout.discount/invoke", platformParent, input); status != 200 ||
			strings.Contains(string(body), `"error":{`) {
			t.Fatalf("%s's invoke answered %d: %s", tenant, status, body)
		}
	}
	got := waitSpans(t, spans, "both invocations", func(s []sdktrace.ReadOnlySpan) bool {
		return len(named(s, "hook.invoke")) == 2 && len(named(s, "POST /v1/tenants/{tenant}/hooks/{hook}/invoke")) == 2
	})

	for _, server := range named(got, "POST /v1/tenants/{tenant}/hooks/{hook}/invoke") {
		tenant := attr(server, "outlet.tenant.id").AsString()
		if server.SpanContext().TraceID().String() != platformTraceID || server.Parent().SpanID().String() != platformSpanID {
			t.Errorf("%s's invoke request is not under the platform's span", tenant)
		}
		invokes := childrenOf(got, server, "hook.invoke")
		if len(invokes) != 1 {
			t.Fatalf("%s's invoke request has %d hook.invoke spans under it; want 1:%s", tenant, len(invokes), describeSpans(got))
		}
		invoke := invokes[0]
		wantAttrs(t, invoke, map[string]any{"outlet.tenant.id": tenant, "outlet.hook.name": "checkout.discount"})
		switch tenant {
		case "acme":
			wantAttrs(t, invoke, map[string]any{"outlet.hook.served_by": "functions"})
			runs := childrenOf(got, invoke, "function.run")
			var names []string
			for _, r := range runs {
				names = append(names, attr(r, "outlet.function.name").AsString())
				wantAttrs(t, r, map[string]any{"outlet.tenant.id": "acme", "outlet.trigger": "hook", "outlet.function.version": int64(1)})
			}
			if strings.Join(names, ",") != "first,second" {
				t.Errorf("the chain's runs under the invocation: %v; want first, second", names)
			}
		case "globex":
			wantAttrs(t, invoke, map[string]any{"outlet.hook.served_by": "endpoint"})
			calls := childrenOf(got, invoke, "hook.endpoint")
			if len(calls) != 1 {
				t.Fatalf("no hook.endpoint span under globex's invocation:%s", describeSpans(got))
			}
			wantAttrs(t, calls[0], map[string]any{"http.response.status_code": int64(200), "server.address": "127.0.0.1"})
			parents := sync.got()
			if len(parents) != 1 || traceIDOf(parents[0]) != platformTraceID || spanIDOf(parents[0]) != calls[0].SpanContext().SpanID().String() {
				t.Errorf("the sync endpoint got traceparent %v; want the platform's trace and the call's span", parents)
			}
		}
	}
	wantNothingSecret(t, got, payloadMarker, secretValue, hookEP.Secret, adminKey)
}

// Exporting nothing, Outlet still carries the platform's trace to
// receivers: the contract says a publish's traceparent is the parent of
// what its deliveries carry.
func TestWithTracingOffReceiversStillGetThePlatformsTrace(t *testing.T) {
	for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		t.Setenv(k, "")
	}
	cfg := config(t.TempDir())
	cfg.RetrySchedule = outlet.RetrySchedule{10 * time.Millisecond}
	url := start(t, cfg).URL()
	paid := newTraceReceiver(t, `{}`, http.StatusServiceUnavailable)
	created := newTraceReceiver(t, `{}`)
	call(t, url, "POST", "/v1/tenants", `{"id":"acme","name":"Acme"}`, 201, nil)
	call(t, url, "POST", "/v1/tenants/acme/endpoints", `{"url":"`+paid.URL+`","event_types":["invoice.paid"]}`, 201, nil)
	call(t, url, "POST", "/v1/tenants/acme/endpoints", `{"url":"`+created.URL+`","event_types":["invoice.created"]}`, 201, nil)

	if status, body := traced(t, url, "POST", "/v1/tenants/acme/events", platformParent, `{"type":"invoice.paid","data":{}}`); status != 202 {
		t.Fatalf("publish answered %d: %s", status, body)
	}
	if status, body := traced(t, url, "POST", "/v1/tenants/acme/events", "", `{"type":"invoice.created","data":{}}`); status != 202 {
		t.Fatalf("publish answered %d: %s", status, body)
	}
	for deadline := time.Now().Add(30 * time.Second); len(paid.got()) < 2 || len(created.got()) < 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the receivers got %d and %d requests; want 2 (a retry) and 1", len(paid.got()), len(created.got()))
		}
	}
	for i, p := range paid.got() {
		if p != platformParent {
			t.Errorf("attempt %d of the traced event came with traceparent %q; want the platform's %q", i+1, p, platformParent)
		}
	}
	if p := created.got()[0]; p != "" {
		t.Errorf("the event published without a trace was sent with traceparent %q; want none", p)
	}
}
