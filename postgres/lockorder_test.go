package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

// A delete of an endpoint or of its tenant, and a completion whose failed
// attempt moves the endpoint's failing streak (and here disables it), lock
// the same rows: the endpoint, or the tenant above it, and the delivery.
// Whichever reaches them first, the other waits for it and neither is
// undone as a deadlock (an operator's DELETE answering 503, or a batch of
// outcomes lost and sent again). Each interleaving is forced: a third
// transaction holds what the first of the two needs next (an update of the
// endpoint; another completion counting the tenant's usage) until the second
// is seen waiting too. A completion that touches no endpoint, a function's,
// meets a tenant's delete at the tenant's usage rows, which the delete
// deletes before the deliveries.
func TestADeleteAndACompletionDontDeadlock(t *testing.T) {
	t.Parallel()
	deletions := []struct {
		name string
		run  func(ctx context.Context, s *Store, d *outlet.Delivery) error
	}{
		{"its endpoint", func(ctx context.Context, s *Store, d *outlet.Delivery) error {
			return s.DeleteEndpoint(ctx, d.TenantID, d.Target.ID)
		}},
		{"its tenant", func(ctx context.Context, s *Store, d *outlet.Delivery) error { return s.DeleteTenant(ctx, d.TenantID) }},
	}
	for _, del := range deletions {
		t.Run("deleting "+del.name+" while the endpoint is held, then recording a failed attempt", func(t *testing.T) {
			t.Parallel()
			s, d, o := inFlight(t, outlet.TargetEndpoint)
			now := failing(o)
			errs := whileHeld(t, s, func(ctx context.Context, tx pgx.Tx) error {
				_, err := endpoint(ctx, tx, d.TenantID, d.Target.ID, "FOR NO KEY UPDATE")
				return err
			}, func(ctx context.Context) error { return del.run(ctx, s, d) }, func(ctx context.Context) error {
				_, err := s.CompleteAttempts(ctx, []*outlet.AttemptOutcome{o}, now, now)
				return err
			})
			wantNoErrors(t, errs, "the delete", "the completion")
			if o.Attempt.ID != "" {
				t.Errorf("attempt %s was recorded for a delivery deleted before it", o.Attempt.ID)
			}
			wantGone(t, s, d)
		})
		t.Run("recording a failed attempt while its usage is held, then deleting "+del.name, func(t *testing.T) {
			t.Parallel()
			s, d, o := inFlight(t, outlet.TargetEndpoint)
			now := failing(o)
			// Every shard of the day's usage, so whichever the completion's
			// connection adds to.
			_, err := s.pool.Exec(t.Context(), `INSERT INTO usage (tenant_id, day, shard) SELECT $1, $2, shard FROM generate_series(0, 15) shard
				ON CONFLICT DO NOTHING`, d.TenantID, outlet.UsageDay(now))
			check(t, err)
			errs := whileHeld(t, s, func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `SELECT FROM usage WHERE tenant_id = $1 FOR UPDATE`, d.TenantID)
				return err
			}, func(ctx context.Context) error {
				_, err := s.CompleteAttempts(ctx, []*outlet.AttemptOutcome{o}, now, now)
				return err
			}, func(ctx context.Context) error { return del.run(ctx, s, d) })
			wantNoErrors(t, errs, "the completion", "the delete")
			if o.Attempt.ID == "" {
				t.Errorf("the attempt was not recorded before the delete")
			}
			wantGone(t, s, d)
		})
	}
	t.Run("deleting the tenant while a later day's usage is held, then recording a function's attempt", func(t *testing.T) {
		t.Parallel()
		s, d, o := inFlight(t, outlet.TargetFunction)
		now := o.Attempt.StartedAt.Add(time.Second)
		// The delete deletes the day's usage rows, then waits for the
		// next day's.
		_, err := s.pool.Exec(t.Context(), `INSERT INTO usage (tenant_id, day, shard) SELECT $1, $2, shard FROM generate_series(0, 15) shard
			ON CONFLICT DO NOTHING`, d.TenantID, outlet.UsageDay(now))
		check(t, err)
		_, err = s.pool.Exec(t.Context(), `INSERT INTO usage (tenant_id, day, shard) VALUES ($1, $2, 0)`, d.TenantID, outlet.UsageDay(now)+1)
		check(t, err)
		errs := whileHeld(t, s, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `SELECT FROM usage WHERE tenant_id = $1 AND day = $2 FOR UPDATE`, d.TenantID, outlet.UsageDay(now)+1)
			return err
		}, func(ctx context.Context) error { return s.DeleteTenant(ctx, d.TenantID) }, func(ctx context.Context) error {
			_, err := s.CompleteAttempts(ctx, []*outlet.AttemptOutcome{o}, now, now)
			return err
		})
		wantNoErrors(t, errs, "the delete", "the completion")
		if o.Attempt.ID != "" {
			t.Errorf("attempt %s was recorded for a delivery deleted before it", o.Attempt.ID)
		}
		wantGone(t, s, d)
	})
}

