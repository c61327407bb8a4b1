package outlet_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/schema"
)

// Every operational event type is in the catalog, reserved, with a schema
// that compiles and a sample it accepts.
func TestTheOperationalCatalogDescribesEveryType(t *testing.T) {
	t.Parallel()
	want := []string{outlet.EventDeliveryExhausted, outlet.EventEndpointCircuitClosed, outlet.EventEndpointCircuitOpened,
		outlet.EventEndpointDisabled, outlet.EventFunctionFailing, outlet.EventTenantUsageThreshold}
	var got []string
	for _, et := range outlet.OperationalEventTypes() {
		got = append(got, et.Name)
		if !outlet.IsOperational(et.Name) || outlet.ReservedEventType(et.Name) == nil {
			t.Errorf("%s is not reserved", et.Name)
		}
		if err := outlet.ValidateEventTypeName(et.Name); err != nil {
			t.Error(err)
		}
		if et.Description == "" {
			t.Errorf("%s has no description", et.Name)
		}
		s, err := schema.Compile(et.Schema)
		if err != nil {
			t.Errorf("%s's schema: %v", et.Name, err)
			continue
		}
		if err := s.Validate(et.Sample, "sample"); err != nil {
			t.Errorf("%s's sample: %v", et.Name, err)
		}
		if !json.Valid(et.Sample) {
			t.Errorf("%s's sample is not JSON", et.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("the catalog has %v; want %v, by name", got, want)
	}
	if outlet.OperationalEventType(outlet.EventFunctionFailing) == nil || outlet.OperationalEventType("outlet.nothing") != nil {
		t.Error("OperationalEventType doesn't find the catalog's entries alone")
	}
	if outlet.ReservedEventType("invoice.paid") != nil || outlet.ReservedEventType("outlets.x") != nil {
		t.Error("a name outside outlet. is reserved")
	}
}

func TestTheOperatorTenantIsTheOneIDStartingWithAnUnderscore(t *testing.T) {
	t.Parallel()
	if err := outlet.ValidateTenantID(outlet.OperatorTenant); err != nil {
		t.Error(err)
	}
	if err := outlet.ValidateTenantID("_acme"); err == nil {
		t.Error("_acme accepted")
	}
}
