package client

import (
	"context"
	"iter"
	"net/url"
	"time"

	"github.com/outlethq/outlet"
)

// DeliveriesService shows a tenant's deliveries — one event sent to one
// endpoint — with their attempts, and sends them again.
type DeliveriesService struct{ c *Client }

// DeliveryFilter selects deliveries to list; zero fields select all.
type DeliveryFilter struct {
	EventID    string
	EndpointID string
	Function   string // deliveries to this function of the tenant
	Status     outlet.DeliveryStatus
	Since      time.Time // created at or after
	Before     time.Time // created before
	Limit      int
	Cursor     string
}

func (f DeliveryFilter) query() url.Values {
	q := ListOptions{Limit: f.Limit, Cursor: f.Cursor}.query()
	setNonEmpty(q, "event_id", f.EventID)
	setNonEmpty(q, "endpoint_id", f.EndpointID)
	setNonEmpty(q, "function", f.Function)
	setNonEmpty(q, "status", string(f.Status))
	setTime(q, "since", f.Since)
	setTime(q, "before", f.Before)
	return q
}

// List returns one page of the deliveries f selects.
func (s *DeliveriesService) List(ctx context.Context, tenant string, f DeliveryFilter, opts ...RequestOption) (*Page[*outlet.Delivery], error) {
	var out Page[*outlet.Delivery]
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "deliveries"), f.query(), nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// All yields every delivery that f selects from f.Cursor on, fetching pages
// of f.Limit as it goes.
func (s *DeliveriesService) All(ctx context.Context, tenant string, f DeliveryFilter, opts ...RequestOption) iter.Seq2[*outlet.Delivery, error] {
	return paginate(f.Cursor, func(cursor string) (*Page[*outlet.Delivery], error) {
		f.Cursor = cursor
		return s.List(ctx, tenant, f, opts...)
	})
}

// Get returns a delivery.
func (s *DeliveriesService) Get(ctx context.Context, tenant, id string, opts ...RequestOption) (*outlet.Delivery, error) {
	var out outlet.Delivery
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "deliveries", id), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Attempts returns every attempt of a delivery, first to last.
func (s *DeliveriesService) Attempts(ctx context.Context, tenant, id string, opts ...RequestOption) ([]*outlet.Attempt, error) {
	var out list[*outlet.Attempt]
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "deliveries", id, "attempts"), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Retry makes one more attempt of a delivery now, and returns the delivery
// as it is when the attempt starts. A delivery that had finished gets that
// one attempt; a pending one keeps its schedule afterwards.
func (s *DeliveriesService) Retry(ctx context.Context, tenant, id string, opts ...RequestOption) (*outlet.Delivery, error) {
	var out outlet.Delivery
	if err := s.c.do(ctx, "POST", path("v1", "tenants", tenant, "deliveries", id, "retry"), nil, struct{}{}, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}
