package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/schema"
)

type eventTypesAPI struct {
	store   outlet.EventTypeStore
	tenants interface {
		Tenant(ctx context.Context, id string) (*outlet.Tenant, error)
	}
	cache *eventTypes
	now   func() time.Time
}

func (a *eventTypesAPI) routes(s *Server) {
	s.handle("POST /v1/event-types", adminOnly, a.create)
	s.handle("GET /v1/event-types", adminOnly, a.list)
	s.handle("GET /v1/event-types/{name}", adminOnly, a.get)
	s.handle("PATCH /v1/event-types/{name}", adminOnly, a.update)
	s.handle("PUT /v1/event-types/{name}", adminOnly, a.update)
	s.handle("DELETE /v1/event-types/{name}", adminOnly, a.delete)
	// Tenants browse the catalog to choose what to subscribe to.
	s.handle("GET /v1/tenants/{tenant}/event-types", tenantScope, a.inTenant(a.list))
	s.handle("GET /v1/tenants/{tenant}/event-types/{name}", tenantScope, a.inTenant(a.get))
}

// inTenant runs h once the tenant in the path is known to exist: the catalog
// is shared, so nothing else would notice an unknown one.
func (a *eventTypesAPI) inTenant(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := a.tenants.Tenant(r.Context(), r.PathValue("tenant")); err != nil {
			return err
		}
		return h(w, r)
	}
}

type eventTypeRequest struct {
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Sample      json.RawMessage `json:"sample"`
	Deprecated  *bool           `json:"deprecated"`
}

func (req *eventTypeRequest) update() outlet.EventTypeUpdate {
	return outlet.EventTypeUpdate{Description: req.Description, Schema: req.Schema, Sample: req.Sample, Deprecated: req.Deprecated}
}

// checkEventType validates what only the API can: the schema compiles and
// the sample matches it.
func checkEventType(et *outlet.EventType) error {
	if err := outlet.ValidateEventTypeName(et.Name); err != nil {
		return err
	}
	if len(et.Description) > 2000 {
		return outlet.Errorf(outlet.EINVALID, "description is %d characters long; the limit is 2000", len(et.Description))
	}
	if et.Schema == nil {
		return nil
	}
	s, err := schema.Compile(et.Schema)
	if err != nil {
		return err
	}
	if et.Sample != nil {
		return s.Validate(et.Sample, "sample")
	}
	return nil
}

func (a *eventTypesAPI) create(w http.ResponseWriter, r *http.Request) error {
	var req eventTypeRequest
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	now := a.now()
	et := &outlet.EventType{Name: req.Name, CreatedAt: now, UpdatedAt: now}
	et.Apply(req.update())
	if req.Name == "" {
		return outlet.Errorf(outlet.EINVALID, "name is required, e.g. \"invoice.paid\"")
	}
	if err := outlet.ReservedEventType(req.Name); err != nil {
		return err
	}
	if err := checkEventType(et); err != nil {
		return err
	}
	if err := a.store.CreateEventType(r.Context(), et); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, et)
	return nil
}

// list answers the platform's catalog with Outlet's operational event
// types among it, by name.
func (a *eventTypesAPI) list(w http.ResponseWriter, r *http.Request) error {
	ets, err := a.store.ListEventTypes(r.Context())
	if err != nil {
		return err
	}
	ets = append(ets, outlet.OperationalEventTypes()...)
	slices.SortFunc(ets, func(a, b *outlet.EventType) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, listOf(ets, ""))
	return nil
}

func (a *eventTypesAPI) get(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if outlet.IsOperational(name) {
		et := outlet.OperationalEventType(name)
		if et == nil {
			return outlet.Errorf(outlet.ENOTFOUND, "event type %q not found: the operational event types are listed at GET /v1/event-types", name)
		}
		writeJSON(w, http.StatusOK, et)
		return nil
	}
	et, err := a.store.EventType(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, et)
	return nil
}

func (a *eventTypesAPI) update(w http.ResponseWriter, r *http.Request) error {
	var req eventTypeRequest
	if err := decodeRequest(r, &req, false); err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := outlet.ReservedEventType(name); err != nil {
		return err
	}
	if req.Name != "" && req.Name != name {
		return outlet.Errorf(outlet.EINVALID, "an event type can't be renamed; create %q and deprecate %q instead", req.Name, name)
	}
	if err := a.validateUpdate(r.Context(), name, req.update()); err != nil {
		return err
	}
	et, err := a.store.UpdateEventType(r.Context(), name, req.update(), a.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, et)
	return nil
}

// validateUpdate checks the event type as the update would leave it.
func (a *eventTypesAPI) validateUpdate(ctx context.Context, name string, u outlet.EventTypeUpdate) error {
	et, err := a.store.EventType(ctx, name)
	if err != nil {
		return err
	}
	et.Apply(u)
	return checkEventType(et)
}

func (a *eventTypesAPI) delete(w http.ResponseWriter, r *http.Request) error {
	if err := outlet.ReservedEventType(r.PathValue("name")); err != nil {
		return err
	}
	if err := a.store.DeleteEventType(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
