package browser_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/outlethq/outlet/client"
)

func TestTheOperatorAddsAnEventTypeAndCustomersFindItInTheirPicker(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	o := startOutlet(t)
	o.tenant("acme", "Acme Inc")
	o.tenant("globex", "Globex")
	catalog(o)
	const (
		schema = `{"type":"object","required":["subscription_id","plan"],"properties":{"subscription_id":{"type":"string"},"plan":{"enum":["basic","pro"]}}}`
		sample = `{"subscription_id":"sub_42","plan":"pro"}`
	)

	op := b.open("operator")
	op.visit(o.session("", client.PortalSessionCreate{}).URL)
	op.waitFor(heading("Tenants"))
	op.see("acme", "Globex")
	op.click(link("Event types & hooks"))
	op.waitFor(heading("Event types and hooks"))
	op.see("invoice.paid", "An invoice was paid in full.")
	op.click(link("New event type"))
	op.waitFor(heading("New event type"))
	op.fill(field("Name"), "subscription.renewed")
	op.fill(field("Description"), "A subscription renewed for another period.")
	op.fill(field("JSON Schema"), schema)
	// A sample the schema refuses is refused, saying why.
	op.fill(field("Sample data"), `{"subscription_id":"sub_42","plan":"gold"}`)
	op.click(button("Create event type"))
	op.waitFor(css("main [role=alert]"))
	op.see("sample does not match its schema at /plan: value must be one of 'basic', 'pro'")
	if _, err := o.api.EventTypes.Get(o.admin, "subscription.renewed"); err == nil {
		t.Fatal("the API holds the event type whose sample its schema refused")
	}
	op.fill(field("Sample data"), sample)
	op.click(button("Create event type"))
	op.waitFor(heading("subscription.renewed"))
	op.click(link("Event types and hooks"))
	op.see("subscription.renewed", "A subscription renewed for another period.")

	et, err := o.api.EventTypes.Get(o.admin, "subscription.renewed")
	o.must(err)
	if et.Description != "A subscription renewed for another period." || !sameJSON(et.Schema, schema) || !sameJSON(et.Sample, sample) {
		t.Errorf("the API holds the event type %q with schema %s and sample %s, want the ones typed", et.Description, et.Schema, et.Sample)
	}

	// The operator sees it in a tenant's picker…
	op.click(link("Tenants"))
	op.click(link("acme"))
	op.waitFor(heading("Endpoints"))
	op.click(link("New endpoint"))
	op.waitFor(field("subscription.renewed"))
	op.see("A subscription renewed for another period.")

	// …and so does the customer, who subscribes an endpoint to it and
	// finds its sample ready to send.
	customer := b.open("customer")
	customer.visit(o.session("globex", client.PortalSessionCreate{}).URL)
	customer.click(link("New endpoint"))
	customer.see("A subscription renewed for another period.")
	customer.fill(field("URL"), "https://globex.example/hooks")
	customer.click(field("subscription.renewed"))
	customer.click(button("Create endpoint"))
	customer.see("Endpoint created.")
	customer.waitValue(field("Event type"), "subscription.renewed")
	if got := customer.value(field("Data (JSON)")); !sameJSON(json.RawMessage(got), sample) {
		t.Errorf("the test event's data is %s, want the operator's sample %s", got, sample)
	}
	eps, err := o.api.Endpoints.List(o.admin, "globex", client.ListOptions{})
	o.must(err)
	if len(eps.Data) != 1 || !reflect.DeepEqual(eps.Data[0].EventTypes, []string{"subscription.renewed"}) {
		t.Errorf("the API holds globex's endpoints %v, want one for subscription.renewed", eps.Data)
	}
}

// sameJSON says whether two JSON texts hold the same value.
func sameJSON(a json.RawMessage, b string) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
