package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

// statusCounter is a recorder that also counts answers by status.
type statusCounter struct {
	next     http.RoundTripper
	statuses [600]atomic.Int32
}

func (s *statusCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err == nil && resp.StatusCode < len(s.statuses) {
		s.statuses[resp.StatusCode].Add(1)
	}
	return resp, err
}

func TestRetries(t *testing.T) {
	t.Parallel()

	t.Run("a publish past the tenant's rate limit waits for Retry-After and succeeds", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := context.Background()
		if _, err := b.admin.Tenants.Create(ctx, client.TenantCreate{ID: "acme", PublishRateLimit: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.admin.EventTypes.Create(ctx, client.EventTypeCreate{Name: "invoice.paid"}); err != nil {
			t.Fatal(err)
		}
		counts := &statusCounter{next: http.DefaultTransport}
		c := client.New(b.url, adminKey, client.WithHTTPClient(&http.Client{Transport: counts}))
		for i := range 3 {
			if _, err := c.Events.Publish(ctx, "acme", client.Publish{Type: "invoice.paid", Data: map[string]any{"n": i}}); err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
		}
		if n := counts.statuses[http.StatusTooManyRequests].Load(); n == 0 {
			t.Errorf("3 publishes at 1 event/s met no 429; the test doesn't test retrying")
		}
		if n := counts.statuses[http.StatusAccepted].Load(); n != 3 {
			t.Errorf("%d publishes accepted, want 3", n)
		}
	})

	t.Run("without retries the 429 is the caller's, with its code", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := context.Background()
		if _, err := b.admin.Tenants.Create(ctx, client.TenantCreate{ID: "acme", PublishRateLimit: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.admin.EventTypes.Create(ctx, client.EventTypeCreate{Name: "invoice.paid"}); err != nil {
			t.Fatal(err)
		}
		c := client.New(b.url, adminKey, client.WithRetries(0))
		var err error
		for i := 0; i < 5 && err == nil; i++ {
			_, err = c.Events.Publish(ctx, "acme", client.Publish{Type: "invoice.paid", Data: map[string]any{"n": i}})
		}
		if e := asError(t, err); e.Status != 429 || e.Code != outlet.ERATELIMIT {
			t.Errorf("got %d %s, want 429 %s", e.Status, e.Code, outlet.ERATELIMIT)
		}
	})

	// Something in front of Outlet (a load balancer while nodes restart)
	// answers 503 on its own: seconds, an HTTP date, or no Retry-After.
	for _, tc := range []struct {
		name       string
		retryAfter func() string
	}{
		{"a 503 with Retry-After in seconds is retried", func() string { return "0" }},
		{"a 503 with Retry-After as a date is retried", func() string { return time.Now().Add(-time.Second).UTC().Format(http.TimeFormat) }},
		{"a 503 without Retry-After is retried after a backoff", func() string { return "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			var bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				bodies = append(bodies, string(b))
				if calls.Add(1) <= 2 {
					if v := tc.retryAfter(); v != "" {
						w.Header().Set("Retry-After", v)
					}
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"id":"acme","name":"Acme"}`)
			}))
			t.Cleanup(srv.Close)
			c := client.New(srv.URL, adminKey)
			tn, err := c.Tenants.Create(context.Background(), client.TenantCreate{ID: "acme", Name: "Acme"})
			if err != nil || tn.ID != "acme" {
				t.Fatalf("got %+v, %v after two 503s; want the tenant", tn, err)
			}
			if calls.Load() != 3 {
				t.Errorf("%d requests, want 3", calls.Load())
			}
			for i, b := range bodies {
				if b != bodies[0] || b == "" {
					t.Errorf("request %d sent body %q, the first %q: a retry sends the same body", i+1, b, bodies[0])
				}
			}
		})
	}

	t.Run("retries stop at the limit and return the last refusal", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Retry-After", "0")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"code":"unavailable","message":"the store is unavailable; retry"}}`)
		}))
		t.Cleanup(srv.Close)
		_, err := client.New(srv.URL, adminKey, client.WithRetries(2)).Tenants.Get(context.Background(), "acme")
		if e := asError(t, err); e.Status != 503 || e.Code != outlet.EUNAVAILABLE {
			t.Errorf("got %d %s, want 503 unavailable", e.Status, e.Code)
		}
		if calls.Load() != 3 {
			t.Errorf("%d requests with 2 retries, want 3", calls.Load())
		}
	})

	t.Run("a long Retry-After is cut to the maximum wait, and the context ends the waiting", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		t.Cleanup(srv.Close)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := client.New(srv.URL, adminKey, client.WithMaxRetryWait(10*time.Millisecond), client.WithRetries(1000)).Tenants.Get(ctx, "acme")
		var e *client.Error
		if !errors.As(err, &e) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want the 429 or the context's deadline", err)
		}
		if calls.Load() < 2 {
			t.Errorf("%d requests in 300ms with waits cut to 10ms; the maximum wait wasn't applied", calls.Load())
		}
	})

	t.Run("other refusals are not retried", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		counts := &statusCounter{next: http.DefaultTransport}
		c := client.New(b.url, adminKey, client.WithHTTPClient(&http.Client{Transport: counts}))
		if _, err := c.Tenants.Get(context.Background(), "nobody"); err == nil {
			t.Fatal("got a tenant that doesn't exist")
		}
		if n := counts.statuses[http.StatusNotFound].Load(); n != 1 {
			t.Errorf("a 404 was sent %d times, want once", n)
		}
	})
}

// Not parallel: it sets the global propagator, and puts it back.
func TestTheCallersTraceGoesAsTraceparent(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("traceparent"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"acme"}`)
	}))
	t.Cleanup(srv.Close)
	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	spanID, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled}))
	c := client.New(srv.URL, adminKey)

	if _, err := c.Tenants.Get(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if tp := got.Load().(string); tp != "" {
		t.Errorf("without a propagator set, the client sent traceparent %q", tp)
	}

	old := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTextMapPropagator(old) })
	if _, err := c.Tenants.Get(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if tp, want := got.Load().(string), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"; tp != want {
		t.Errorf("sent traceparent %q, want %q", tp, want)
	}
	// A traceparent the caller sets itself wins.
	mine := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	if _, err := c.Tenants.Get(ctx, "acme", client.WithHeader("traceparent", mine)); err != nil {
		t.Fatal(err)
	}
	if tp := got.Load().(string); tp != mine {
		t.Errorf("sent traceparent %q, want the caller's own %q", tp, mine)
	}
}
