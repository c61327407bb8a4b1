package e2e

import (
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

const (
	platformTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	platformSpanID  = "00f067aa0ba902b7"
	platformParent  = "00-" + platformTraceID + "-" + platformSpanID + "-01"
)

// otelUnset blanks the OTEL_* variables the test's own environment may
// have, so that a node traces only as the test says.
var otelUnset = []string{"OTEL_SDK_DISABLED=", "OTEL_TRACES_EXPORTER=", "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=",
	"OTEL_EXPORTER_OTLP_PROTOCOL=", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=", "OTEL_TRACES_SAMPLER=", "OTEL_SERVICE_NAME="}

// span is a span as an OTLP collector received it.
type span struct {
	service          string
	name             string
	kind             tracepb.Span_SpanKind
	traceID, spanID  string
	parentID         string
	attrs            map[string]string
	rawAttributeText []string // every attribute's value, as text
}

// otlpCollector is an OTLP/HTTP collector on loopback: it decodes the
// protobuf requests an exporter posts to /v1/traces and keeps the spans.
type otlpCollector struct {
	*httptest.Server
	mu    sync.Mutex
	spans []span
}

func newOTLPCollector(t *testing.T) *otlpCollector {
	c := &otlpCollector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = gz
		}
		b, err := io.ReadAll(io.LimitReader(body, 16<<20))
		var req coltrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(b, &req)
		}
		if err != nil {
			t.Errorf("the collector got a request it can't read: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.keep(&req)
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *otlpCollector) keep(req *coltrace.ExportTraceServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				service = a.Value.GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				sp := span{service: service, name: s.Name, kind: s.Kind, traceID: hex.EncodeToString(s.TraceId),
					spanID: hex.EncodeToString(s.SpanId), parentID: hex.EncodeToString(s.ParentSpanId), attrs: map[string]string{}}
				for _, a := range s.Attributes {
					v := valueText(a.Value)
					sp.attrs[a.Key] = v
					sp.rawAttributeText = append(sp.rawAttributeText, v)
				}
				for _, e := range s.Events {
					for _, a := range e.Attributes {
						sp.rawAttributeText = append(sp.rawAttributeText, valueText(a.Value))
					}
				}
				c.spans = append(c.spans, sp)
			}
		}
	}
}

func valueText(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return fmt.Sprint(x.IntValue)
	case *commonpb.AnyValue_BoolValue:
		return fmt.Sprint(x.BoolValue)
	case *commonpb.AnyValue_DoubleValue:
		return fmt.Sprint(x.DoubleValue)
	}
	b, _ := json.Marshal(v) // arrays, maps, bytes: their whole text
	return string(b)
}

func (c *otlpCollector) named(name string) []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []span
	for _, s := range c.spans {
		if s.name == name {
			out = append(out, s)
		}
	}
	return out
}

func (c *otlpCollector) all() []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]span(nil), c.spans...)
}

func (c *otlpCollector) children(parent span, name string) []span {
	var out []span
	for _, s := range c.named(name) {
		if s.traceID == parent.traceID && s.parentID == parent.spanID {
			out = append(out, s)
		}
	}
	return out
}

// one returns the one span of the list, failing the test unless there is
// exactly one.
func one(t *testing.T, spans []span, what string) span {
	t.Helper()
	if len(spans) != 1 {
		t.Fatalf("%d spans of %s; want 1", len(spans), what)
	}
	return spans[0]
}

