package client

import (
	"context"
	"encoding/json"

	"github.com/outlethq/outlet"
)

// EventTypesService manages the event catalog: the types of event the
// platform publishes, with an optional JSON Schema that every event of the
// type must match. Every call needs the admin key; tenants read the catalog
// through CatalogService.
type EventTypesService struct{ c *Client }

// EventTypeCreate is a new entry of the catalog.
type EventTypeCreate struct {
	// Name is dotted, such as "invoice.paid".
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Schema is a JSON Schema (draft 2020-12 unless it says otherwise) that
	// the data of every event of this type must match.
	Schema json.RawMessage `json:"schema,omitempty"`
	// Sample is an example of data, shown to customers; it must match Schema.
	Sample     json.RawMessage `json:"sample,omitempty"`
	Deprecated bool            `json:"deprecated,omitempty"`
}

// EventTypeUpdate changes an event type; nil fields are kept. A Schema or
// Sample of JSON null (json.RawMessage("null")) removes it.
type EventTypeUpdate struct {
	Description *string         `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Sample      json.RawMessage `json:"sample,omitempty"`
	Deprecated  *bool           `json:"deprecated,omitempty"`
}

// Create adds an event type to the catalog.
func (s *EventTypesService) Create(ctx context.Context, et EventTypeCreate, opts ...RequestOption) (*outlet.EventType, error) {
	var out outlet.EventType
	if err := s.c.do(ctx, "POST", "/v1/event-types", nil, et, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns the whole catalog.
func (s *EventTypesService) List(ctx context.Context, opts ...RequestOption) ([]*outlet.EventType, error) {
	var out list[*outlet.EventType]
	if err := s.c.do(ctx, "GET", "/v1/event-types", nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Get returns one event type.
func (s *EventTypesService) Get(ctx context.Context, name string, opts ...RequestOption) (*outlet.EventType, error) {
	var out outlet.EventType
	if err := s.c.do(ctx, "GET", path("v1", "event-types", name), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update changes the fields u sets and returns the event type as it is now.
func (s *EventTypesService) Update(ctx context.Context, name string, u EventTypeUpdate, opts ...RequestOption) (*outlet.EventType, error) {
	var out outlet.EventType
	if err := s.c.do(ctx, "PATCH", path("v1", "event-types", name), nil, u, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes an event type from the catalog. Events of the type already
// published are kept.
func (s *EventTypesService) Delete(ctx context.Context, name string, opts ...RequestOption) error {
	return s.c.do(ctx, "DELETE", path("v1", "event-types", name), nil, nil, nil, opts)
}

// CatalogService is the event catalog as a tenant sees it, to choose what to
// subscribe to. A tenant's key may read it.
type CatalogService struct{ c *Client }

// List returns the whole catalog.
func (s *CatalogService) List(ctx context.Context, tenant string, opts ...RequestOption) ([]*outlet.EventType, error) {
	var out list[*outlet.EventType]
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "event-types"), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Get returns one event type.
func (s *CatalogService) Get(ctx context.Context, tenant, name string, opts ...RequestOption) (*outlet.EventType, error) {
	var out outlet.EventType
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "event-types", name), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}
