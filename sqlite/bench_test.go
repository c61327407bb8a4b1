package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/sqlite"
)

// BenchmarkPublishEvents measures one batch commit of publishes with one
// matching endpoint each, as the dispatcher's group commit makes them.
func BenchmarkPublishEvents(b *testing.B) {
	for _, batch := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, _ := benchStore(b)
			data := []byte(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				now := time.Now()
				reqs := make([]*outlet.PublishRequest, batch)
				for j := range reqs {
					reqs[j] = &outlet.PublishRequest{Event: &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "t", Type: "a.b",
						Data: data, Timestamp: now, CreatedAt: now, PayloadHash: outlet.ContentHash("a.b", data)},
						LeaseOwner: "n", LeaseUntil: now.Add(time.Minute)}
				}
				if _, err := s.PublishEvents(context.Background(), reqs, now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkCompleteAttempts measures one batch commit of successful attempts.
func BenchmarkCompleteAttempts(b *testing.B) {
	for _, batch := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, ep := benchStore(b)
			data := []byte(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
			now := time.Now()
			var claims []*outlet.Claim
			for len(claims) < b.N {
				reqs := make([]*outlet.PublishRequest, 256)
				for j := range reqs {
					reqs[j] = &outlet.PublishRequest{Event: &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "t", Type: "a.b",
						Data: data, Timestamp: now, CreatedAt: now, PayloadHash: outlet.ContentHash("a.b", data)},
						LeaseOwner: "n", LeaseUntil: now.Add(time.Minute)}
				}
				res, err := s.PublishEvents(context.Background(), reqs, now)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range res {
					claims = append(claims, r.Claims...)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				var outs []*outlet.AttemptOutcome
				for _, c := range claims[i:min(i+batch, b.N)] {
					outs = append(outs, &outlet.AttemptOutcome{TenantID: "t", DeliveryID: c.Delivery.ID, EndpointID: ep.ID,
						Status: outlet.StatusSucceeded, Attempt: &outlet.Attempt{ID: outlet.NewID(outlet.PrefixAttempt), Trigger: "scheduled",
							URL: ep.URL, StartedAt: now, DurationMs: 1, Succeeded: true, StatusCode: 200,
							ResponseHeaders: map[string]string{"content-length": "0"}}})
				}
				if _, err := s.CompleteAttempts(context.Background(), outs, now, now.Add(-time.Hour)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "attempts/s")
		})
	}
}

func benchStore(b *testing.B) (*sqlite.Store, *outlet.Endpoint) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now()
	if err := s.CreateTenant(context.Background(), &outlet.Tenant{ID: "t", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	ep := &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: "t", URL: "https://example.com/hook",
		EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{}, Secret: outlet.NewEndpointSecret(),
		CreatedAt: now, UpdatedAt: now}
	if err := s.CreateEndpoint(context.Background(), ep); err != nil {
		b.Fatal(err)
	}
	return s, ep
}
