package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func newEventType(name string) *outlet.EventType {
	return &outlet.EventType{
		Name:        name,
		Description: "An invoice was paid in full.",
		Schema:      json.RawMessage(`{"type":"object","required":["amount"]}`),
		Sample:      json.RawMessage(`{"amount":100}`),
		CreatedAt:   base,
		UpdatedAt:   base,
	}
}

func wantEventType(t *testing.T, got, want *outlet.EventType) {
	t.Helper()
	wantEqual(t, "event type name", got.Name, want.Name)
	wantEqual(t, "event type description", got.Description, want.Description)
	if !jsonEqual(got.Schema, want.Schema) {
		t.Errorf("event type schema = %s; want %s", got.Schema, want.Schema)
	}
	if !jsonEqual(got.Sample, want.Sample) {
		t.Errorf("event type sample = %s; want %s", got.Sample, want.Sample)
	}
	wantEqual(t, "event type deprecated", got.Deprecated, want.Deprecated)
	wantTime(t, "event type created_at", got.CreatedAt, want.CreatedAt)
	wantTime(t, "event type updated_at", got.UpdatedAt, want.UpdatedAt)
}

func eventTypeTests(t *testing.T, s suite) {
	s.test(t, "a created event type reads back with its schema and sample", func(t *testing.T, b *bundle) {
		want := newEventType(paid)
		check(t, b.store.CreateEventType(b.ctx, want))
		got, err := b.store.EventType(b.ctx, paid)
		check(t, err)
		wantEventType(t, got, want)
	})

	s.test(t, "an event type without schema or sample reads back without them", func(t *testing.T, b *bundle) {
		want := newEventType(paid)
		want.Schema, want.Sample = nil, nil
		check(t, b.store.CreateEventType(b.ctx, want))
		got, err := b.store.EventType(b.ctx, paid)
		check(t, err)
		wantEventType(t, got, want)
	})

	s.test(t, "creating an event type with a taken name is ECONFLICT", func(t *testing.T, b *bundle) {
		check(t, b.store.CreateEventType(b.ctx, newEventType(paid)))
		wantCode(t, b.store.CreateEventType(b.ctx, newEventType(paid)), outlet.ECONFLICT)
	})

	s.test(t, "getting, updating or deleting an unknown event type is ENOTFOUND", func(t *testing.T, b *bundle) {
		_, err := b.store.EventType(b.ctx, paid)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.UpdateEventType(b.ctx, paid, outlet.EventTypeUpdate{Deprecated: ptr(true)}, base)
		wantCode(t, err, outlet.ENOTFOUND)
		wantCode(t, b.store.DeleteEventType(b.ctx, paid), outlet.ENOTFOUND)
	})

	s.test(t, "event types list sorted by name", func(t *testing.T, b *bundle) {
		for _, name := range []string{"invoice.paid", "customer.created", "invoice.created"} {
			check(t, b.store.CreateEventType(b.ctx, newEventType(name)))
		}
		got, err := b.store.ListEventTypes(b.ctx)
		check(t, err)
		var names []string
		for _, et := range got {
			names = append(names, et.Name)
		}
		wantIDs(t, "event types", names, []string{"customer.created", "invoice.created", "invoice.paid"})
	})

	for _, tc := range []struct {
		name   string
		update outlet.EventTypeUpdate
		change func(*outlet.EventType)
	}{
		{"updating an event type's description keeps its schema and sample",
			outlet.EventTypeUpdate{Description: ptr("Paid, at last.")},
			func(et *outlet.EventType) { et.Description = "Paid, at last." }},
		{"updating an event type's schema keeps its sample",
			outlet.EventTypeUpdate{Schema: json.RawMessage(`{"type":"object"}`)},
			func(et *outlet.EventType) { et.Schema = json.RawMessage(`{"type":"object"}`) }},
		{"updating an event type with a JSON null schema clears the schema alone",
			outlet.EventTypeUpdate{Schema: json.RawMessage(`null`)},
			func(et *outlet.EventType) { et.Schema = nil }},
		{"updating an event type with a JSON null sample clears the sample alone",
			outlet.EventTypeUpdate{Sample: json.RawMessage(`null`)},
			func(et *outlet.EventType) { et.Sample = nil }},
		{"deprecating an event type keeps the rest",
			outlet.EventTypeUpdate{Deprecated: ptr(true)},
			func(et *outlet.EventType) { et.Deprecated = true }},
	} {
		s.test(t, tc.name, func(t *testing.T, b *bundle) {
			check(t, b.store.CreateEventType(b.ctx, newEventType(paid)))
			got, err := b.store.UpdateEventType(b.ctx, paid, tc.update, at(time.Hour))
			check(t, err)
			want := newEventType(paid)
			tc.change(want)
			want.UpdatedAt = at(time.Hour)
			wantEventType(t, got, want)
			stored, err := b.store.EventType(b.ctx, paid)
			check(t, err)
			wantEventType(t, stored, want)
		})
	}

	s.test(t, "a deleted event type is gone", func(t *testing.T, b *bundle) {
		check(t, b.store.CreateEventType(b.ctx, newEventType(paid)))
		check(t, b.store.DeleteEventType(b.ctx, paid))
		_, err := b.store.EventType(b.ctx, paid)
		wantCode(t, err, outlet.ENOTFOUND)
		got, err := b.store.ListEventTypes(b.ctx)
		check(t, err)
		wantEqual(t, "event types left", len(got), 0)
	})
}
