package postgres

import (
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// A row's seq is its time in milliseconds and the low 20 bits of a
// sequence, so a sequence that moved on by 2^20 gives a row the seq of one
// written before it in the same millisecond. The row is stored all the same,
// with a new seq; never refused as a conflict, which would tell a publisher
// not to retry an event that was never stored.
func TestARowWhoseSeqIsTakenIsStoredWithAnother(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openStore(t, freshSchema(t))
	now := time.Now().UTC().Truncate(time.Millisecond)
	ep := seqFixture(t, s, now)

	// rewind makes the table's next seq the one its last row got.
	rewind := func(table string) {
		t.Helper()
		_, err := s.pool.Exec(ctx, `SELECT setval('`+table+`_seq', (SELECT last_value FROM `+table+`_seq) + 1048575)`)
		check(t, err)
	}
	publish := func() (*outlet.Event, error) {
		t.Helper()
		req := seqRequest(now)
		res, err := s.PublishEvents(ctx, []*outlet.PublishRequest{req}, now)
		if err != nil {
			return nil, err
		}
		return req.Event, res[0].Err
	}
	delivery := func(ev *outlet.Event) *outlet.Delivery {
		t.Helper()
		ds, _, err := s.ListDeliveries(ctx, "acme", outlet.DeliveryFilter{EventID: ev.ID, EndpointID: ep.ID})
		check(t, err)
		if len(ds) != 1 {
			t.Fatalf("event %s has %d deliveries; want 1", ev.ID, len(ds))
		}
		return ds[0]
	}

	first, err := publish()
	check(t, err)
	rewind("events")
	second, err := publish()
	if err != nil {
		t.Fatalf("publish after the events' seq was taken: %v (code %s); want it stored", err, outlet.ErrorCode(err))
	}
	rewind("deliveries")
	third, err := publish()
	if err != nil {
		t.Fatalf("publish after the deliveries' seq was taken: %v (code %s); want it stored", err, outlet.ErrorCode(err))
	}
	for _, ev := range []*outlet.Event{first, second, third} {
		if _, err := s.Event(ctx, "acme", ev.ID); err != nil {
			t.Errorf("event %s: %v", ev.ID, err)
		}
		delivery(ev)
	}

	complete := func(ev *outlet.Event) error {
		t.Helper()
		d := delivery(ev)
		_, err := s.CompleteAttempts(ctx, []*outlet.AttemptOutcome{{TenantID: "acme", DeliveryID: d.ID, EndpointID: ep.ID,
			Attempt: &outlet.Attempt{ID: outlet.NewID(outlet.PrefixAttempt), Trigger: outlet.TriggerScheduled, URL: ep.URL,
				StartedAt: now, DurationMs: 1, Succeeded: true, StatusCode: 200, ResponseHeaders: map[string]string{}},
			Status: outlet.StatusSucceeded}}, now, now.Add(-time.Hour))
		return err
	}
	check(t, complete(first))
	rewind("attempts")
	if err := complete(second); err != nil {
		t.Fatalf("complete after the attempts' seq was taken: %v (code %s); want it stored", err, outlet.ErrorCode(err))
	}
	for _, ev := range []*outlet.Event{first, second} {
		as, err := s.ListAttempts(ctx, "acme", delivery(ev).ID)
		check(t, err)
		if len(as) != 1 {
			t.Errorf("event %s's delivery has %d attempts; want 1", ev.ID, len(as))
		}
	}
}

// When the seq tried again is taken too, the caller is told to retry: the
// database can't take the row right now, the event doesn't conflict.
func TestARowWhoseSeqIsTakenTwiceIsUnavailableNotAConflict(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openStore(t, freshSchema(t))
	now := time.Now().UTC().Truncate(time.Millisecond)
	seqFixture(t, s, now)

	// Two events of one millisecond take two seqs in a row; the sequence
	// is then set so that the next two numbers give the same seqs again.
	res, err := s.PublishEvents(ctx, []*outlet.PublishRequest{seqRequest(now), seqRequest(now)}, now)
	check(t, err)
	check(t, res[0].Err)
	check(t, res[1].Err)
	_, err = s.pool.Exec(ctx, `SELECT setval('events_seq', (SELECT last_value FROM events_seq) + 1048574)`)
	check(t, err)

	req := seqRequest(now)
	res, err = s.PublishEvents(ctx, []*outlet.PublishRequest{req}, now)
	if err == nil {
		err = res[0].Err
	}
	if code := outlet.ErrorCode(err); code != outlet.EUNAVAILABLE {
		t.Fatalf("publish whose seq is taken twice = %v (code %q); want %q", err, code, outlet.EUNAVAILABLE)
	}
	if _, err := s.Event(ctx, "acme", req.Event.ID); outlet.ErrorCode(err) != outlet.ENOTFOUND {
		t.Fatalf("the event refused is there: %v", err)
	}
	// The publisher's retry goes through.
	res, err = s.PublishEvents(ctx, []*outlet.PublishRequest{req}, now)
	check(t, err)
	check(t, res[0].Err)
}

// seqFixture creates tenant acme with one endpoint.
func seqFixture(t *testing.T, s *Store, now time.Time) *outlet.Endpoint {
	t.Helper()
	ctx := t.Context()
	check(t, s.CreateTenant(ctx, &outlet.Tenant{ID: "acme", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}))
	ep := &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: "acme", URL: "https://hooks.example.com/outlet",
		EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{}, Secret: outlet.NewEndpointSecret(),
		CreatedAt: now, UpdatedAt: now}
	check(t, s.CreateEndpoint(ctx, ep))
	return ep
}

// seqRequest is a request to publish a new event of acme's at now.
func seqRequest(now time.Time) *outlet.PublishRequest {
	return &outlet.PublishRequest{Event: &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "acme", Type: "invoice.paid",
		Data: []byte(`{}`), Timestamp: now, CreatedAt: now, PayloadHash: outlet.ContentHash("invoice.paid", []byte(`{}`))}}
}
