package client

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"time"

	"github.com/outlethq/outlet"
)

// EventsService publishes a tenant's events and reads them back.
type EventsService struct{ c *Client }

// Publish is an event to publish.
type Publish struct {
	// ID is the event's id, chosen by the publisher: publishing the same id
	// again answers with the first event. Empty makes one (evt_…).
	ID string `json:"id,omitempty"`
	// Type is the event type, such as "invoice.paid".
	Type string `json:"type"`
	// Data is what receivers get as "data": any value that encodes to JSON,
	// such as a struct, a map or a json.RawMessage.
	Data any `json:"data"`
	// Timestamp is when the event happened; nil means when it is accepted.
	Timestamp *time.Time `json:"timestamp,omitempty"`
	// IdempotencyKey makes publishing the event again, under the same key,
	// answer with the first event and send nothing twice. Publish sends it
	// as the Idempotency-Key header, PublishBatch with the event.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// PublishResult is the answer to a publish.
type PublishResult = outlet.PublishResult

// PublishBatchResult is the answer to a batch publish: one item per event,
// in order, each either a PublishResult or an Error (an *outlet.Error, so
// outlet.ErrorCode reads its code) for an event refused alone.
type PublishBatchResult = outlet.PublishBatchResult

// EventFilter selects events to list.
type EventFilter struct {
	Type   string
	Since  time.Time // created at or after; zero: no bound
	Before time.Time // created before; zero: no bound
	Limit  int
	Cursor string
}

func (f EventFilter) query() url.Values {
	q := ListOptions{Limit: f.Limit, Cursor: f.Cursor}.query()
	setNonEmpty(q, "type", f.Type)
	setTime(q, "since", f.Since)
	setTime(q, "before", f.Before)
	return q
}

// Publish stores an event for the tenant and sends it to every matching
// endpoint. It returns once the event is durably stored. Use
// WithIdempotencyKey to publish safely more than once.
func (s *EventsService) Publish(ctx context.Context, tenant string, p Publish, opts ...RequestOption) (*PublishResult, error) {
	if p.IdempotencyKey != "" {
		opts = append([]RequestOption{WithIdempotencyKey(p.IdempotencyKey)}, opts...)
		p.IdempotencyKey = ""
	}
	var out PublishResult
	if err := s.c.do(ctx, "POST", path("v1", "tenants", tenant, "events"), nil, p, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// MaxBatch is the most events one PublishBatch may send.
const MaxBatch = outlet.MaxBatchEvents

// PublishBatch stores up to MaxBatch events for the tenant in one request
// and one commit, and sends each to every matching endpoint and function.
// It returns once the events it accepted are durably stored, with one
// result per event, in order: an event refused alone (an unknown type, data
// that doesn't match its schema, a key used for other content) has an Error
// in its result and doesn't stop the others. An error return means the
// whole batch was refused, and none of it stored. Give each event an
// IdempotencyKey (or an ID) so that sending a batch again, after an answer
// that never came, stores nothing twice.
func (s *EventsService) PublishBatch(ctx context.Context, tenant string, events []Publish, opts ...RequestOption) (*PublishBatchResult, error) {
	var out PublishBatchResult
	body := struct {
		Events []Publish `json:"events"`
	}{events}
	if err := s.c.do(ctx, "POST", path("v1", "tenants", tenant, "events", "batch"), nil, body, &out, opts); err != nil {
		return nil, err
	}
	if len(out.Results) != len(events) {
		return nil, fmt.Errorf("the server answered %d results for a batch of %d events", len(out.Results), len(events))
	}
	return &out, nil
}

// List returns one page of the tenant's events.
func (s *EventsService) List(ctx context.Context, tenant string, f EventFilter, opts ...RequestOption) (*Page[*outlet.Event], error) {
	var out Page[*outlet.Event]
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "events"), f.query(), nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// All yields every event that f selects from f.Cursor on, fetching pages of
// f.Limit as it goes.
func (s *EventsService) All(ctx context.Context, tenant string, f EventFilter, opts ...RequestOption) iter.Seq2[*outlet.Event, error] {
	return paginate(f.Cursor, func(cursor string) (*Page[*outlet.Event], error) {
		f.Cursor = cursor
		return s.List(ctx, tenant, f, opts...)
	})
}

// Get returns an event with its data (nil once the retention period has
// removed it).
func (s *EventsService) Get(ctx context.Context, tenant, id string, opts ...RequestOption) (*outlet.Event, error) {
	var out outlet.Event
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "events", id), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

func setNonEmpty(q url.Values, name, v string) {
	if v != "" {
		q.Set(name, v)
	}
}

func setTime(q url.Values, name string, t time.Time) {
	if !t.IsZero() {
		q.Set(name, t.UTC().Format(time.RFC3339Nano))
	}
}
