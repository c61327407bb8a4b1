package app_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/outlethq/outlet/internal/app"
)

// BenchmarkPublishAndDeliver measures one event through the whole server —
// the API request, the commit, the attempt to a receiver on loopback and
// the commit of its outcome — by its allocations as much as its time, which
// a busy machine doesn't disturb: with tracing off, as `outlet serve` runs
// with no OTEL_* set, and with every span recorded and handed to a batch
// exporter that discards it (what tracing costs Outlet, without a network).
func BenchmarkPublishAndDeliver(b *testing.B) {
	b.Run("tracing=off", func(b *testing.B) { benchPublish(b, nil) })
	b.Run("tracing=on", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		b.Cleanup(func() { tp.Shutdown(context.Background()) })
		benchPublish(b, func(c *app.Config) { c.TracerProvider = tp })
	})
}

func benchPublish(b *testing.B, configure func(*app.Config)) {
	b.Setenv("OTEL_TRACES_EXPORTER", "none") // whatever the machine's environment says
	var received atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(receiver.Close)
	cfg := config(b.TempDir())
	if configure != nil {
		configure(&cfg)
	}
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	a.Start(ln)
	b.Cleanup(func() { a.Shutdown(context.Background()) })
	post := func(path, body string, want int) {
		status, got, err := do(a.URL(), "POST", path, body)
		if err != nil || status != want {
			b.Fatalf("POST %s: %d %s %v", path, status, got, err)
		}
	}
	post("/v1/tenants", `{"id":"acme","name":"Acme"}`, 201)
	post("/v1/tenants/acme/endpoints", `{"url":"`+receiver.URL+`"}`, 201)
	body := `{"type":"invoice.paid","data":{"invoice":"` + strings.Repeat("x", 1000) + `"}}`

	b.ReportAllocs()
	b.SetParallelism(16) // 32 publishers on two cores, as outlet bench has
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			status, got, err := do(a.URL(), "POST", "/v1/tenants/acme/events", body)
			if err != nil || status != 202 {
				b.Errorf("publish: %d %s %v", status, got, err)
				return
			}
		}
	})
	// The deliveries belong to the events measured.
	for deadline := time.Now().Add(time.Minute); received.Load() < int64(b.N) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
