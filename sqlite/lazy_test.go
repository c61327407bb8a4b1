package sqlite

import (
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// TestASuccessIsRecordedWithTheNextPublishAndAFailureAtOnce: an outcome
// nobody waits on shares the commit of the next write somebody does, rather
// than paying for a commit of its own; one that can't wait, or a batch big
// enough to be worth its own commit, is committed at once.
func TestASuccessIsRecordedWithTheNextPublishAndAFailureAtOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openStore(t)
	s.writes.Stop()
	s.writes = s.writer(time.Hour) // a linger no test outlasts

	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.CreateTenant(ctx, &outlet.Tenant{ID: "acme", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	ep := &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: "acme", URL: "https://example.com/hook",
		EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{}, Secret: outlet.NewEndpointSecret(),
		CreatedAt: now, UpdatedAt: now}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	publish := func() *outlet.Claim {
		t.Helper()
		data := []byte(`{"n":1}`)
		res, err := s.PublishEvents(ctx, []*outlet.PublishRequest{{Event: &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent),
			TenantID: "acme", Type: "order.created", Data: data, Timestamp: now, CreatedAt: now,
			PayloadHash: outlet.ContentHash("order.created", data)}, LeaseOwner: "node-a", LeaseUntil: now.Add(time.Minute)}}, now)
		if err != nil || res[0].Err != nil || len(res[0].Claims) != 1 {
			t.Fatalf("publish: %v %+v", err, res)
		}
		return res[0].Claims[0]
	}
	outcome := func(c *outlet.Claim, succeeded bool) *outlet.AttemptOutcome {
		o := &outlet.AttemptOutcome{TenantID: "acme", DeliveryID: c.Delivery.ID, EndpointID: ep.ID, Owner: "node-a",
			Status: outlet.StatusSucceeded, Attempt: &outlet.Attempt{Trigger: outlet.TriggerScheduled, URL: ep.URL, StartedAt: now,
				DurationMs: 1, Succeeded: succeeded, StatusCode: 200}}
		if !succeeded {
			o.Status, o.NextAttemptAt, o.Attempt.StatusCode = outlet.StatusPending, now.Add(time.Minute), 503
		}
		return o
	}
	complete := func(os ...*outlet.AttemptOutcome) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := s.CompleteAttempts(ctx, os, now, now.Add(-time.Hour))
			done <- err
		}()
		return done
	}
	status := func(c *outlet.Claim) outlet.DeliveryStatus {
		t.Helper()
		d, err := s.Delivery(ctx, "acme", c.Delivery.ID)
		if err != nil {
			t.Fatal(err)
		}
		return d.Status
	}

	failed := publish()
	select {
	case err := <-complete(outcome(failed, false)):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a failed attempt's outcome waited for company")
	}

	var many []*outlet.AttemptOutcome
	for range lazyOutcomes {
		many = append(many, outcome(publish(), true))
	}
	select {
	case err := <-complete(many...):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("a batch of %d successes waited for company", len(many))
	}

	succeeded := publish()
	done := complete(outcome(succeeded, true))
	select {
	case err := <-done:
		t.Fatalf("a success was committed alone (err %v); want it to wait for the next publish", err)
	case <-time.After(100 * time.Millisecond):
	}
	if got := status(succeeded); got != outlet.StatusPending {
		t.Fatalf("before the next publish the delivery is %s; want still pending (not committed)", got)
	}
	publish()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a success was not recorded with the publish after it")
	}
	if got := status(succeeded); got != outlet.StatusSucceeded {
		t.Errorf("after the next publish the delivery is %s; want succeeded", got)
	}
}
