package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/outlethq/outlet"
)

// maxBatchBody caps a batch publish's body: 1,000 events of 8 KiB each.
// One event may still be as large as --max-event-size allows.
const maxBatchBody = 8 << 20

type batchRequest struct {
	Events []json.RawMessage `json:"events"`
}

// batchEvent is one event of a batch: a publish's body, with its
// idempotency key as a field since it can't be a header.
type batchEvent struct {
	ID             *string         `json:"id"`
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	Timestamp      *timeField      `json:"timestamp"`
	IdempotencyKey *string         `json:"idempotency_key"`
}

// publishBatch stores up to MaxBatchEvents events in one transaction and
// answers for each in order. An event that breaks a rule is refused in its
// result alone; only a body that can't be read as a batch at all, a tenant
// that doesn't exist, or a batch over the tenant's rate limit refuse the
// whole request, and then nothing is stored.
func (a *eventsAPI) publishBatch(w http.ResponseWriter, r *http.Request) error {
	limit := max(maxBatchBody, a.maxData+64<<10)
	body, err := readBody(r, int64(limit))
	if outlet.ErrorCode(err) == outlet.ETOOLARGE {
		return outlet.Errorf(outlet.ETOOLARGE, "request body is larger than %d bytes, the cap of a batch; split it into smaller batches", limit)
	}
	if err != nil {
		return err
	}
	if r.Header.Get("Idempotency-Key") != "" {
		return outlet.Errorf(outlet.EINVALID, "Idempotency-Key is for single publishes; give each event of a batch its own \"idempotency_key\"")
	}
	var req batchRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return err
	}
	switch n := len(req.Events); {
	case req.Events == nil:
		return outlet.Errorf(outlet.EINVALID, `events is required: {"events":[{"type":"invoice.paid","data":{…}}, …]}`)
	case n == 0:
		return outlet.Errorf(outlet.EINVALID, "events is empty; give 1 to %d events", outlet.MaxBatchEvents)
	case n > outlet.MaxBatchEvents:
		return outlet.Errorf(outlet.ETOOLARGE, "events holds %d events; a batch holds at most %d: split it", n, outlet.MaxBatchEvents)
	}

	tenantID := r.PathValue("tenant")
	now := a.now()
	items := make([]outlet.PublishBatchItem, len(req.Events))
	evs := make([]*outlet.Event, 0, len(req.Events))
	at := make([]int, 0, len(req.Events)) // the item of each of evs
	for i, raw := range req.Events {
		ev, err := a.batchEvent(r, tenantID, raw, now)
		switch outlet.ErrorCode(err) {
		case "":
			evs = append(evs, ev)
			at = append(at, i)
		case outlet.EINTERNAL, outlet.EUNAVAILABLE:
			return err // the server's trouble, not the event's
		default:
			items[i].Error = asError(err)
		}
	}
	if wait, err := a.limits.allowN(r.Context(), tenantID, len(evs)); err != nil {
		if outlet.ErrorCode(err) == outlet.ERATELIMIT {
			a.metrics.Throttled.Inc()
			setRetryAfter(w, wait)
		}
		return err
	}
	outs, err := a.publisher.PublishBatch(r.Context(), evs)
	if err != nil {
		return err
	}
	for j, o := range outs {
		it := &items[at[j]]
		if o.Err != nil {
			it.Error = asError(o.Err)
			continue
		}
		e := o.Event
		it.PublishResult = &outlet.PublishResult{ID: e.ID, Type: e.Type, Timestamp: e.Timestamp, CreatedAt: e.CreatedAt,
			Deliveries: o.Deliveries, Replayed: o.Replayed}
	}
	res := outlet.PublishBatchResult{Results: items}
	for _, it := range items {
		switch {
		case it.Error != nil:
			res.Failed++
		case it.Replayed:
			res.Replayed++
		default:
			res.Accepted++
		}
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// batchEvent reads one event of a batch and builds it.
func (a *eventsAPI) batchEvent(r *http.Request, tenantID string, raw json.RawMessage, now time.Time) (*outlet.Event, error) {
	var be batchEvent
	if err := decodeJSON(raw, &be, false); err != nil {
		// decodeJSON speaks of the request body; here it is one event.
		var e *outlet.Error
		if errors.As(err, &e) {
			return nil, outlet.Errorf(e.Code, "%s", strings.Replace(e.Message, "request body", "event", 1))
		}
		return nil, err
	}
	key := ""
	if be.IdempotencyKey != nil {
		key = *be.IdempotencyKey
		if err := outlet.ValidateIdempotencyKey("idempotency_key", key); err != nil {
			return nil, err
		}
	}
	return a.event(r.Context(), tenantID, &publishRequest{ID: be.ID, Type: be.Type, Data: be.Data, Timestamp: be.Timestamp}, key, now)
}

// asError is err as an item of an answer shows it: its code, and its
// message unless it is internal.
func asError(err error) *outlet.Error {
	return &outlet.Error{Code: outlet.ErrorCode(err), Message: outlet.ErrorMessage(err)}
}
