package browser_test

import (
	"strings"
	"testing"

	"github.com/outlethq/outlet/client"
)

// A customer sees who changed what in their account, their own portal
// session named as the actor of their change; the operator sees every
// tenant's changes and narrows them to one tenant and action.
func TestTheActivityPageShowsWhoChangedWhat(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	o := startOutlet(t)
	o.tenant("acme", "Acme Inc")
	o.tenant("globex", "Globex")
	o.must(o.api.Secrets.Put(o.admin, "globex", "OTHER", "v"))

	p, s := opened(t, b, o, "acme", "customer", client.PortalSessionCreate{})
	p.click(link("Secrets"))
	p.waitFor(heading("Secrets"))
	p.fill(field("Name"), "STRIPE_KEY")
	p.fill(field("Value"), "sk_live_ACTIVITY_0c1d2e")
	p.click(button("Save secret"))
	p.see("Saved STRIPE_KEY.")

	p.click(link("Activity"))
	p.waitFor(heading("Activity"))
	p.see("secret.created", "STRIPE_KEY", "Portal session", s.ID)
	if dom := p.everything(); strings.Contains(dom, "sk_live_ACTIVITY_0c1d2e") {
		t.Errorf("the activity page shows the secret's value:\n%s", excerpt(dom, "sk_live_ACTIVITY_0c1d2e"))
	}
	if dom := p.everything(); strings.Contains(dom, "OTHER") {
		t.Errorf("acme's activity shows globex's change")
	}
	p.shot("portal-activity")

	// The API holds the same entry, by the session.
	page, err := o.api.AuditLog.List(o.admin, "acme", client.AuditFilter{Action: "secret.created"})
	o.must(err)
	if len(page.Data) != 1 || page.Data[0].ActorID != s.ID || page.Data[0].ResourceID != "STRIPE_KEY" {
		t.Fatalf("acme's audit log holds %+v, want STRIPE_KEY created by %s", page.Data, s.ID)
	}

	// The operator's console: every tenant's changes, narrowed to one.
	op, _ := opened(t, b, o, "", "operator", client.PortalSessionCreate{})
	op.click(link("Activity"))
	op.waitFor(heading("Activity"))
	op.see("STRIPE_KEY", "OTHER", "tenant.created")
	op.fill(field("Tenant"), "globex")
	op.choose(field("Action"), "secret.created")
	op.click(button("Filter"))
	op.waitGone(text("STRIPE_KEY"))
	op.see("OTHER")
}

// Outlet's operational event types are in the operator's catalog, described
// and read-only: no control offers to change or delete one.
func TestTheOperatorSeesOutletsOwnEventTypesReadOnly(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	o := startOutlet(t)
	op, _ := opened(t, b, o, "", "operator", client.PortalSessionCreate{})
	op.click(link("Event types & hooks"))
	op.click(link("outlet.delivery.exhausted"))
	op.waitFor(heading("outlet.delivery.exhausted"))
	op.see("One of Outlet's operational event types", "_operator")
	const offered = `[...document.querySelectorAll("main button")].filter((b) => /^(Save|Delete)/.test(b.textContent.trim())).length`
	var n int
	op.evalMain(offered, &n)
	if n != 0 {
		t.Errorf("an operational event type's page offers %d Save or Delete buttons", n)
	}
	// A platform's own event type does offer them: the check sees buttons.
	_, err := o.api.EventTypes.Create(o.admin, client.EventTypeCreate{Name: "invoice.paid"})
	o.must(err)
	op.visit(o.url + "/portal/catalog/event-types/invoice.paid")
	op.waitFor(button("Save"))
	op.evalMain(offered, &n)
	if n != 2 {
		t.Errorf("a platform's event type's page offers %d Save or Delete buttons, want 2", n)
	}
}
