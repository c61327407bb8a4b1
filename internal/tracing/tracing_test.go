package tracing

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/outlethq/outlet"
)

// The variables FromEnv looks at; each test sets them all, so what the
// machine running the tests has set doesn't count.
var envVars = []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"}

func TestTracingIsOnOnlyWhenTheEnvironmentAsksForAnExporter(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		on      string // the exporter described; "" for off
		errWith string // a refusal naming what to fix
	}{
		{name: "nothing set is off", env: nil},
		{name: "an OTLP endpoint turns it on, over HTTP by default", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
			on: "otlp (http/protobuf)"},
		{name: "a traces endpoint alone turns it on", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"},
			on: "otlp (http/protobuf)"},
		{name: "grpc is the other protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			on: "otlp (grpc)"},
		{name: "the traces protocol wins over the general one", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, on: "otlp (http/protobuf)"},
		{name: "the exporter named alone turns it on", env: map[string]string{"OTEL_TRACES_EXPORTER": "console"}, on: "console (stdout)"},
		{name: "none is off, whatever the endpoint", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}},
		{name: "the SDK switched off is off", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}},
		{name: "an exporter Outlet lacks is refused", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, errWith: "OTEL_TRACES_EXPORTER"},
		{name: "a protocol Outlet lacks is refused, naming the variable", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, errWith: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range envVars {
				t.Setenv(k, c.env[k])
			}
			p, err := FromEnv(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if c.errWith != "" {
				if err == nil || !strings.Contains(err.Error(), c.errWith) {
					t.Fatalf("error %v; want one naming %s", err, c.errWith)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Exporter != c.on {
				t.Errorf("exporter %q; want %q", p.Exporter, c.on)
			}
			// Not ended, so there is nothing to export to collectors that
			// aren't there.
			_, span := p.Tracer("test").Start(context.Background(), "s")
			if span.IsRecording() != (c.on != "") {
				t.Errorf("span recording: %v; want %v", span.IsRecording(), c.on != "")
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
}

const platformParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestATraceContextTravelsFromARequestThroughStorageToAnotherRequest(t *testing.T) {
	t.Parallel()
	in := http.Header{}
	in.Set("traceparent", platformParent)
	in.Set("tracestate", "vendor=opaque")
	ctx := Extract(context.Background(), in)

	kept := Of(ctx)
	want := outlet.TraceContext{Parent: platformParent, State: "vendor=opaque"}
	if kept != want {
		t.Fatalf("kept %+v; want %+v", kept, want)
	}
	out := http.Header{}
	Inject(Resume(context.Background(), kept), out)
	if out.Get("traceparent") != platformParent || out.Get("tracestate") != "vendor=opaque" {
		t.Errorf("sent traceparent %q tracestate %q; want the request's", out.Get("traceparent"), out.Get("tracestate"))
	}
}

func TestNoTraceContextMeansNothingKeptOrSent(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]http.Header{
		"none":      {},
		"malformed": {"Traceparent": {"00-not-a-trace-01"}},
		"all zero":  {"Traceparent": {"00-00000000000000000000000000000000-0000000000000000-01"}},
	} {
		ctx := Extract(context.Background(), h)
		if kept := Of(ctx); kept != (outlet.TraceContext{}) {
			t.Errorf("%s: kept %+v; want nothing", name, kept)
		}
		out := http.Header{}
		Inject(Resume(ctx, outlet.TraceContext{}), out)
		if len(out) != 0 {
			t.Errorf("%s: sent %v; want no header", name, out)
		}
	}
}

func TestABatchSpanIsAChildOfItsFirstTracedCallerAndLinksTheOthers(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tracer := tp.Tracer("test")
	untraced := context.Background()
	first, a := tracer.Start(context.Background(), "first")
	second, b := tracer.Start(context.Background(), "second")
	callers := []context.Context{untraced, first, second}
	StartBatch("commit", attribute.String("db.system.name", "sqlite"), len(callers), func(i int) context.Context { return callers[i] }).End()
	a.End()
	b.End()

	var commit sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "commit" {
			commit = s
		}
	}
	if commit == nil {
		t.Fatal("no commit span")
	}
	if commit.Parent().SpanID() != a.SpanContext().SpanID() {
		t.Errorf("commit's parent %s; want the first traced caller's span %s", commit.Parent().SpanID(), a.SpanContext().SpanID())
	}
	if l := commit.Links(); len(l) != 1 || l[0].SpanContext.SpanID() != b.SpanContext().SpanID() {
		t.Errorf("commit's links %v; want the second caller's span", l)
	}

	if span := StartBatch("commit", attribute.String("db.system.name", "sqlite"), 1, func(int) context.Context { return untraced }); span.IsRecording() {
		t.Error("a batch of untraced callers made a recording span")
	}
}

// With tracing off and no trace context to carry, the helpers Outlet calls
// per request, per publish and per attempt allocate nothing, and a span
// costs what the no-op tracer's does: the context that holds it.
func TestWithNothingToTraceTheHelpersAllocateNothing(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}}
	ctx := context.Background()
	callers := []context.Context{ctx, ctx, ctx}
	off := Tracer(nil, "test")
	for _, c := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"Extract", 0, func() { Extract(ctx, h) }},
		{"Of", 0, func() { Of(ctx) }},
		{"Resume", 0, func() { Resume(ctx, outlet.TraceContext{}) }},
		{"Inject", 0, func() { Inject(ctx, h) }},
		{"StartBatch", 0, func() {
			StartBatch("commit", attribute.String("db.system.name", "sqlite"), 3, func(i int) context.Context { return callers[i] }).End()
		}},
		{"a no-op span", 1, func() {
			_, span := off.Start(ctx, "s", AsServer...)
			span.End()
		}},
	} {
		if n := testing.AllocsPerRun(100, c.f); n > c.max {
			t.Errorf("%s: %.0f allocations; want at most %.0f", c.name, n, c.max)
		}
	}
}