// Through the real binary, configured by OTEL_EXPORTER_OTLP_ENDPOINT alone:
// a publish and a hook invocation in the platform's trace reach an OTLP
// collector as span trees — request, publish, commit, attempt; request,
// invocation, function run — with the receiver's traceparent naming the
// attempt; the spans still buffered are exported when the server stops; and
// no span holds the payload or a secret.
func TestTracesReachAnOTLPCollectorAsTreesUnderThePlatformsTrace(t *testing.T) {
	t.Parallel()
	const payload, secret = "payload-e2e-6d1c-do-not-trace", "secret-e2e-0b7e-do-not-trace"
	collector := newOTLPCollector(t)
	s := startNode(t, append(otelUnset, "OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL, "OTEL_SERVICE_NAME=outlet-e2e"))
	rcv := newReceiver(t)

	tenant := s.tenant("acme")
	s.must(204, "PUT", "/v1/tenants/acme/secrets/TOKEN", map[string]any{"value": secret}, nil)
	ep := s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	s.must(201, "POST", "/v1/hooks", map[string]any{"name": "checkout.discount", "timeout_ms": 5000}, nil)
	s.must(201, "PUT", "/v1/tenants/acme/functions/discount", map[string]any{"runtime": "javascript", "hooks": []string{"checkout.discount"},
		"code": `export default function (input, ctx) { return { ...input, off: ctx.secrets.TOKEN.length }; }`}, nil)

	traced := map[string]string{"traceparent": platformParent}
	var ev struct{ ID string }
	if got := s.callWithHeaders(adminKey, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.paid", "data": map[string]any{"note": payload}},
		traced, &ev); got != 202 {
		t.Fatalf("publish answered %d", got)
	}
	var inv struct{ Error any }
	if got := s.callWithHeaders(adminKey, "POST", "/v1/tenants/acme/hooks/checkout.discount/invoke", map[string]any{"input": map[string]any{"cart": payload}},
		traced, &inv); got != 200 || inv.Error != nil {
		t.Fatalf("invoke answered %d, error %v", got, inv.Error)
	}
	rcv.waitCount(1, 30*time.Second)
	s.waitDelivery(tenant, ev.ID, "succeeded", 30*time.Second)
	req, _ := rcv.request(0)
	sent := req.Header.Get("traceparent")

	s.stop() // the batch of spans not yet exported goes out now
	if len(collector.all()) == 0 {
		t.Fatalf("the collector got no span by the time the server stopped\n%s", s.logs)
	}

	publishReq := one(t, collector.named("POST /v1/tenants/{tenant}/events"), "the publish request")
	if publishReq.traceID != platformTraceID || publishReq.parentID != platformSpanID || publishReq.kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("the publish request's span is %s in trace %s under %s; want a server span under the platform's span", publishReq.kind, publishReq.traceID, publishReq.parentID)
	}
	if publishReq.service != "outlet-e2e" {
		t.Errorf("service.name %q; want OTEL_SERVICE_NAME's", publishReq.service)
	}
	publish := one(t, collector.children(publishReq, "publish"), "publish under the request")
	if publish.attrs["outlet.event.id"] != ev.ID || publish.attrs["outlet.tenant.id"] != "acme" || publish.attrs["outlet.event.type"] != "invoice.paid" {
		t.Errorf("publish attributes %v", publish.attrs)
	}
	one(t, collector.children(publish, "sqlite.commit"), "the commit under the publish")
	attempt := one(t, collector.children(publish, "deliver"), "attempts under the publish")
	if attempt.attrs["outlet.endpoint.id"] != ep.ID || attempt.attrs["outlet.attempt"] != "1" || attempt.attrs["http.response.status_code"] != "200" {
		t.Errorf("attempt attributes %v", attempt.attrs)
	}
	if want := "00-" + platformTraceID + "-" + attempt.spanID + "-01"; sent != want {
		t.Errorf("the receiver got traceparent %q; want %q, the attempt's span in the platform's trace", sent, want)
	}

	invokeReq := one(t, collector.named("POST /v1/tenants/{tenant}/hooks/{hook}/invoke"), "the invoke request")
	if invokeReq.traceID != platformTraceID || invokeReq.parentID != platformSpanID {
		t.Errorf("the invoke request's span is in trace %s under %s; want the platform's", invokeReq.traceID, invokeReq.parentID)
	}
	invoke := one(t, collector.children(invokeReq, "hook.invoke"), "hook.invoke under the request")
	run := one(t, collector.children(invoke, "function.run"), "function runs under the invocation")
	if run.attrs["outlet.function.name"] != "discount" || run.attrs["outlet.trigger"] != "hook" {
		t.Errorf("function run attributes %v", run.attrs)
	}

	for _, sp := range collector.all() {
		for _, v := range sp.rawAttributeText {
			for _, bad := range []string{payload, secret, ep.Secret, adminKey} {
				if strings.Contains(v, bad) {
					t.Errorf("span %q has an attribute holding %q", sp.name, bad)
				}
			}
		}
	}
}

// With no OTEL_* variable set Outlet exports nothing, yet a receiver still
// gets the platform's trace: the traceparent of the publish.
func TestWithTracingOffAReceiverGetsThePublishsTraceparent(t *testing.T) {
	t.Parallel()
	s := startNode(t, otelUnset)
	rcv := newReceiver(t)
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	var ev struct{ ID string }
	if got := s.callWithHeaders(adminKey, "POST", "/v1/tenants/acme/events", map[string]any{"type": "invoice.paid", "data": map[string]any{}},
		map[string]string{"traceparent": platformParent}, &ev); got != 202 {
		t.Fatalf("publish answered %d", got)
	}
	rcv.waitCount(1, 30*time.Second)
	req, _ := rcv.request(0)
	if got := req.Header.Get("traceparent"); got != platformParent {
		t.Errorf("the receiver got traceparent %q; want the publish's %q", got, platformParent)
	}
	if strings.Contains(s.logs.String(), "tracing: exporting") {
		t.Errorf("the server says it exports spans with no OTEL_* variable set:\n%s", s.logs)
	}
}
