package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

// An attempt's outcome recorded while its delivery's endpoint, function or
// tenant is being deleted: whichever of the two transactions goes first, the
// other waits for it, and no attempt is left without its delivery. Each order
// is forced, not raced: the first runs in a transaction the test holds open
// until the second is seen waiting for it. (A tenant's delete waits already
// at its first statement: the completion counted usage for the tenant.)
func TestAnAttemptRecordedWhileItsDeliveryIsDeletedGoesWithIt(t *testing.T) {
	t.Parallel()
	type deletion struct {
		name   string
		target outlet.TargetType
		tx     func(ctx context.Context, tx pgx.Tx, d *outlet.Delivery) error
		store  func(ctx context.Context, s *Store, d *outlet.Delivery) error
	}
	deletions := []deletion{
		{"its endpoint", outlet.TargetEndpoint,
			func(ctx context.Context, tx pgx.Tx, d *outlet.Delivery) error {
				return deleteEndpoint(ctx, tx, d.TenantID, d.Target.ID)
			},
			func(ctx context.Context, s *Store, d *outlet.Delivery) error {
				return s.DeleteEndpoint(ctx, d.TenantID, d.Target.ID)
			}},
		{"its function", outlet.TargetFunction,
			func(ctx context.Context, tx pgx.Tx, d *outlet.Delivery) error {
				return deleteFunction(ctx, tx, d.TenantID, d.Target.ID)
			},
			func(ctx context.Context, s *Store, d *outlet.Delivery) error {
				return s.DeleteFunction(ctx, d.TenantID, d.Target.ID)
			}},
		{"its tenant", outlet.TargetEndpoint,
			func(ctx context.Context, tx pgx.Tx, d *outlet.Delivery) error {
				return deleteTenant(ctx, tx, d.TenantID)
			},
			func(ctx context.Context, s *Store, d *outlet.Delivery) error { return s.DeleteTenant(ctx, d.TenantID) }},
	}
	for _, del := range deletions {
		t.Run("deleting "+del.name+" while the attempt is being recorded", func(t *testing.T) {
			t.Parallel()
			s, d, o := inFlight(t, del.target)
			now := o.Attempt.StartedAt.Add(time.Second)
			err := whileHeld(t, s, func(ctx context.Context, tx pgx.Tx) error {
				_, err := s.completeAttempts(ctx, tx, []*outlet.AttemptOutcome{o}, now, now.Add(-time.Hour))
				if err == nil && o.Attempt.ID == "" {
					t.Errorf("the attempt was not recorded before the delete began")
				}
				return err
			}, func(ctx context.Context) error { return del.store(ctx, s, d) })[0]
			check(t, err)
			wantGone(t, s, d)
		})
		t.Run("recording the attempt while "+del.name+" is being deleted", func(t *testing.T) {
			t.Parallel()
			s, d, o := inFlight(t, del.target)
			now := o.Attempt.StartedAt.Add(time.Second)
			err := whileHeld(t, s, func(ctx context.Context, tx pgx.Tx) error { return del.tx(ctx, tx, d) }, func(ctx context.Context) error {
				_, err := s.CompleteAttempts(ctx, []*outlet.AttemptOutcome{o}, now, now.Add(-time.Hour))
				return err
			})[0]
			check(t, err)
			if o.Attempt.ID != "" {
				t.Errorf("attempt %s was recorded for a delivery deleted before it", o.Attempt.ID)
			}
			wantGone(t, s, d)
		})
	}
}

