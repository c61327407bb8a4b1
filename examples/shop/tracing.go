package main

import (
	"context"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The shop's own spans make each checkout one trace: the shop's request,
// the hook call with the merchant's function it ran, the publish, and every
// delivery of the order's event, however much later. Outlet reads the same
// OTEL_* variables, so setting OTEL_EXPORTER_OTLP_ENDPOINT turns tracing on
// for both.
var tracer = otel.Tracer("shop")

// startTracing exports the shop's spans over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) is set; otherwise the
// tracer does nothing. stop flushes what is left.
func startTracing(ctx context.Context) (stop func(context.Context) error, err error) {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, err
	}
	// service.name is "shop" unless OTEL_SERVICE_NAME or
	// OTEL_RESOURCE_ATTRIBUTES say otherwise.
	res, err := resource.Merge(resource.NewSchemaless(attribute.String("service.name", "shop")), resource.Environment())
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	// The Go SDK sends the current span as traceparent with every call, so
	// Outlet's spans for it are its children.
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return tp.Shutdown, nil
}
