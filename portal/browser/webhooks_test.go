package browser_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/outlethq/outlet/client"
	"github.com/outlethq/outlet/outlettest"
)

// embedded is a tenant's portal inside the platform's settings page, which
// is served from another port (another origin on the same site), the one
// origin that may frame it.
type embedded struct {
	o      *outlet
	host   *host
	page   *page // the platform's settings page
	portal *page // acting inside its iframe
}

// openEmbedded starts an Outlet whose portal the host may frame, with the
// tenant, and opens the platform's settings page framing a fresh session of
// the tenant's. prepare runs before the session is minted (to fill the
// catalog, say).
func openEmbedded(t *testing.T, b *browser, tenant string, prepare func(*outlet), configure ...func(*outlettest.Options)) *embedded {
	t.Helper()
	h := startHost(t)
	o := startOutlet(t, append([]func(*outlettest.Options){func(opts *outlettest.Options) {
		opts.PortalFrameAncestors = []string{h.url}
	}}, configure...)...)
	o.tenant(tenant, "Acme Inc")
	if prepare != nil {
		prepare(o)
	}
	s := o.session(tenant, client.PortalSessionCreate{})
	h.embed(s.URL)
	p := b.open("customer")
	p.visit(h.url)
	p.see("Settings · Webhooks")
	return &embedded{o: o, host: h, page: p, portal: p.inFrame(o.url + "/portal/")}
}

const (
	invoicePaidSchema = `{"type":"object","required":["invoice_id","amount"],"properties":{"invoice_id":{"type":"string"},"amount":{"type":"integer","minimum":0},"currency":{"type":"string"}}}`
	invoicePaidSample = `{"invoice_id":"in_1001","amount":4200,"currency":"EUR"}`
)

// catalog is the platform's event types every webhook journey starts with.
func catalog(o *outlet) {
	o.eventType("invoice.paid", "An invoice was paid in full.", invoicePaidSchema, invoicePaidSample)
	o.eventType("customer.created", "A customer signed up.", `{"type":"object"}`, `{"customer_id":"cus_7"}`)
}

func TestACustomerCreatesAnEndpointFromTheCatalogSeesTheTestEventDeliveredAndRetriesAFailure(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	rcv := startReceiver(t)
	e := openEmbedded(t, b, "acme", catalog)
	o, portal := e.o, e.portal

	// The endpoint, from the catalog picker: one type of two.
	portal.waitFor(heading("Endpoints"))
	portal.see("No endpoints yet.")
	portal.click(link("New endpoint"))
	portal.waitFor(heading("New endpoint"))
	portal.see("An invoice was paid in full.", "A customer signed up.")
	if !portal.checked(field("Every event type, including ones added later")) {
		t.Error("a new endpoint doesn't start by receiving every type")
	}
	portal.fill(field("URL"), rcv.url+"/hooks/outlet")
	portal.fill(field("Description"), "Billing service")
	portal.click(field("invoice.paid"))
	if portal.checked(field("Every event type, including ones added later")) || portal.checked(field("customer.created")) {
		t.Error("choosing invoice.paid in the picker left every type or customer.created chosen")
	}
	portal.click(button("Create endpoint"))
	portal.see("Endpoint created.")
	portal.waitFor(heading(rcv.url + "/hooks/outlet"))
	e.page.shot("portal-embedded")

	eps, err := o.api.Endpoints.List(o.admin, "acme", client.ListOptions{})
	o.must(err)
	if len(eps.Data) != 1 {
		t.Fatalf("the API holds %d endpoints of acme's, want the one created", len(eps.Data))
	}
	ep := eps.Data[0]
	if ep.URL != rcv.url+"/hooks/outlet" || ep.Description != "Billing service" || len(ep.EventTypes) != 1 || ep.EventTypes[0] != "invoice.paid" {
		t.Errorf("the API holds the endpoint %s %q for %v, want %s/hooks/outlet \"Billing service\" for [invoice.paid]", ep.URL, ep.Description, ep.EventTypes, rcv.url)
	}

	// A test event: the endpoint's own type, its data the type's sample.
	portal.waitValue(field("Event type"), "invoice.paid")
	var data map[string]any
	if err := json.Unmarshal([]byte(portal.value(field("Data (JSON)"))), &data); err != nil || data["invoice_id"] != "in_1001" {
		t.Errorf("the test event's data isn't the sample: %v (%v)", data, err)
	}
	portal.click(button("Publish test event"))
	portal.see("This endpoint's delivery: succeeded")
	got := rcv.requests()
	if len(got) != 1 {
		t.Fatalf("the receiver got %d requests, want the test event", len(got))
	}
	var body struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(got[0].body), &body); err != nil || body.Type != "invoice.paid" || body.Data["amount"] != 4200.0 {
		t.Errorf("the receiver got %s (%v), want the invoice.paid sample", got[0].body, err)
	}
	webhookID := got[0].header.Get("webhook-id")

	// Its attempt, in detail.
	portal.click(link("see its attempts"))
	portal.see("Attempt 1", "HTTP 200")
	portal.click(button("Response"))
	portal.see("x-receiver acme-billing", `{ "received": true }`)
	portal.see("webhook-id", webhookID)

	// The receiver breaks; the customer retries from the page.
	rcv.answer(http.StatusServiceUnavailable, `{"error":"maintenance"}`)
	portal.click(button("Retry now"))
	portal.see("Attempt 2", "HTTP 503", `{ "error": "maintenance" }`)
	portal.waitFor(css("ol.attempts > li:first-child .badge.bad"))

	dls, err := o.api.Deliveries.List(o.admin, "acme", client.DeliveryFilter{EndpointID: ep.ID})
	o.must(err)
	if len(dls.Data) != 1 {
		t.Fatalf("the API holds %d deliveries to the endpoint, want 1", len(dls.Data))
	}
	d := dls.Data[0]
	if d.Attempts != 2 || d.Status != "failed" {
		t.Errorf("the API holds the delivery %s with %d attempts, want failed with 2", d.Status, d.Attempts)
	}
	atts, err := o.api.Deliveries.Attempts(o.admin, "acme", d.ID)
	o.must(err)
	codes := map[int]int{}
	for _, a := range atts {
		codes[a.Number] = a.StatusCode
	}
	if len(atts) != 2 || codes[1] != http.StatusOK || codes[2] != http.StatusServiceUnavailable {
		t.Errorf("the API holds attempts %v (number: status), want 1: 200 and 2: 503", codes)
	}
	if got := rcv.requests(); len(got) != 2 || got[1].header.Get("webhook-id") != webhookID {
		t.Errorf("the retry didn't reach the receiver with the first attempt's webhook-id %s", webhookID)
	}
}
