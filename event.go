package outlet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"regexp"
	"strconv"
	"time"
)

// Event is something that happened on the platform, published once for a
// tenant and fanned out to every matching target.
type Event struct {
	ID             string          `json:"id"`
	TenantID       string          `json:"tenant_id"`
	Type           string          `json:"type"`
	Timestamp      time.Time       `json:"timestamp"`
	Data           json.RawMessage `json:"data"` // nil once retention removed it
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	// PayloadHash identifies the content, so that a repeated publish with the
	// same idempotency key but different content can be refused.
	PayloadHash []byte `json:"-"`
	// Trace is the trace context the event was published in, kept with it
	// so that its deliveries, whenever and wherever they are made, carry
	// the publish's trace on to receivers.
	Trace TraceContext `json:"-"`
}

// TraceContext is a W3C Trace Context: the values of the traceparent and
// tracestate headers. Empty when the publish was in no trace.
type TraceContext struct {
	Parent string // "00-<trace id>-<span id>-<flags>"
	State  string // vendors' entries; often empty
}

// UnmarshalJSON reads data of JSON null (a payload deleted by retention) as
// absent.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	if err := json.Unmarshal(b, (*plain)(e)); err != nil {
		return err
	}
	e.Data = nullToNil(e.Data)
	return nil
}

// TimestampFormat is how event timestamps appear in webhook bodies and the API:
// RFC 3339 in UTC with milliseconds.
const TimestampFormat = "2006-01-02T15:04:05.000Z07:00"

// Body returns the exact bytes a receiver gets:
// {"type":…,"timestamp":…,"data":…}.
func (e *Event) Body() []byte {
	var b bytes.Buffer
	b.Grow(len(e.Data) + len(e.Type) + 64)
	b.WriteString(`{"type":`)
	b.WriteString(strconv.Quote(e.Type)) // event type names are ASCII without escapes, so Quote is valid JSON
	b.WriteString(`,"timestamp":"`)
	b.WriteString(e.Timestamp.UTC().Format(TimestampFormat))
	b.WriteString(`","data":`)
	if len(e.Data) == 0 {
		b.WriteString("null")
	} else {
		b.Write(e.Data)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// ContentHash returns the hash that decides whether two publishes carry the
// same event. Data must be compact JSON.
func ContentHash(typ string, data []byte) []byte {
	h := sha256.New()
	h.Write([]byte(typ))
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}

// ReplayConflict is the refusal of a publish whose idempotency key or id is
// taken by a stored event with other content. It names the stored event:
// the refused request's own id was never stored, so naming it would send
// the caller looking for an event that doesn't exist.
func ReplayConflict(ev *Event, stored []*Event) error {
	var byKey, byID *Event
	for _, s := range stored {
		if ev.IdempotencyKey != "" && s.IdempotencyKey == ev.IdempotencyKey {
			byKey = s
		}
		if s.ID == ev.ID {
			byID = s
		}
	}
	switch {
	case byKey != nil && (byID == nil || !bytes.Equal(byKey.PayloadHash, ev.PayloadHash)):
		return Errorf(ECONFLICT,
			"Idempotency-Key %q was already used for event %q, which has different content; use a new key for a new event",
			ev.IdempotencyKey, byKey.ID)
	case byID != nil:
		return Errorf(ECONFLICT, "event id %q already exists with different content; choose a new id for a new event", byID.ID)
	case ev.IdempotencyKey != "":
		return Errorf(ECONFLICT, "Idempotency-Key %q was already used for an event with different content; use a new key for a new event", ev.IdempotencyKey)
	}
	return Errorf(ECONFLICT, "event id %q already exists with different content; choose a new id for a new event", ev.ID)
}

var callerEventIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)

// ValidateCallerEventID checks an event id chosen by the publisher.
func ValidateCallerEventID(id string) error {
	if !callerEventIDPattern.MatchString(id) {
		return Errorf(EINVALID, "event id %q is not valid: use 1 to 128 letters, digits, '_', '.', ':' or '-'", truncate(id, 140))
	}
	return nil
}

// ValidateIdempotencyKey checks an idempotency key, given as what (the
// Idempotency-Key header, or a batch's idempotency_key field).
func ValidateIdempotencyKey(what, k string) error {
	if len(k) == 0 || len(k) > 256 {
		return Errorf(EINVALID, "%s must be 1 to 256 characters; it is %d", what, len(k))
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return Errorf(EINVALID, "%s must be printable ASCII", what)
		}
	}
	return nil
}

// MaxBatchEvents is the most events one batch publish may hold.
const MaxBatchEvents = 1000

// PublishRequest asks the store to keep one new event and create its
// deliveries, in one transaction.
type PublishRequest struct {
	Event *Event
	// LeaseOwner, when set, receives the new deliveries already claimed until
	// LeaseUntil, so the node that accepted the event can send it at once
	// without another round trip to the store. Deliveries to ordered
	// endpoints are never claimed this way: they wait their turn in the store.
	LeaseOwner string
	LeaseUntil time.Time
	// Hold names endpoints whose deliveries are not to be claimed but left
	// due at the time given: endpoints whose circuit is open on this node,
	// or with more queued than it takes (parked; see Store.ClaimParked).
	Hold map[string]time.Time
}

// PublishOutcome is the store's answer to one PublishRequest.
type PublishOutcome struct {
	Event *Event
	// Replayed is true when an event with the same id or idempotency key and
	// the same content already existed; it is returned and nothing new is made.
	Replayed   bool
	Deliveries int      // how many deliveries the event created
	Claims     []*Claim // the new deliveries claimed for LeaseOwner
	// DueNow counts the new deliveries nobody claimed that are due at once
	// (beyond what the publishing node may hold, or ordered): work for
	// whichever node gets to it first.
	DueNow int
	Err    error // this request failed; the others in the batch may not have
}

// EventFilter selects events to list.
type EventFilter struct {
	Page
	Type   string
	Since  time.Time // created at or after; zero: no bound
	Before time.Time // created before; zero: no bound
}

// EventStore keeps events.
type EventStore interface {
	// PublishEvents stores a batch of events and their deliveries in one
	// transaction, and answers each request in order. An error means none of
	// them was stored.
	PublishEvents(ctx context.Context, reqs []*PublishRequest, now time.Time) ([]PublishOutcome, error)
	Event(ctx context.Context, tenantID, id string) (*Event, error)
	ListEvents(ctx context.Context, tenantID string, f EventFilter) ([]*Event, string, error)
}
