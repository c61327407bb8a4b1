// Package tracing is Outlet's OpenTelemetry tracing: the tracer provider
// that the standard OTEL_* environment variables configure (off when none
// is set), the names of the attributes Outlet's spans carry, and the W3C
// trace context that travels from the platform's request, through the
// stored event, to the requests Outlet sends receivers.
//
// With tracing off the parts get a no-op tracer provider, whose spans cost
// no more than a context lookup; the trace context a platform sends is
// still carried through to receivers, since that is a promise of the API.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/outlethq/outlet"
)

// The attributes of Outlet's own spans, beside the semantic conventions'
// (http.*, db.*, error.type). None ever holds a payload, a secret, a key or
// a header's value.
const (
	Tenant          = attribute.Key("outlet.tenant.id")
	EventID         = attribute.Key("outlet.event.id")
	EventType       = attribute.Key("outlet.event.type")
	Deliveries      = attribute.Key("outlet.deliveries") // how many deliveries a publish made
	Replayed        = attribute.Key("outlet.replayed")   // the publish was a replay of a stored event
	DeliveryID      = attribute.Key("outlet.delivery.id")
	Attempt         = attribute.Key("outlet.attempt") // 1 for a delivery's first attempt
	Trigger         = attribute.Key("outlet.trigger") // why an attempt or a run was made
	EndpointID      = attribute.Key("outlet.endpoint.id")
	Function        = attribute.Key("outlet.function.name")
	FunctionVersion = attribute.Key("outlet.function.version")
	Hook            = attribute.Key("outlet.hook.name")
	ServedBy        = attribute.Key("outlet.hook.served_by")
	BatchSize       = attribute.Key("outlet.batch.size") // callers sharing one commit
)

// Start options for span kinds, made once: an option made in the call to
// Start is allocated on every call, traced or not.
var (
	AsServer   = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}
	AsClient   = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	AsProducer = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindProducer)}
)

// Tracer returns tp's tracer for one of Outlet's packages, or a no-op one
// when tp is nil.
func Tracer(tp trace.TracerProvider, pkg string) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer("github.com/outlethq/outlet/"+pkg, trace.WithInstrumentationVersion(version()))
}

var propagator = propagation.TraceContext{}

// Extract returns ctx with the trace context of h, an incoming request's
// headers, as the remote parent; ctx itself if h has none.
func Extract(ctx context.Context, h http.Header) context.Context {
	if len(h["Traceparent"]) == 0 {
		return ctx
	}
	return propagator.Extract(ctx, propagation.HeaderCarrier(h))
}

// Inject sets traceparent (and tracestate) on h, an outgoing request's
// headers, to the span context of ctx, if it has one.
func Inject(ctx context.Context, h http.Header) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// Of returns the trace context of the span in ctx, to keep with an event;
// empty if ctx is in no trace.
func Of(ctx context.Context) outlet.TraceContext {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return outlet.TraceContext{}
	}
	var tc outlet.TraceContext
	propagator.Inject(ctx, carrier{&tc})
	return tc
}

// Resume returns ctx with a kept trace context as its remote parent; ctx
// itself if tc is empty (or not valid).
func Resume(ctx context.Context, tc outlet.TraceContext) context.Context {
	if tc.Parent == "" {
		return ctx
	}
	kept := tc // only a trace context read escapes, not every call's
	return propagator.Extract(ctx, carrier{&kept})
}

// carrier reads and writes a kept trace context as the propagator's headers.
type carrier struct{ tc *outlet.TraceContext }

func (c carrier) Get(key string) string {
	switch key {
	case "traceparent":
		return c.tc.Parent
	case "tracestate":
		return c.tc.State
	}
	return ""
}

func (c carrier) Set(key, value string) {
	switch key {
	case "traceparent":
		c.tc.Parent = value
	case "tracestate":
		c.tc.State = value
	}
}

func (c carrier) Keys() []string { return []string{"traceparent", "tracestate"} }

