package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// Bench measures a store's hot paths, the same way for every backend. A
// store package runs it from its own benchmarks:
//
//	func BenchmarkStore(b *testing.B) {
//		storetest.Bench(b, func(b *testing.B) outlet.Store {
//			// open a fresh, empty store and close it in b.Cleanup
//		})
//	}
func Bench(b *testing.B, open func(b *testing.B) outlet.Store) {
	b.Run("PublishEvents", func(b *testing.B) { benchPublish(b, open) })
	b.Run("PublishEventsConcurrently", func(b *testing.B) { benchPublishConcurrently(b, open) })
	b.Run("CompleteAttempts", func(b *testing.B) { benchComplete(b, open) })
	b.Run("ClaimParked", func(b *testing.B) { benchClaimParked(b, open) })
	b.Run("DeleteEndpoint", func(b *testing.B) { benchDeleteEndpoint(b, open) })
}

// benchPublish measures one call of publishes with one matching endpoint
// each, as a group commit makes them.
func benchPublish(b *testing.B, open func(b *testing.B) outlet.Store) {
	for _, batch := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, _ := benchStore(b, open)
			data := benchData()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				now := time.Now()
				if _, err := s.PublishEvents(context.Background(), benchRequests(batch, data, now), now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// benchPublishConcurrently measures what the HTTP API makes: callers
// publishing one event each, many at once, which the store gathers into
// shared transactions.
func benchPublishConcurrently(b *testing.B, open func(b *testing.B) outlet.Store) {
	for _, callers := range []int{32, 128} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			s, _ := benchStore(b, open)
			data := benchData()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range callers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						now := time.Now()
						res, err := s.PublishEvents(context.Background(), benchRequests(1, data, now), now)
						if err == nil {
							err = res[0].Err
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// benchComplete measures one call recording successful attempts.
func benchComplete(b *testing.B, open func(b *testing.B) outlet.Store) {
	for _, batch := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, ep := benchStore(b, open)
			data := benchData()
			now := time.Now()
			var claims []*outlet.Claim
			for len(claims) < b.N {
				res, err := s.PublishEvents(context.Background(), benchRequests(256, data, now), now)
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
					outs = append(outs, benchSuccess(c, ep, now))
				}
				if _, err := s.CompleteAttempts(context.Background(), outs, now, now.Add(-time.Hour)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "attempts/s")
		})
	}
}

// benchClaimParked measures pulling an endpoint's parked deliveries, 100 at
// a time, beside a history of deliveries it has finished: what a pull costs
// must not grow with that history.
func benchClaimParked(b *testing.B, open func(b *testing.B) outlet.Store) {
	for _, history := range []int{0, 20000} {
		b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
			s, ep := benchStore(b, open)
			data := benchData()
			now := time.Now()
			benchHistory(b, s, ep, history, data, now)
			const pull = 100
			b.ResetTimer()
			for i := 0; i < b.N; i += pull {
				b.StopTimer()
				reqs := benchRequests(pull, data, now)
				for _, r := range reqs {
					r.LeaseOwner, r.Hold = "", map[string]time.Time{ep.ID: now.Add(30 * time.Second)}
				}
				if _, err := s.PublishEvents(context.Background(), reqs, now); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				cs, err := s.ClaimParked(context.Background(), "n", ep.ID, now.Add(time.Minute), now.Add(2*time.Minute), pull)
				if err != nil {
					b.Fatal(err)
				}
				if len(cs) != pull {
					b.Fatalf("pulled %d parked deliveries; want %d", len(cs), pull)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// benchDeleteEndpoint measures deleting an endpoint with a history of
// finished deliveries, which go with it.
func benchDeleteEndpoint(b *testing.B, open func(b *testing.B) outlet.Store) {
	const history = 5000
	s, ep := benchStore(b, open)
	data := benchData()
	now := time.Now()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if ep == nil {
			ep = &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: "t", URL: "https://example.com/hook",
				EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{}, Secret: outlet.NewEndpointSecret(),
				CreatedAt: now, UpdatedAt: now}
			if err := s.CreateEndpoint(context.Background(), ep); err != nil {
				b.Fatal(err)
			}
		}
		benchHistory(b, s, ep, history, data, now)
		b.StartTimer()
		if err := s.DeleteEndpoint(context.Background(), "t", ep.ID); err != nil {
			b.Fatal(err)
		}
		ep = nil
	}
	b.ReportMetric(float64(b.N*history)/b.Elapsed().Seconds(), "deliveries/s")
}

// benchHistory publishes n events to tenant t, whose one endpoint is ep, and
// records each delivery's success.
func benchHistory(b *testing.B, s outlet.Store, ep *outlet.Endpoint, n int, data []byte, now time.Time) {
	for done := 0; done < n; done += 256 {
		res, err := s.PublishEvents(context.Background(), benchRequests(min(256, n-done), data, now), now)
		if err != nil {
			b.Fatal(err)
		}
		var outs []*outlet.AttemptOutcome
		for _, r := range res {
			for _, c := range r.Claims {
				outs = append(outs, benchSuccess(c, ep, now))
			}
		}
		if _, err := s.CompleteAttempts(context.Background(), outs, now, now.Add(-time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSuccess is the outcome of a successful attempt of c at now.
func benchSuccess(c *outlet.Claim, ep *outlet.Endpoint, now time.Time) *outlet.AttemptOutcome {
	return &outlet.AttemptOutcome{TenantID: "t", DeliveryID: c.Delivery.ID, EndpointID: ep.ID,
		Status: outlet.StatusSucceeded, Attempt: &outlet.Attempt{ID: outlet.NewID(outlet.PrefixAttempt), Trigger: "scheduled",
			URL: ep.URL, StartedAt: now, DurationMs: 1, Succeeded: true, StatusCode: 200,
			ResponseHeaders: map[string]string{"content-length": "0"}}}
}

func benchData() []byte { return []byte(`{"pad":"` + strings.Repeat("x", 1000) + `"}`) }

// benchRequests are n publishes for tenant t, leased to one node.
func benchRequests(n int, data []byte, now time.Time) []*outlet.PublishRequest {
	reqs := make([]*outlet.PublishRequest, n)
	for j := range reqs {
		reqs[j] = &outlet.PublishRequest{Event: &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "t", Type: "a.b",
			Data: data, Timestamp: now, CreatedAt: now, PayloadHash: outlet.ContentHash("a.b", data)},
			LeaseOwner: "n", LeaseUntil: now.Add(time.Minute)}
	}
	return reqs
}

// benchStore opens a fresh store holding tenant t with one endpoint.
func benchStore(b *testing.B, open func(b *testing.B) outlet.Store) (outlet.Store, *outlet.Endpoint) {
	s := open(b)
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
