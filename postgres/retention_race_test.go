package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

// A finished delivery of an expired day made pending again (retried, or
// recovered with its endpoint) while retention drops that day: whichever
// goes first, the other waits for it on deliveries, and the delivery ends
// either gone with its day, the re-open told it is not there, or pending
// with its day kept whole (its event, itself and its attempts). Never a
// pending delivery whose event or attempts are gone. Each order is forced,
// not raced (whileHeld):
//
//   - The re-open first: it has made the delivery pending and waits, before
//     it commits, to write its audit entry (the test holds audit_log), so
//     retention's first look, without locks, sees the delivery finished and
//     only its look under the lock on deliveries, taken once the re-open
//     committed, finds it pending.
//   - Retention first: it has locked deliveries and waits to drop the day's
//     attempts (the test holds attempts), and the re-open waits for it.
func TestADeliveryReopenedWhileRetentionDropsItsDayIsKeptOrGoneWhole(t *testing.T) {
	t.Parallel()
	type reopen struct {
		name string
		// run re-opens the delivery and reports whether it did.
		run func(ctx context.Context, s *Store, ep *outlet.Endpoint, d *outlet.Delivery) (bool, error)
		// gone reports whether err and reopened are the re-open's clean
		// answer that the delivery isn't there.
		gone func(reopened bool, err error) bool
	}
	reopens := []reopen{
		{"retrying the delivery",
			func(ctx context.Context, s *Store, _ *outlet.Endpoint, d *outlet.Delivery) (bool, error) {
				now := time.Now()
				_, err := s.RetryDelivery(ctx, "acme", d.ID, "node-b", now, now.Add(time.Minute))
				return err == nil, err
			},
			func(reopened bool, err error) bool { return outlet.ErrorCode(err) == outlet.ENOTFOUND }},
		{"recovering its endpoint",
			func(ctx context.Context, s *Store, ep *outlet.Endpoint, d *outlet.Delivery) (bool, error) {
				n, err := s.RecoverEndpoint(ctx, "acme", ep.ID, day0, time.Now())
				return n == 1, err
			},
			func(reopened bool, err error) bool { return err == nil && !reopened }},
	}
	// The cutoff that makes day 0 expired.
	cutoff := onDay(1, time.Duration(expirySlack)*time.Millisecond)
	for _, r := range reopens {
		t.Run(r.name+" while retention waits for it", func(t *testing.T) {
			t.Parallel()
			s, ep, d := failedOnDay0(t)
			ctx := outlet.WithActor(t.Context(), outlet.Actor{Type: outlet.ActorAdmin, ID: outlet.AdminActorID, Address: "203.0.113.7"})
			var reopened bool
			var purged outlet.Purged
			errs := whileHeld(t, s, func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `LOCK TABLE audit_log IN SHARE MODE`)
				return err
			}, func(context.Context) (err error) {
				reopened, err = r.run(ctx, s, ep, d)
				return err
			}, func(ctx context.Context) (err error) {
				purged, err = s.PurgeExpired(ctx, cutoff, 100)
				return err
			})
			check(t, errs[0])
			check(t, errs[1])
			if !reopened {
				t.Fatalf("the delivery was not re-opened")
			}
			if purged.Partitions != 0 || purged.HeldBy != d.ID {
				t.Errorf("PurgeExpired = %+v; want no partition dropped, held by %s", purged, d.ID)
			}
			wantWholeOrGone(t, s, d, reopened)
		})
		t.Run(r.name+" while retention holds deliveries", func(t *testing.T) {
			t.Parallel()
			s, ep, d := failedOnDay0(t)
			ctx := outlet.WithActor(t.Context(), outlet.Actor{Type: outlet.ActorAdmin, ID: outlet.AdminActorID, Address: "203.0.113.7"})
			var reopened bool
			var purged outlet.Purged
			errs := whileHeld(t, s, func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `LOCK TABLE attempts IN ACCESS SHARE MODE`)
				return err
			}, func(ctx context.Context) (err error) {
				purged, err = s.PurgeExpired(ctx, cutoff, 100)
				return err
			}, func(context.Context) (err error) {
				reopened, err = r.run(ctx, s, ep, d)
				return err
			})
			check(t, errs[0])
			if !r.gone(reopened, errs[1]) {
				t.Errorf("the re-open answered (re-opened %v) %v; want the clean answer that the delivery is gone", reopened, errs[1])
			}
			if purged.Partitions != 3 || purged.HeldBy != "" {
				t.Errorf("PurgeExpired = %+v; want day 0's 3 partitions dropped", purged)
			}
			wantWholeOrGone(t, s, d, reopened)
		})
	}
}

// failedOnDay0 makes tenant acme with an endpoint, and an event of day 0
// whose delivery to it failed after one attempt.
func failedOnDay0(t *testing.T) (*Store, *outlet.Endpoint, *outlet.Delivery) {
	t.Helper()
	s := openStore(t, freshSchema(t))
	ctx, now := t.Context(), onDay(0, time.Hour)
	check(t, s.CreateTenant(ctx, &outlet.Tenant{ID: "acme", Metadata: map[string]string{}, CreatedAt: day0, UpdatedAt: day0}))
	ep := &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: "acme", URL: "https://hooks.example.com/outlet",
		EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{}, Secret: outlet.NewEndpointSecret(),
		CreatedAt: day0, UpdatedAt: day0}
	check(t, s.CreateEndpoint(ctx, ep))
	d := publishClaimed(t, s, now)
	_, err := s.CompleteAttempts(ctx, []*outlet.AttemptOutcome{{TenantID: "acme", DeliveryID: d.ID, EndpointID: ep.ID, Owner: "node-a",
		Status: outlet.StatusFailed, Attempt: &outlet.Attempt{Trigger: outlet.TriggerScheduled, URL: ep.URL, StartedAt: now.Add(time.Second),
			StatusCode: 500, ResponseBody: "down"}}}, now.Add(2*time.Second), now.Add(-time.Hour))
	check(t, err)
	got, err := s.Delivery(ctx, "acme", d.ID)
	check(t, err)
	if got.Status != outlet.StatusFailed {
		t.Fatalf("the delivery is %s; want failed", got.Status)
	}
	return s, ep, d
}

// wantWholeOrGone checks that d is either gone, and was not re-opened, or
// pending, re-opened, with its event and its attempt.
func wantWholeOrGone(t *testing.T, s *Store, d *outlet.Delivery, reopened bool) {
	t.Helper()
	ctx := t.Context()
	var status string
	var events, attempts int
	err := s.pool.QueryRow(ctx, `SELECT d.status, (SELECT count(*) FROM events e WHERE e.seq = d.event_seq),
		(SELECT count(*) FROM attempts a WHERE a.delivery_seq = d.seq) FROM deliveries d WHERE d.seq = $1`,
		mustSeq(t, s, d.ID)).Scan(&status, &events, &attempts)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if reopened {
			t.Errorf("delivery %s was re-opened, then dropped by retention", d.ID)
		}
	case err != nil:
		t.Fatalf("read delivery %s back: %v", d.ID, err)
	case status != string(outlet.StatusPending) || !reopened:
		t.Errorf("delivery %s is %s (re-opened %v); want gone, or pending once re-opened", d.ID, status, reopened)
	case events != 1 || attempts != 1:
		t.Errorf("pending delivery %s has %d events and %d attempts left; want its event and its attempt", d.ID, events, attempts)
	default:
		if _, err := s.Event(ctx, "acme", d.EventID); err != nil {
			t.Errorf("the event of pending delivery %s: %v", d.ID, err)
		}
	}
}
