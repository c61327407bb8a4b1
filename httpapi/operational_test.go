package httpapi

import (
	"strings"
	"testing"

	"github.com/outlethq/outlet"
)

// Outlet's operational event types are in the catalog, for the operator and
// tenants alike, described and with schemas; nobody can create, change or
// delete one; publishing one (to test a receiver) is checked against its
// schema.
func TestTheCatalogHoldsTheOperationalEventTypesReadOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := "Bearer " + adminKey

	var list struct{ Data []*outlet.EventType }
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme/event-types", auth: "Bearer " + b.key}, &list)
	var names []string
	for _, et := range list.Data {
		names = append(names, et.Name)
		if outlet.IsOperational(et.Name) && (et.Description == "" || et.Schema == nil || et.Sample == nil) {
			t.Errorf("%s is listed without its description, schema or sample", et.Name)
		}
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] > names[i] {
			t.Errorf("the catalog is not by name: %v", names)
		}
	}
	for _, et := range outlet.OperationalEventTypes() {
		if !strings.Contains(strings.Join(names, " "), et.Name) {
			t.Errorf("the catalog lacks %s: %v", et.Name, names)
		}
	}
	var one outlet.EventType
	b.must(t, 200, req{method: "GET", path: "/v1/event-types/" + outlet.EventDeliveryExhausted, auth: admin}, &one)
	if one.Name != outlet.EventDeliveryExhausted || one.Schema == nil {
		t.Errorf("GET of %s answered %+v", outlet.EventDeliveryExhausted, one)
	}
	b.must(t, 404, req{method: "GET", path: "/v1/event-types/outlet.nothing", auth: admin}, nil)

	for _, r := range []req{
		{method: "POST", path: "/v1/event-types", body: `{"name":"outlet.mine"}`},
		{method: "POST", path: "/v1/event-types", body: `{"name":"outlet.endpoint.disabled"}`},
		{method: "PATCH", path: "/v1/event-types/outlet.endpoint.disabled", body: `{"description":"mine"}`},
		{method: "PUT", path: "/v1/event-types/outlet.endpoint.disabled", body: `{"deprecated":true}`},
		{method: "DELETE", path: "/v1/event-types/outlet.endpoint.disabled"},
	} {
		r.auth = admin
		a := b.do(t, r)
		if a.status != 403 || !strings.Contains(string(a.body), "reserved") {
			t.Errorf("%s %s answered %d %s; want 403, saying the name is reserved", r.method, r.path, a.status, a.body)
		}
	}

	// Publishing one: its data must match the catalog's schema.
	sample := outlet.OperationalEventType(outlet.EventEndpointDisabled).Sample
	b.must(t, 202, req{method: "POST", path: "/v1/tenants/acme/events", auth: "Bearer " + b.key,
		body: `{"type":"outlet.endpoint.disabled","data":` + string(sample) + `}`}, nil)
	b.must(t, 422, req{method: "POST", path: "/v1/tenants/acme/events", auth: "Bearer " + b.key,
		body: `{"type":"outlet.endpoint.disabled","data":{"tenant_id":"acme"}}`}, nil)
}

// The operator's tenant is made like any other, under its reserved id.
func TestTheOperatorsTenantIsMadeUnderItsReservedID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := "Bearer " + adminKey
	b.must(t, 201, req{method: "POST", path: "/v1/tenants", auth: admin, body: `{"id":"_operator","name":"Operations"}`}, nil)
	b.must(t, 201, req{method: "POST", path: "/v1/tenants/_operator/endpoints", auth: admin,
		body: `{"url":"https://ops.example.com/outlet","event_types":["outlet.*"]}`}, nil)
	a := b.do(t, req{method: "POST", path: "/v1/tenants", auth: admin, body: `{"id":"_other"}`})
	if a.status != 422 || !strings.Contains(string(a.body), "_operator") {
		t.Errorf("a tenant id starting with _ answered %d %s; want 422 naming _operator", a.status, a.body)
	}
}
