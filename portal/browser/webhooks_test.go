package browser_test

import (
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

func openEmbedded(t *testing.T, b *browser, tenant string, configure ...func(*outlettest.Options)) *embedded {
	t.Helper()
	h := startHost(t)
	o := startOutlet(t, append([]func(*outlettest.Options){func(opts *outlettest.Options) {
		opts.PortalFrameAncestors = []string{h.url}
	}}, configure...)...)
	o.tenant(tenant, "Acme Inc")
	s := o.session(tenant, client.PortalSessionCreate{})
	h.embed(s.URL)
	p := b.open("customer")
	p.visit(h.url)
	return &embedded{o: o, host: h, page: p, portal: p.inFrame(o.url + "/portal/")}
}

func TestACustomerOpensThePortalInsideThePlatformsSettingsPage(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := openEmbedded(t, b, "acme")
	e.page.see("Settings · Webhooks")
	e.portal.waitFor(heading("Endpoints"))
	e.portal.see("No endpoints yet.")
}
