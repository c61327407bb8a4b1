package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/testwait"
)

func TestPendingDeliveriesAreSentAfterARestart(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retry-schedule", "4s")
	rcv := newReceiver(t)
	rcv.respond(reply{status: 500})
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	id := s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	rcv.waitCount(1, 10*time.Second)
	testwait.Within(t, 10*time.Second, "the failed attempt to be recorded", func() bool {
		return s.deliveries(tenant, "event_id="+id)[0].Attempts >= 1
	})
	if d := s.deliveries(tenant, "event_id="+id)[0]; d.Status != "pending" || rcv.count() != 1 {
		t.Fatalf("before the restart: %+v after %d requests; want a pending delivery waiting for its retry", d, rcv.count())
	}

	s.restart()
	rcv.waitCount(2, 15*time.Second)
	testwait.Within(t, 5*time.Second, "the delivery to succeed after the restart", func() bool {
		return s.deliveries(tenant, "event_id="+id)[0].Status == "succeeded"
	})
}

func TestDeliveriesClaimedByACrashedProcessAreSentAfterItStartsAgain(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--workers", "1")
	rcv := newReceiver(t)
	hold := make(chan struct{})
	rcv.mu.Lock()
	rcv.holdNext = hold // the first attempt hangs, so the rest wait in memory
	rcv.mu.Unlock()
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	for i := range 5 {
		s.publish(tenant, "invoice.paid", map[string]int{"n": i})
	}
	rcv.waitCount(1, 10*time.Second)
	s.kill()
	close(hold)

	s.start()
	testwait.Within(t, 15*time.Second, "all five deliveries to succeed", func() bool {
		return len(s.deliveries(tenant, "status=succeeded")) == 5
	})
	seen := map[string]bool{}
	for i := range rcv.count() {
		req, _ := rcv.request(i)
		seen[req.Header.Get("webhook-id")] = true
	}
	if len(seen) != 5 {
		t.Errorf("the receiver saw %d distinct events; want 5", len(seen))
	}
}

func TestSIGTERMLetsAttemptsInFlightFinishAndGivesBackTheRest(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--workers", "1")
	rcv := newReceiver(t)
	hold := make(chan struct{})
	rcv.mu.Lock()
	rcv.holdNext = hold
	rcv.mu.Unlock()
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	first := s.publish(tenant, "invoice.paid", map[string]int{"n": 0})
	for i := 1; i < 4; i++ {
		s.publish(tenant, "invoice.paid", map[string]int{"n": i})
	}
	rcv.waitCount(1, 10*time.Second)

	stopped := make(chan struct{})
	go func() {
		s.stop() // fails the test unless the process exits 0
		close(stopped)
	}()
	testwait.Within(t, 10*time.Second, "the server to begin draining", func() bool {
		return strings.Contains(s.logs.String(), "shutting down")
	})
	// A fixed wait, as the test must show that something does not happen:
	// the server, draining, doesn't exit while the attempt is in flight.
	time.Sleep(300 * time.Millisecond)
	select {
	case <-stopped:
		t.Fatal("the server exited while an attempt was still in flight")
	default:
	}
	close(hold)
	<-stopped
	if n := rcv.count(); n != 1 {
		t.Errorf("the receiver got %d requests while the server drained; want only the one in flight", n)
	}
	if !strings.Contains(s.logs.String(), "shutting down") {
		t.Errorf("no shutdown log:\n%s", s.logs)
	}

	s.start()
	testwait.Within(t, 10*time.Second, "all four deliveries to succeed", func() bool {
		return len(s.deliveries(tenant, "status=succeeded")) == 4
	})
	if d := s.deliveries(tenant, "event_id="+first)[0]; d.Attempts != 1 {
		t.Errorf("the delivery in flight at SIGTERM has %d attempts; want 1: it finished, so it is not sent again", d.Attempts)
	}
	if n := rcv.count(); n != 4 {
		t.Errorf("the receiver got %d requests in all; want 4", n)
	}
}