// Two nodes recording failed attempts to the same two endpoints, listed in
// opposite orders, lock the endpoints in one order, so neither waits for
// the other while holding what it needs, and each endpoint is disabled
// once. Forced: an update of the endpoint that sorts last is held while the
// first node reaches it and the second is seen waiting.
func TestCompletionsOfTheSameEndpointsDontDeadlock(t *testing.T) {
	t.Parallel()
	s := openStore(t, freshSchema(t))
	ctx, now := t.Context(), time.Now()
	check(t, s.CreateTenant(ctx, &outlet.Tenant{ID: "acme", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}))
	var eps []string
	for range 2 {
		ep := &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: "acme", URL: "https://hooks.example.com/outlet",
			EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{}, Secret: outlet.NewEndpointSecret(),
			CreatedAt: now, UpdatedAt: now}
		check(t, s.CreateEndpoint(ctx, ep))
		eps = append(eps, ep.ID)
	}
	slices.Sort(eps)
	// Each node claims an event's deliveries, one to each endpoint, and
	// lists their failures last endpoint first (node-a) or first endpoint
	// first (node-b).
	batches := map[string][]*outlet.AttemptOutcome{}
	for _, node := range []string{"node-a", "node-b"} {
		res, err := s.PublishEvents(ctx, []*outlet.PublishRequest{{
			Event: &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "acme", Type: "invoice.paid", Data: []byte(`{}`),
				Timestamp: now, CreatedAt: now, PayloadHash: outlet.ContentHash("invoice.paid", []byte(`{}`))},
			LeaseOwner: node, LeaseUntil: now.Add(time.Minute),
		}}, now)
		check(t, err)
		check(t, res[0].Err)
		for _, c := range res[0].Claims {
			o := &outlet.AttemptOutcome{TenantID: "acme", DeliveryID: c.Delivery.ID, EndpointID: c.Delivery.Target.ID, Owner: node,
				Status: outlet.StatusPending, NextAttemptAt: now.Add(time.Hour),
				Attempt: &outlet.Attempt{Trigger: outlet.TriggerScheduled, URL: c.Endpoint.URL, StartedAt: now, StatusCode: 500}}
			batches[node] = append(batches[node], o)
		}
		slices.SortFunc(batches[node], func(a, b *outlet.AttemptOutcome) int {
			if node == "node-a" {
				a, b = b, a
			}
			return strings.Compare(a.EndpointID, b.EndpointID)
		})
	}
	for node, b := range batches {
		if len(b) != 2 {
			t.Fatalf("%s claimed %d deliveries; want 2", node, len(b))
		}
	}
	// A cutoff that disables both endpoints: whichever node moves an
	// endpoint's streak first disables it and says so, once.
	later := now.Add(time.Second)
	var disabledA, disabledB []string
	complete := func(node string, disabled *[]string) func(context.Context) error {
		return func(ctx context.Context) error {
			var err error
			*disabled, err = s.CompleteAttempts(ctx, batches[node], later, later)
			return err
		}
	}
	errs := whileHeld(t, s, func(ctx context.Context, tx pgx.Tx) error {
		_, err := endpoint(ctx, tx, "acme", eps[1], "FOR NO KEY UPDATE")
		return err
	}, complete("node-a", &disabledA), complete("node-b", &disabledB))
	wantNoErrors(t, errs, "node-a's completion", "node-b's completion")
	for node, b := range batches {
		for _, o := range b {
			if o.Attempt.ID == "" {
				t.Errorf("%s's attempt of delivery %s was not recorded", node, o.DeliveryID)
			}
		}
	}
	if got := slices.Sorted(slices.Values(slices.Concat(disabledA, disabledB))); !slices.Equal(got, eps) {
		t.Errorf("the completions disabled %v (node-a) and %v (node-b); want %v once", disabledA, disabledB, eps)
	}
	for _, id := range eps {
		ep, err := s.Endpoint(ctx, "acme", id)
		check(t, err)
		if ep.FailingSince == nil || !ep.FailingSince.Equal(now.Truncate(time.Millisecond)) || !ep.Disabled {
			t.Errorf("endpoint %s is failing since %v, disabled %v; want since %v, disabled", id, ep.FailingSince, ep.Disabled,
				now.Truncate(time.Millisecond))
		}
	}
}

