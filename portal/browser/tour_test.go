package browser_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	olt "github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

// northwind is the platform of the docs' screenshots: its name, brand
// colour and logo.
var northwind = &olt.PortalTheme{Name: "Northwind Platform", BrandColor: "#0f766e",
	LogoURL: "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">`+
		`<rect width="32" height="32" rx="8" fill="#0f766e"/><path d="M10 23V9l12 14V9" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`))}

// A tour of the portal's main pages with a tenant that has been using
// Outlet for a while: each page shows its data, and with -screenshots each
// is saved for docs/portal.md.
func TestATourOfTheMainPages(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	rcv := startReceiver(t)
	o := startOutlet(t)
	o.tenant("acme", "Acme Inc")
	o.eventType("invoice.created", "A draft invoice was created.", `{"type":"object","properties":{"invoice_id":{"type":"string"}}}`, `{"invoice_id":"in_1001","amount":4200}`)
	o.eventType("invoice.paid", "An invoice was paid in full.", invoicePaidSchema, invoicePaidSample)
	o.eventType("user.created", "Someone signed up.", `{"type":"object","required":["user_id"]}`, `{"user_id":"usr_7","email":"ada@example.com"}`)
	billing, err := o.api.Endpoints.Create(o.admin, "acme", client.EndpointCreate{URL: rcv.url + "/webhooks", Description: "Billing service", EventTypes: []string{"invoice.*"}})
	o.must(err)
	_, err = o.api.Endpoints.Create(o.admin, "acme", client.EndpointCreate{URL: rcv.url + "/crm", Description: "CRM sync", EventTypes: []string{"user.created"}})
	o.must(err)
	_, err = o.api.Functions.Deploy(o.admin, "acme", "notify-slack", client.FunctionDeploy{Runtime: "typescript", Events: []string{"invoice.paid"},
		Code: "export default (event: any) => { console.log(`invoice ${event.data.invoice_id} paid`); return { ok: true }; }"})
	o.must(err)

	// Some traffic: every type a few times.
	for i := range 12 {
		typ := []string{"invoice.created", "invoice.paid", "user.created"}[i%3]
		_, err := o.api.Events.Publish(o.admin, "acme", client.Publish{Type: typ, Data: map[string]any{"invoice_id": "in_1001", "amount": 4200, "user_id": "usr_7"}})
		o.must(err)
	}
	// One that failed, then went through on a retry.
	rcv.answer(http.StatusBadGateway, `{"error":"upstream billing database unavailable"}`)
	ev, err := o.api.Events.Publish(o.admin, "acme", client.Publish{Type: "invoice.created", Data: map[string]any{"invoice_id": "in_1002", "amount": 990}})
	o.must(err)
	failed := o.waitDelivered("acme", ev.ID, 1)[0]
	rcv.answer(http.StatusOK, `{"received":true}`)
	_, err = o.api.Deliveries.Retry(o.admin, "acme", failed)
	o.must(err)

	p := b.open("customer")
	p.visit(o.session("acme", client.PortalSessionCreate{Theme: northwind}).URL)
	p.waitFor(heading("Endpoints"))
	p.see("Northwind Platform", rcv.url+"/webhooks", "Billing service", "CRM sync", "% of last")
	p.shot("portal-endpoints")

	p.click(link("New endpoint"))
	p.waitFor(heading("New endpoint"))
	p.click(field("invoice.paid"))
	p.click(button("Schema and sample").in("ul.type-list > li:nth-child(2)"))
	p.see(`"invoice_id": "in_1001"`)
	p.shot("portal-new-endpoint")

	p.visit(o.url + "/portal/endpoints/" + billing.ID)
	p.waitFor(heading(rcv.url + "/webhooks"))
	p.waitValue(field("Event type"), "invoice.created")
	p.choose(field("Event type"), "invoice.paid")
	p.click(button("Publish test event"))
	p.see("This endpoint's delivery: succeeded")
	p.scrollTo(heading("Send a test event"))
	p.shot("portal-endpoint")

	p.visit(o.url + "/portal/deliveries/" + failed)
	p.waitFor(heading("Attempts"))
	p.see("Attempt 2", "HTTP 200", "Attempt 1", "HTTP 502", "upstream billing database unavailable")
	p.scrollTo(heading("Attempts"))
	p.shot("portal-delivery")

	p.click(link("Usage"))
	p.waitFor(heading("Usage"))
	p.waitFor(css(".chart-host svg"))
	p.see("events in all")
	p.shot("portal-usage")

	// A phone-sized iframe, in the dark.
	dark := b.open("customer on a phone")
	dark.viewport(375, 760)
	dark.visit(o.session("acme", client.PortalSessionCreate{Theme: &olt.PortalTheme{Name: northwind.Name, BrandColor: northwind.BrandColor, LogoURL: northwind.LogoURL, Mode: "dark"}}).URL)
	dark.waitFor(heading("Endpoints"))
	dark.click(link("Deliveries"))
	dark.waitFor(css("tbody tr"))
	dark.see("notify-slack")
	dark.shot("portal-deliveries-375-dark")

	op := b.open("operator")
	op.visit(o.session("", client.PortalSessionCreate{}).URL)
	op.waitFor(heading("Tenants"))
	op.click(link("Node health"))
	op.waitFor(heading("Node health"))
	op.see("Ready yes", "Queue depth", "Since this node started", "Events published 14")
	op.seeWithin(2*wait, "/s") // the rates, after the second refresh
	op.shot("portal-console-health")
}
