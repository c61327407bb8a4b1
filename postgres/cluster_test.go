package postgres

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/testwait"
)

// nodes opens two stores on one fresh schema, as two nodes would.
func nodes(t *testing.T) (a, b *Store) {
	t.Helper()
	u := freshSchema(t)
	return openStore(t, u), openStore(t, u)
}

func TestWorkMadeDueOnOneNodeWakesTheOther(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		do   func(t *testing.T, a *Store, d *outlet.Delivery)
	}{
		{"publishing deliveries nobody claims", func(t *testing.T, a *Store, _ *outlet.Delivery) {
			publishOne(t, a, "")
		}},
		{"giving claims back", func(t *testing.T, a *Store, d *outlet.Delivery) {
			check(t, a.ReleaseClaims(t.Context(), "node-a", []string{d.ID}, time.Now()))
		}},
		{"recovering an endpoint", func(t *testing.T, a *Store, d *outlet.Delivery) {
			now := time.Now()
			_, err := a.CompleteAttempts(t.Context(), []*outlet.AttemptOutcome{{TenantID: d.TenantID, DeliveryID: d.ID,
				EndpointID: d.Target.ID, Status: outlet.StatusFailed, Attempt: &outlet.Attempt{Trigger: outlet.TriggerScheduled, StartedAt: now}}},
				now, now.Add(-time.Hour))
			check(t, err)
			n, err := a.RecoverEndpoint(t.Context(), d.TenantID, d.Target.ID, now.Add(-time.Hour), now)
			check(t, err)
			if n != 1 {
				t.Fatalf("recovered %d deliveries; want 1", n)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := nodes(t)
			d := publishOne(t, a, "node-a") // claimed: wakes nobody
			wake := listening(t, b)
			tc.do(t, a, d)
			wantWake(t, wake, "a wake-up of the other node")
		})
	}
}

func TestWorkClaimedAtPublishWakesNobody(t *testing.T) {
	t.Parallel()
	a, b := nodes(t)
	wake := listening(t, b)
	publishOne(t, a, "node-a")
	select {
	case <-wake:
		t.Errorf("a publish whose deliveries were all claimed woke the other node")
	case <-time.After(500 * time.Millisecond):
	}
}

func TestTheListenerConnectsAgainWhenItsConnectionDrops(t *testing.T) {
	t.Parallel()
	a, b := nodes(t)
	wake := listening(t, b)
	terminate(t, "outlet waker "+b.schema)
	// Nobody listened for a moment, so it looks once it is back.
	wantWake(t, wake, "a wake-up once the listener is back")
	testwait.Until(t, "the listener to listen again", func() bool { return isListening(t, b) })
	publishOne(t, a, "")
	wantWake(t, wake, "a wake-up by a publish after the listener came back")
}

func TestClosingTheStoreClosesItsWakeups(t *testing.T) {
	t.Parallel()
	for _, listen := range []bool{true, false} {
		s := openStore(t, freshSchema(t))
		if listen {
			listening(t, s)
		}
		check(t, s.Close())
		select {
		case _, open := <-s.Wakeups():
			if open {
				t.Errorf("Wakeups delivered a value after Close; want it closed")
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Wakeups not closed by Close (listening: %v)", listen)
		}
	}
}

func TestOneOfTwoNodesLeadsAndTheOtherTakesOverWhenItCloses(t *testing.T) {
	t.Parallel()
	a, b := nodes(t)
	wantLead(t, a, true, "the first to ask")
	wantLead(t, b, false, "the second to ask")
	wantLead(t, a, true, "the leader asking again")
	wantLead(t, b, false, "the other asking again")
	check(t, a.Close())
	wantLead(t, b, true, "the other once the leader closed")
	if _, err := a.Lead(t.Context()); outlet.ErrorCode(err) != outlet.EUNAVAILABLE {
		t.Errorf("Lead on a closed store: %v; want EUNAVAILABLE", err)
	}
}

func TestALeaderThatLosesItsConnectionLosesTheLead(t *testing.T) {
	t.Parallel()
	a, b := nodes(t)
	wantLead(t, a, true, "the first to ask")
	terminate(t, "outlet leader "+a.schema)
	testwait.Until(t, "the other node to take the lead", func() bool {
		ok, err := b.Lead(t.Context())
		check(t, err)
		return ok
	})
	wantLead(t, a, false, "the node that lost its connection")
	check(t, b.Close())
	wantLead(t, a, true, "the node that lost its connection, once the new leader closed")
}

func TestNodesInOtherSchemasElectTheirOwnLeader(t *testing.T) {
	t.Parallel()
	a, b := openStore(t, freshSchema(t)), openStore(t, freshSchema(t))
	wantLead(t, a, true, "a node of one schema")
	wantLead(t, b, true, "a node of another schema")
}

// listening starts s's listener and waits until it listens.
func listening(t *testing.T, s *Store) <-chan struct{} {
	t.Helper()
	wake := s.Wakeups()
	testwait.Until(t, "the listener to listen", func() bool { return isListening(t, s) })
	return wake
}

func isListening(t *testing.T, s *Store) bool {
	t.Helper()
	n := 0
	query(t, `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query = $2 AND state = 'idle'`,
		[]any{"outlet waker " + s.schema, "LISTEN " + dueChannel}, func(pgx.Rows) error { n++; return nil })
	return n == 1
}

// terminate ends the database sessions of an application.
func terminate(t *testing.T, application string) {
	t.Helper()
	n := 0
	query(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, []any{application},
		func(pgx.Rows) error { n++; return nil })
	if n != 1 {
		t.Fatalf("terminated %d sessions of %q; want 1", n, application)
	}
}

func wantWake(t *testing.T, wake <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-wake:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
	}
}

func wantLead(t *testing.T, s *Store, want bool, who string) {
	t.Helper()
	got, err := s.Lead(t.Context())
	check(t, err)
	if got != want {
		t.Errorf("%s: Lead = %v; want %v", who, got, want)
	}
}