// failing makes o the outcome of a failed attempt, to try again in an hour,
// and returns when it is recorded: a second after it started.
func failing(o *outlet.AttemptOutcome) time.Time {
	now := o.Attempt.StartedAt.Add(time.Second)
	o.Status, o.NextAttemptAt = outlet.StatusPending, now.Add(time.Hour)
	o.Attempt.Succeeded, o.Attempt.StatusCode, o.Attempt.ResponseBody = false, 500, "down"
	return now
}

// wantNoErrors checks that none of the steps named failed.
func wantNoErrors(t *testing.T, errs []error, names ...string) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s failed: %v (code %s)", names[i], err, outlet.ErrorCode(err))
		}
	}
}

// A delete and a completion of several deliveries of the same target lock
// those deliveries in one order, whatever the order of the batch:
//
//   - for an endpoint the outcomes name, the completion holds the endpoint
//     before its deliveries, even with no failing streak to move, as the
//     delete does;
//   - for a function's deliveries, and for outcomes that name no endpoint
//     (an attempt not sent), no endpoint is held first to keep the two
//     apart: the completion updates its deliveries in the order of their
//     seqs, and the delete locks them in that order too.
//
// Otherwise each can hold a delivery the other waits for. Forced: a
// delivery between the two of the batch is held until the delete has taken
// the first and the completion is seen waiting.
func TestADeleteAndACompletionLockTheDeliveriesInOneOrder(t *testing.T) {
	t.Parallel()
	deleteEndpoint := func(ctx context.Context, s *Store, d *outlet.Delivery) error {
		return s.DeleteEndpoint(ctx, d.TenantID, d.Target.ID)
	}
	targets := []struct {
		name     string
		target   outlet.TargetType
		delete   func(ctx context.Context, s *Store, d *outlet.Delivery) error
		nameless bool // the outcomes name no endpoint
	}{
		{"an endpoint", outlet.TargetEndpoint, deleteEndpoint, false},
		{"a function", outlet.TargetFunction, func(ctx context.Context, s *Store, d *outlet.Delivery) error {
			return s.DeleteFunction(ctx, d.TenantID, d.Target.ID)
		}, false},
		{"an endpoint, with outcomes naming none", outlet.TargetEndpoint, deleteEndpoint, true},
	}
	for _, tc := range targets {
		t.Run("deleting "+tc.name+" while completing two of its deliveries, the later listed first", func(t *testing.T) {
			t.Parallel()
			s, d, o := inFlight(t, tc.target)
			now := o.Attempt.StartedAt
			ds := []*outlet.Delivery{d, publishClaimed(t, s, now), publishClaimed(t, s, now)}
			var outcomes []*outlet.AttemptOutcome
			for _, d := range []*outlet.Delivery{ds[2], ds[0]} {
				c := *o
				c.DeliveryID = d.ID
				if tc.nameless {
					c.EndpointID = ""
				}
				c.Attempt = &outlet.Attempt{Trigger: outlet.TriggerScheduled, URL: o.Attempt.URL, StartedAt: now, Succeeded: true, StatusCode: 200}
				outcomes = append(outcomes, &c)
			}
			errs := whileHeld(t, s, func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `SELECT FROM deliveries WHERE seq = $1 FOR UPDATE`, mustSeq(t, s, ds[1].ID))
				return err
			}, func(ctx context.Context) error { return tc.delete(ctx, s, d) }, func(ctx context.Context) error {
				_, err := s.CompleteAttempts(ctx, outcomes, now.Add(time.Second), now.Add(-time.Hour))
				return err
			})
			wantNoErrors(t, errs, "the delete", "the completion")
			for _, d := range ds {
				wantGone(t, s, d)
			}
		})
	}
}