// StartBatch starts the span of work done at once for n callers, such as a
// store's group commit, whose contexts caller returns: a child of the
// first caller's span that is recording, linked to the others', so each
// caller's trace shows the commit it waited for. When no caller's span is
// recording it starts nothing and returns a span that does nothing. The
// span's tracer is the callers', so that a store needs no tracer of its own.
func StartBatch(name string, system attribute.KeyValue, n int, caller func(i int) context.Context) trace.Span {
	var parent context.Context
	var links []trace.Link
	for i := range n {
		ctx := caller(i)
		span := trace.SpanFromContext(ctx)
		switch {
		case !span.IsRecording():
		case parent == nil:
			parent = ctx
		default:
			links = append(links, trace.Link{SpanContext: span.SpanContext()})
		}
	}
	if parent == nil {
		return trace.SpanFromContext(context.Background())
	}
	tracer := trace.SpanFromContext(parent).TracerProvider().Tracer("github.com/outlethq/outlet/store", trace.WithInstrumentationVersion(version()))
	_, span := tracer.Start(parent, name, trace.WithLinks(links...), trace.WithAttributes(system, BatchSize.Int(n)))
	return span
}

// Provider is the tracer provider a server runs with.
type Provider struct {
	trace.TracerProvider
	// Exporter says where spans go, for the startup log: "" when tracing
	// is off.
	Exporter string
	sdk      *sdktrace.TracerProvider
}

// Shutdown exports the spans still buffered and stops exporting.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	return p.sdk.Shutdown(ctx)
}

// FromEnv builds the tracer provider the standard OTEL_* variables ask for.
// Tracing is on when OTEL_TRACES_EXPORTER names an exporter, or, with it
// unset, when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; OTEL_SDK_DISABLED=true turns it
// off. The exporters, the sampler (OTEL_TRACES_SAMPLER), the batching
// (OTEL_BSP_*) and the resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES)
// read the rest of their variables themselves. Failures to export are
// logged to log.
func FromEnv(ctx context.Context, log *slog.Logger) (*Provider, error) {
	off := &Provider{TracerProvider: noop.NewTracerProvider()}
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return off, nil
	}
	names := strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")))
	if names == "" {
		if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			return off, nil
		}
		names = "otlp"
	}
	var exporters []sdktrace.SpanExporter
	var described []string
	for _, name := range strings.Split(names, ",") {
		exp, desc, err := exporter(ctx, strings.TrimSpace(name))
		if err != nil {
			for _, e := range exporters {
				e.Shutdown(ctx)
			}
			return nil, err
		}
		if exp != nil {
			exporters, described = append(exporters, exp), append(described, desc)
		}
	}
	if len(exporters) == 0 {
		return off, nil // "none"
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("outlet"), semconv.ServiceVersion(version())),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the above
		resource.WithTelemetrySDK(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	for _, e := range exporters {
		opts = append(opts, sdktrace.WithBatcher(e))
	}
	// The SDK reports what goes wrong in the background (a collector that
	// can't be reached) through OpenTelemetry's one error handler.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: exporting spans failed", "err", err)
	}))
	sdk := sdktrace.NewTracerProvider(opts...)
	return &Provider{TracerProvider: sdk, Exporter: strings.Join(described, ", "), sdk: sdk}, nil
}

// exporter makes the span exporter OTEL_TRACES_EXPORTER names: nil for none.
func exporter(ctx context.Context, name string) (sdktrace.SpanExporter, string, error) {
	switch name {
	case "none":
		return nil, "", nil
	case "console":
		exp, err := stdouttrace.New()
		return exp, "console (stdout)", err
	case "otlp":
		key := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
		proto := os.Getenv(key)
		if proto == "" {
			key = "OTEL_EXPORTER_OTLP_PROTOCOL"
			proto = os.Getenv(key)
		}
		switch proto {
		case "", "http/protobuf":
			exp, err := otlptracehttp.New(ctx)
			return exp, "otlp (http/protobuf)", err
		case "grpc":
			exp, err := otlptracegrpc.New(ctx)
			return exp, "otlp (grpc)", err
		}
		return nil, "", fmt.Errorf("%s %q is not supported: use http/protobuf (the default) or grpc", key, proto)
	}
	return nil, "", fmt.Errorf("OTEL_TRACES_EXPORTER %q is not supported: use otlp, console or none", name)
}

// version is the module version this binary was built from: "devel" when
// Go knows none.
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}