func TestRetentionDeletesOldEventsWithTheirDeliveriesAndAttempts(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retention", "1s")
	rcv := newReceiver(t)
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	id := s.publish(tenant, "invoice.paid", map[string]string{"secret": "old"})
	rcv.waitCount(1, 10*time.Second)
	var ds []delivery
	testwait.Within(t, 10*time.Second, "the delivery to succeed", func() bool {
		ds = s.deliveries(tenant, "event_id="+id)
		return len(ds) == 1 && ds[0].Status == "succeeded"
	})
	testwait.Within(t, 10*time.Second, "the event to be deleted", func() bool {
		return s.call(adminKey, "GET", "/v1/tenants/acme/events/"+id, nil, nil) == 404
	})
	for _, path := range []string{"/v1/tenants/acme/deliveries/" + ds[0].ID, "/v1/tenants/acme/deliveries/" + ds[0].ID + "/attempts"} {
		if status := s.call(adminKey, "GET", path, nil, nil); status != 404 {
			t.Errorf("GET %s answered %d after retention; want 404", path, status)
		}
	}
	if status := s.call(adminKey, "POST", "/v1/tenants/acme/deliveries/"+ds[0].ID+"/retry", "{}", nil); status != 404 {
		t.Errorf("retrying a delivery deleted by retention answered %d; want 404", status)
	}
}

func TestAnEndpointThatKeepsFailingIsDisabled(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retry-schedule", "100ms,100ms,100ms,100ms,100ms", "--disable-after", "250ms")
	rcv := newReceiver(t)
	for range 20 {
		rcv.respond(reply{status: 500})
	}
	tenant := s.tenant("acme")
	ep := s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	var got struct {
		Disabled       bool    `json:"disabled"`
		DisabledReason string  `json:"disabled_reason"`
		FailingSince   *string `json:"failing_since"`
	}
	testwait.Within(t, 10*time.Second, "the endpoint to be disabled", func() bool {
		s.must(200, "GET", "/v1/tenants/acme/endpoints/"+ep.ID, nil, &got)
		return got.Disabled
	})
	if !strings.Contains(got.DisabledReason, "fail") || got.FailingSince == nil {
		t.Errorf("disabled endpoint %+v; want the reason and when failing began", got)
	}
	n := rcv.count()
	s.publish(tenant, "invoice.paid", map[string]int{"n": 2})
	// Deliveries to a disabled endpoint fail without being sent, so once none
	// is pending the receiver can get nothing more.
	s.waitIdle(tenant, 10*time.Second)
	if rcv.count() > n+1 { // at most the attempt that was in flight
		t.Errorf("a disabled endpoint kept receiving: %d requests after disabling, %d before", rcv.count(), n)
	}

	// Enabling it starts afresh.
	var enabled map[string]any
	s.must(200, "PATCH", "/v1/tenants/acme/endpoints/"+ep.ID, map[string]any{"disabled": false}, &enabled)
	if enabled["disabled"] != false || enabled["disabled_reason"] != "" || enabled["failing_since"] != nil || enabled["disabled_at"] != nil {
		t.Errorf("re-enabled endpoint %v; want its failure record cleared", enabled)
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rcv := newReceiver(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if status := s.call("", "GET", path, nil, nil); status != 200 {
			t.Errorf("GET %s answered %d", path, status)
		}
	}
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	rcv.waitCount(1, 10*time.Second)
	testwait.Within(t, 5*time.Second, "metrics to count the delivery", func() bool {
		m := s.metrics()
		return strings.Contains(m, `outlet_deliveries_total{outcome="succeeded"} 1`)
	})
	m := s.metrics()
	for _, want := range []string{
		"outlet_events_published_total 1",
		`outlet_attempts_total{result="success"} 1`,
		"outlet_attempt_duration_seconds_bucket",
		"outlet_queue_depth",
		"outlet_queue_oldest_due_age_seconds",
		`outlet_api_requests_total{code="202",route="POST /v1/tenants/{tenant}/events"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
