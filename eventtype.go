package outlet

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// EventType is an entry of the platform's event catalog: a name, what it means,
// and optionally the JSON Schema that every published event of the type must
// match and a sample payload to show customers.
type EventType struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Sample      json.RawMessage `json:"sample"`
	Deprecated  bool            `json:"deprecated"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// EventTypeUpdate holds the fields of an event type a caller may change; nil
// means keep. A Schema or Sample of JSON null clears it.
type EventTypeUpdate struct {
	Description *string
	Schema      json.RawMessage
	Sample      json.RawMessage
	Deprecated  *bool
}

// EventTypeStore keeps the event catalog.
type EventTypeStore interface {
	CreateEventType(ctx context.Context, et *EventType) error
	EventType(ctx context.Context, name string) (*EventType, error)
	ListEventTypes(ctx context.Context) ([]*EventType, error)
	UpdateEventType(ctx context.Context, name string, u EventTypeUpdate, now time.Time) (*EventType, error)
	DeleteEventType(ctx context.Context, name string) error
}

var eventTypePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// ValidateEventTypeName checks a dotted event type name such as invoice.paid.
func ValidateEventTypeName(name string) error {
	if len(name) == 0 || len(name) > 128 || !eventTypePattern.MatchString(name) {
		return Errorf(EINVALID, "event type %q is not valid: use dot-separated parts of letters, digits, '_' or '-', up to 128 characters (e.g. invoice.paid)", truncate(name, 140))
	}
	return nil
}

// ValidateEventTypeFilter checks one entry of an endpoint's event_types: an
// exact name, a "prefix.*" wildcard, or "*" for every type.
func ValidateEventTypeFilter(f string) error {
	if f == "*" {
		return nil
	}
	if prefix, ok := strings.CutSuffix(f, ".*"); ok {
		if ValidateEventTypeName(prefix) == nil {
			return nil
		}
		return Errorf(EINVALID, "event type filter %q is not valid: a wildcard is a valid event type name followed by .* (e.g. invoice.*)", truncate(f, 140))
	}
	return ValidateEventTypeName(f)
}

// MatchEventType reports whether an event of type typ matches the filters. No
// filters means every type — but Outlet's operational events (outlet.…)
// match only filters that name them, exactly or with a wildcard such as
// outlet.*: an endpoint taking every event of its tenant doesn't start
// receiving Outlet's own.
func MatchEventType(filters []string, typ string) bool {
	operational := IsOperational(typ)
	if len(filters) == 0 {
		return !operational
	}
	for _, f := range filters {
		if f == typ || (f == "*" && !operational) {
			return true
		}
		if prefix, ok := strings.CutSuffix(f, "*"); ok && prefix != "" && strings.HasPrefix(typ, prefix) {
			return true
		}
	}
	return false
}

// Apply changes the event type as u says. It doesn't validate the result.
func (et *EventType) Apply(u EventTypeUpdate) {
	if u.Description != nil {
		et.Description = *u.Description
	}
	if u.Schema != nil {
		et.Schema = nullToNil(u.Schema)
	}
	if u.Sample != nil {
		et.Sample = nullToNil(u.Sample)
	}
	if u.Deprecated != nil {
		et.Deprecated = *u.Deprecated
	}
}

// UnmarshalJSON reads a schema or sample of JSON null as absent.
func (et *EventType) UnmarshalJSON(b []byte) error {
	type plain EventType
	if err := json.Unmarshal(b, (*plain)(et)); err != nil {
		return err
	}
	et.Schema, et.Sample = nullToNil(et.Schema), nullToNil(et.Sample)
	return nil
}

func nullToNil(r json.RawMessage) json.RawMessage {
	if string(r) == "null" {
		return nil
	}
	return r
}
