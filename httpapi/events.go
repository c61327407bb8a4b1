package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/metrics"
)

type publisher interface {
	Publish(ctx context.Context, ev *outlet.Event) (outlet.PublishOutcome, error)
	PublishBatch(ctx context.Context, evs []*outlet.Event) ([]outlet.PublishOutcome, error)
}

type eventsAPI struct {
	store     outlet.EventStore
	publisher publisher
	types     *eventTypes
	limits    *publishLimits
	maxData   int
	strict    bool
	metrics   *metrics.Metrics
	now       func() time.Time
}

func (a *eventsAPI) routes(s *Server) {
	s.handle("POST /v1/tenants/{tenant}/events", tenantScope, a.publish)
	s.handle("POST /v1/tenants/{tenant}/events/batch", tenantScope, a.publishBatch)
	s.handle("GET /v1/tenants/{tenant}/events", tenantScope, a.list)
	s.handle("GET /v1/tenants/{tenant}/events/{id}", tenantScope, a.get)
}

type publishRequest struct {
	ID        *string         `json:"id"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	Timestamp *timeField      `json:"timestamp"`
}

func (a *eventsAPI) publish(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r, int64(a.maxData)+64<<10)
	if outlet.ErrorCode(err) == outlet.ETOOLARGE {
		return outlet.Errorf(outlet.ETOOLARGE, "request body is too large: event data is limited to %d bytes (--max-event-size)", a.maxData)
	}
	if err != nil {
		return err
	}
	var req publishRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return err
	}
	key := r.Header.Get("Idempotency-Key")
	if key != "" {
		if err := outlet.ValidateIdempotencyKey("Idempotency-Key", key); err != nil {
			return err
		}
	}
	ev, err := a.event(r.Context(), r.PathValue("tenant"), &req, key, a.now())
	if err != nil {
		return err
	}
	if wait, err := a.limits.allow(r.Context(), ev.TenantID); err != nil {
		if outlet.ErrorCode(err) == outlet.ERATELIMIT {
			a.metrics.Throttled.Inc()
			setRetryAfter(w, wait)
		}
		return err
	}
	res, err := a.publisher.Publish(r.Context(), ev)
	if err != nil {
		return err
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	e := res.Event
	writeJSON(w, http.StatusAccepted, outlet.PublishResult{ID: e.ID, Type: e.Type, Timestamp: e.Timestamp, CreatedAt: e.CreatedAt,
		Deliveries: res.Deliveries, Replayed: res.Replayed})
	return nil
}

// event checks a publish request and builds the event it asks for, with
// the idempotency key given (checked already; "" for none).
func (a *eventsAPI) event(ctx context.Context, tenantID string, req *publishRequest, key string, now time.Time) (*outlet.Event, error) {
	if req.Type == "" {
		return nil, outlet.Errorf(outlet.EINVALID, "type is required, e.g. \"invoice.paid\"")
	}
	if err := outlet.ValidateEventTypeName(req.Type); err != nil {
		return nil, err
	}
	// Any JSON value is data, null too: receivers get it as it was sent. Only
	// a request without the field is refused, as it is most likely a mistake.
	if len(req.Data) == 0 {
		return nil, outlet.Errorf(outlet.EINVALID, "data is required: the JSON value receivers get as \"data\" (any JSON value, null included)")
	}
	var data bytes.Buffer
	if err := json.Compact(&data, req.Data); err != nil {
		return nil, outlet.Errorf(outlet.EMALFORMED, "data is not valid JSON: %v", err)
	}
	if data.Len() > a.maxData {
		return nil, outlet.Errorf(outlet.ETOOLARGE, "data is %d bytes; the limit is %d (--max-event-size)", data.Len(), a.maxData)
	}
	typ, err := a.types.get(ctx, req.Type)
	if err != nil {
		return nil, err
	}
	if !typ.exists && a.strict {
		return nil, outlet.Errorf(outlet.EINVALID, "event type %q is not in the catalog; create it with POST /v1/event-types first", req.Type)
	}
	if typ.schema != nil {
		if err := typ.schema.Validate(data.Bytes(), "data"); err != nil {
			return nil, err
		}
	}
	ev := &outlet.Event{TenantID: tenantID, Type: req.Type, Data: data.Bytes(), Timestamp: now, CreatedAt: now,
		PayloadHash: outlet.ContentHash(req.Type, data.Bytes()), IdempotencyKey: key}
	if req.Timestamp != nil {
		ev.Timestamp = req.Timestamp.UTC()
		// RFC 3339 has four-digit years: an offset can carry a time past
		// them once it is in UTC, which no answer or webhook could then show.
		if y := ev.Timestamp.Year(); y < 0 || y > 9999 {
			return nil, outlet.Errorf(outlet.EINVALID, "timestamp %s is year %d in UTC; give a time from 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z",
				req.Timestamp.Format(time.RFC3339Nano), y)
		}
	}
	if req.ID != nil {
		if err := outlet.ValidateCallerEventID(*req.ID); err != nil {
			return nil, err
		}
		ev.ID = *req.ID
	} else {
		ev.ID = outlet.NewID(outlet.PrefixEvent)
	}
	return ev, nil
}

func (a *eventsAPI) list(w http.ResponseWriter, r *http.Request) error {
	var f outlet.EventFilter
	var err error
	if f.Page, err = pageParams(r); err != nil {
		return err
	}
	f.Type = r.URL.Query().Get("type")
	if f.Since, err = timeParam(r, "since"); err != nil {
		return err
	}
	if f.Before, err = timeParam(r, "before"); err != nil {
		return err
	}
	evs, next, err := a.store.ListEvents(r.Context(), r.PathValue("tenant"), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(evs, next))
	return nil
}

func (a *eventsAPI) get(w http.ResponseWriter, r *http.Request) error {
	ev, err := a.store.Event(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ev)
	return nil
}