// inFlight makes tenant acme with one target of the given type, publishes an
// event to it leased to node-a, and returns the delivery and the outcome of
// a successful attempt of it.
func inFlight(t *testing.T, target outlet.TargetType) (*Store, *outlet.Delivery, *outlet.AttemptOutcome) {
	t.Helper()
	s := openStore(t, freshSchema(t))
	ctx, now := t.Context(), time.Now()
	check(t, s.CreateTenant(ctx, &outlet.Tenant{ID: "acme", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}))
	var ep *outlet.Endpoint
	switch target {
	case outlet.TargetEndpoint:
		ep = &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: "acme", URL: "https://hooks.example.com/outlet",
			EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{}, Secret: outlet.NewEndpointSecret(),
			CreatedAt: now, UpdatedAt: now}
		check(t, s.CreateEndpoint(ctx, ep))
	case outlet.TargetFunction:
		src := "export default async () => ({ok: true})\n"
		v := &outlet.FunctionVersion{TenantID: "acme", Function: "pricing", Runtime: outlet.RuntimeJavaScript, Source: src, Code: []byte(src),
			Events: []string{"*"}, Limits: outlet.FunctionLimits{TimeoutMs: 5000, MemoryMB: 64}}
		v.Seal()
		check(t, s.DeployFunction(ctx, v, now))
	}
	d := publishClaimed(t, s, now)
	o := &outlet.AttemptOutcome{TenantID: "acme", DeliveryID: d.ID, Owner: "node-a", Status: outlet.StatusSucceeded,
		Attempt: &outlet.Attempt{Trigger: outlet.TriggerScheduled, StartedAt: now, Succeeded: true, StatusCode: 200, ResponseBody: "ok"}}
	if ep != nil {
		o.EndpointID, o.Attempt.URL = ep.ID, ep.URL
	}
	return s, d, o
}

// publishClaimed publishes an event of tenant acme at now, making one
// delivery claimed by node-a, and returns the delivery.
func publishClaimed(t *testing.T, s *Store, now time.Time) *outlet.Delivery {
	t.Helper()
	res, err := s.PublishEvents(t.Context(), []*outlet.PublishRequest{{
		Event: &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "acme", Type: "invoice.paid", Data: []byte(`{}`),
			Timestamp: now, CreatedAt: now, PayloadHash: outlet.ContentHash("invoice.paid", []byte(`{}`))},
		LeaseOwner: "node-a", LeaseUntil: now.Add(time.Minute),
	}}, now)
	check(t, err)
	check(t, res[0].Err)
	if len(res[0].Claims) != 1 {
		t.Fatalf("the publish claimed %d deliveries; want 1", len(res[0].Claims))
	}
	return res[0].Claims[0].Delivery
}

// whileHeld runs first in a transaction, then each of steps in a goroutine
// of its own, the next once the one before is seen waiting for a lock that
// first or an earlier step holds; once all wait, it commits first's
// transaction. It returns the steps' errors, in order.
func whileHeld(t *testing.T, s *Store, first func(context.Context, pgx.Tx) error, steps ...func(context.Context) error) []error {
	t.Helper()
	ctx := t.Context()
	tx, err := s.pool.Begin(ctx)
	check(t, err)
	defer tx.Rollback(ctx)
	check(t, first(ctx, tx))
	var pid int32
	check(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	holders := []int32{pid}
	dones := make([]chan error, len(steps))
	for i, step := range steps {
		dones[i] = make(chan error, 1)
		go func() { dones[i] <- step(ctx) }()
		holders = append(holders, waiting(t, s, holders, i, dones[i]))
	}
	check(t, tx.Commit(ctx))
	errs := make([]error, len(steps))
	for i, done := range dones {
		errs[i] = <-done
	}
	return errs
}

// waiting returns the backend of step i once it is seen waiting for a lock
// that one of holders holds (the backend of the held transaction, then of
// the steps before); done is where the step's end is reported.
func waiting(t *testing.T, s *Store, holders []int32, i int, done chan error) int32 {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case err := <-done:
			t.Fatalf("step %d ended (%v) without waiting for the transactions before it", i+1, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("step %d was not seen waiting for the transactions before it", i+1)
		}
		var pid int32
		switch err := s.pool.QueryRow(t.Context(), `SELECT pid FROM pg_stat_activity
			WHERE pg_blocking_pids(pid) && $1::int[] AND pid <> ALL($1::int[]) LIMIT 1`, holders).Scan(&pid); {
		case err == nil:
			return pid
		case !errors.Is(err, pgx.ErrNoRows):
			t.Fatalf("look for step %d waiting: %v", i+1, err)
		}
	}
}

// wantGone checks that the delivery and every attempt of it are gone.
func wantGone(t *testing.T, s *Store, d *outlet.Delivery) {
	t.Helper()
	var deliveries, attempts int
	seq := mustSeq(t, s, d.ID)
	check(t, s.pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM deliveries WHERE seq = $1), (SELECT count(*) FROM attempts WHERE delivery_seq = $1)`,
		seq).Scan(&deliveries, &attempts))
	if deliveries != 0 || attempts != 0 {
		t.Errorf("%d deliveries and %d attempts of delivery %s are left; want none", deliveries, attempts, d.ID)
	}
}
