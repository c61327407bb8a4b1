package httpapi

import (
	"context"
	"net/http"

	"github.com/outlethq/outlet"
)

type retrier interface {
	Retry(ctx context.Context, tenantID, deliveryID string) (*outlet.Delivery, error)
}

type deliveriesAPI struct {
	store   outlet.DeliveryStore
	retrier retrier
}

func (a *deliveriesAPI) routes(s *Server) {
	s.handle("GET /v1/tenants/{tenant}/deliveries", tenantScope, a.list)
	s.handle("GET /v1/tenants/{tenant}/deliveries/{id}", tenantScope, a.get)
	s.handle("GET /v1/tenants/{tenant}/deliveries/{id}/attempts", tenantScope, a.attempts)
	s.handle("POST /v1/tenants/{tenant}/deliveries/{id}/retry", tenantScope, a.retry)
}

func (a *deliveriesAPI) list(w http.ResponseWriter, r *http.Request) error {
	var f outlet.DeliveryFilter
	var err error
	if f.Page, err = pageParams(r); err != nil {
		return err
	}
	q := r.URL.Query()
	f.EventID, f.EndpointID, f.Function, f.Status = q.Get("event_id"), q.Get("endpoint_id"), q.Get("function"), outlet.DeliveryStatus(q.Get("status"))
	if f.EndpointID != "" && f.Function != "" {
		return outlet.Errorf(outlet.EINVALID, "endpoint_id and function each choose the deliveries' target; give one of them")
	}
	switch f.Status {
	case "", outlet.StatusPending, outlet.StatusSucceeded, outlet.StatusFailed:
	default:
		return outlet.Errorf(outlet.EINVALID, "status %q is not one of pending, succeeded, failed", f.Status)
	}
	if f.Since, err = timeParam(r, "since"); err != nil {
		return err
	}
	if f.Before, err = timeParam(r, "before"); err != nil {
		return err
	}
	ds, next, err := a.store.ListDeliveries(r.Context(), r.PathValue("tenant"), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(ds, next))
	return nil
}

func (a *deliveriesAPI) get(w http.ResponseWriter, r *http.Request) error {
	d, err := a.store.Delivery(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *deliveriesAPI) attempts(w http.ResponseWriter, r *http.Request) error {
	as, err := a.store.ListAttempts(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(as, ""))
	return nil
}

func (a *deliveriesAPI) retry(w http.ResponseWriter, r *http.Request) error {
	var req struct{} // no options yet; anything but {} is a mistake
	if err := decodeRequest(r, &req, true); err != nil {
		return err
	}
	d, err := a.retrier.Retry(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, d)
	return nil
}
