package browser_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet/client"
	"github.com/outlethq/outlet/outlettest"
)

func TestASecretsValueNeverAppearsInThePageAfterItIsSaved(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	o := startOutlet(t)
	o.tenant("acme", "Acme Inc")
	const first, second = "sk_live_FIRST_9f3a1c77e2", "sk_live_SECOND_44b0d5aa19"
	p, _ := opened(t, b, o, "acme", "customer", client.PortalSessionCreate{})

	p.click(link("Secrets"))
	p.waitFor(heading("Secrets"))
	p.see("No secrets yet.")
	p.fill(field("Name"), "STRIPE_KEY")
	p.fill(field("Value"), first)
	p.click(button("Save secret"))
	p.see("Saved STRIPE_KEY. Its value is not kept on this page.")
	p.waitFor(css("table code"))
	if dom := p.everything(); strings.Contains(dom, first) {
		t.Errorf("the page still holds the secret's value after saving it:\n%s", excerpt(dom, first))
	}

	// Replacing it: the new value leaves no trace either.
	p.click(button("Replace"))
	p.fill(field("New value for STRIPE_KEY"), second)
	p.click(button("Replace"))
	p.see("Saved STRIPE_KEY.")
	p.waitFor(button("Replace"))
	for _, v := range []string{first, second} {
		if dom := p.everything(); strings.Contains(dom, v) {
			t.Errorf("the page holds a value of the secret after it was replaced:\n%s", excerpt(dom, v))
		}
	}
	// Nor does a page that comes back to it.
	p.click(link("Endpoints"))
	p.waitFor(heading("Endpoints"))
	p.click(link("Secrets"))
	p.waitFor(css("table code"))
	if dom := p.everything(); strings.Contains(dom, first) || strings.Contains(dom, second) {
		t.Errorf("the secrets page holds a secret's value when opened again")
	}

	// The API holds the name and the second value, which only a function
	// reads.
	secrets, err := o.api.Secrets.List(o.admin, "acme")
	o.must(err)
	if len(secrets) != 1 || secrets[0].Name != "STRIPE_KEY" {
		t.Fatalf("the API holds secrets %v, want STRIPE_KEY", secrets)
	}
	_, err = o.api.Functions.Deploy(o.admin, "acme", "check-key", client.FunctionDeploy{Runtime: "javascript",
		Code: `export default (event, ctx) => ({ second: ctx.secrets.STRIPE_KEY === "` + second + `" })`})
	o.must(err)
	res, err := o.api.Functions.Test(o.admin, "acme", "check-key", client.FunctionTest{Input: map[string]any{}})
	o.must(err)
	if string(res.Output) != `{"second":true}` {
		t.Errorf("a function reading STRIPE_KEY got %s (error %v), want the replaced value", res.Output, res.Error)
	}
}

// excerpt is the part of s around the first want, to show where it leaked.
func excerpt(s, want string) string {
	i := strings.Index(s, want)
	if i < 0 {
		return ""
	}
	return s[max(0, i-200):min(len(s), i+len(want)+200)]
}

func TestTenantDataThatHoldsMarkupIsShownAsText(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	rcv := startReceiver(t)
	o := startOutlet(t)
	o.tenant("acme", "Acme Inc")
	// What an attacker who can put data into an event, or words into a
	// function's log, would try: every piece sets a flag and opens a dialog
	// if it ever runs.
	const img = `<img src=x onerror="window.outletPwned='payload';alert(1)">`
	const script = `<script>window.outletPwned='log';alert(2)</script>`
	_, err := o.api.Endpoints.Create(o.admin, "acme", client.EndpointCreate{URL: rcv.url, EventTypes: []string{"note.created"}})
	o.must(err)
	_, err = o.api.Functions.Deploy(o.admin, "acme", "notes", client.FunctionDeploy{Runtime: "javascript", Events: []string{"note.created"},
		Code: `export default (event) => { console.log(` + jsString(script) + `, event.data.title); return { seen: event.data.title }; }`})
	o.must(err)
	ev, err := o.api.Events.Publish(o.admin, "acme", client.Publish{Type: "note.created", Data: map[string]any{"title": img, "body": script}})
	o.must(err)
	o.waitDelivered("acme", ev.ID, 2)

	p, _ := opened(t, b, o, "acme", "customer", client.PortalSessionCreate{})
	p.click(link("Deliveries"))
	p.waitFor(heading("Deliveries"))
	p.waitFor(css("tbody tr"))

	// The endpoint's delivery: the request's body, rebuilt from the event.
	p.click(link(rcv.url))
	p.waitFor(heading(rcv.url))
	p.click(link("All of this endpoint's deliveries"))
	p.waitFor(css("tbody a code"))
	p.click(css("tbody a"))
	p.waitFor(heading("Request"))
	p.see(`"title": "<img src=x onerror=\"window.outletPwned='payload';alert(1)\">"`)

	// The function's delivery: its logs.
	p.click(link("Deliveries"))
	p.choose(field("Function"), "notes")
	p.waitFor(css("tbody a code"))
	p.click(css("tbody a"))
	p.waitFor(heading("Input"))
	p.see(script + " " + img)

	var got struct {
		Flag    any `json:"flag"`
		Images  int `json:"images"`
		Scripts int `json:"scripts"`
	}
	p.evalMain(`({flag: window.outletPwned ?? null, images: document.querySelectorAll('img[src="x"]').length,
		scripts: [...document.scripts].filter((s) => !s.src).length})`, &got)
	if got.Flag != nil || got.Images != 0 || got.Scripts != 0 {
		t.Errorf("tenant data became markup: the flag is %v, %d images from the payload, %d inline scripts", got.Flag, got.Images, got.Scripts)
	}
	// The harness fails the test on any dialog, uncaught error or CSP
	// report when the page closes.

	// The page changed nothing: the API holds the payload and the log as
	// they were written.
	stored, err := o.api.Events.Get(o.admin, "acme", ev.ID)
	o.must(err)
	var data struct{ Title, Body string }
	if err := json.Unmarshal(stored.Data, &data); err != nil || data.Title != img || data.Body != script {
		t.Errorf("the API holds the event's data as %s (%v), want it as published", stored.Data, err)
	}
	logs, err := o.api.Functions.Logs(o.admin, "acme", "notes", client.LogFilter{})
	o.must(err)
	if len(logs.Data) != 1 || !strings.Contains(logs.Data[0].Logs, script+" "+img) {
		t.Errorf("the API holds the function's logs %v, want the one run's, as logged", logs.Data)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestSessionsThatExpiredOrWereRevokedAreRefused(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	o := startOutlet(t)
	o.tenant("acme", "Acme Inc")
	_, err := o.api.Endpoints.Create(o.admin, "acme", client.EndpointCreate{URL: "http://127.0.0.1:9/acme"})
	o.must(err)

	// Revoked: the open page says so at its next call, and the cookie
	// opens nothing.
	revoked, s := opened(t, b, o, "acme", "revoked customer", client.PortalSessionCreate{})
	revoked.see("http://127.0.0.1:9/acme")
	revoked.settle() // so the click below makes the page's next call
	o.must(o.api.PortalSessions.Revoke(o.admin, "acme", s.ID))
	revoked.click(link("Deliveries"))
	revoked.see("Your session ended", "Open the portal again from your platform.")
	if r := revoked.fetch("GET", "/v1/tenants/acme/endpoints", nil, ""); r.Status != http.StatusUnauthorized {
		t.Errorf("a revoked session's cookie read the endpoints: %d %s", r.Status, r.Body)
	}
	revoked.reload()
	revoked.see("Your session ended")

	// Expired: a session an hour long, two hours later.
	expired, _ := opened(t, b, o, "acme", "customer", client.PortalSessionCreate{ExpiresIn: 3600})
	expired.see("http://127.0.0.1:9/acme")
	unopened := o.session("acme", client.PortalSessionCreate{ExpiresIn: 3600})
	expired.settle()
	o.later(2 * time.Hour)
	expired.click(link("Deliveries"))
	expired.see("Your session ended")
	if r := expired.fetch("GET", "/v1/tenants/acme/endpoints", nil, ""); r.Status != http.StatusUnauthorized {
		t.Errorf("an expired session's cookie read the endpoints: %d %s", r.Status, r.Body)
	}
	expired.reload()
	expired.see("Your session ended")
	// A link not yet opened when its session expired opens nothing.
	expired.visit(unopened.URL)
	expired.see("This link can't be used")
	if dom := expired.everything(); strings.Contains(dom, "http://127.0.0.1:9/acme") {
		t.Error("an expired link showed the tenant's endpoints")
	}

	// What the API holds: neither session is live.
	sessions, err := o.api.PortalSessions.List(o.admin, "acme", client.ListOptions{})
	o.must(err)
	for _, ps := range sessions.Data {
		if ps.ID == s.ID && ps.RevokedAt == nil {
			t.Errorf("the API holds the revoked session %s as not revoked", s.ID)
		}
	}
}

func TestATenantsSessionCantReachAnotherTenant(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	rcv := startReceiver(t)
	o := startOutlet(t)
	o.tenant("acme", "Acme Inc")
	o.tenant("globex", "Globex")
	theirs, err := o.api.Endpoints.Create(o.admin, "globex", client.EndpointCreate{URL: rcv.url + "/globex-only"})
	o.must(err)
	ev, err := o.api.Events.Publish(o.admin, "globex", client.Publish{Type: "invoice.paid", Data: map[string]any{"n": 1}})
	o.must(err)
	delivery := o.waitDelivered("globex", ev.ID, 1)[0]

	p, _ := opened(t, b, o, "acme", "acme's customer", client.PortalSessionCreate{})
	csrf := p.csrf()
	write := map[string]string{"X-Outlet-CSRF": csrf, "Content-Type": "application/json"}
	for _, c := range []struct {
		method, path string
		headers      map[string]string
	}{
		{"GET", "/v1/tenants/globex/endpoints", nil},
		{"GET", "/v1/tenants/globex/endpoints/" + theirs.ID, nil},
		{"GET", "/v1/tenants/acme/endpoints/" + theirs.ID, nil},
		{"GET", "/v1/tenants/acme/deliveries/" + delivery, nil},
		{"GET", "/v1/tenants/acme/deliveries/" + delivery + "/attempts", nil},
		{"GET", "/v1/tenants/acme/events/" + ev.ID, nil},
		{"GET", "/v1/tenants/globex/deliveries/" + delivery, nil},
		{"DELETE", "/v1/tenants/globex/endpoints/" + theirs.ID, write},
		{"DELETE", "/v1/tenants/acme/endpoints/" + theirs.ID, write},
		{"POST", "/v1/tenants/acme/deliveries/" + delivery + "/retry", write},
		// Admin routes: the operator's, never a tenant's session's.
		{"GET", "/v1/tenants", nil},
		{"POST", "/v1/tenants/acme/portal-sessions", write},
		{"GET", "/v1/event-types", nil},
	} {
		r := p.fetch(c.method, c.path, c.headers, map[bool]string{true: "{}"}[c.headers != nil])
		if r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
			t.Errorf("acme's session: %s %s answered %d %s, want 403 or 404", c.method, c.path, r.Status, r.Body)
		}
		if strings.Contains(r.Body, "globex-only") {
			t.Errorf("acme's session: %s %s showed globex's endpoint: %s", c.method, c.path, r.Body)
		}
	}

	// The portal's own pages, given globex's ids.
	for path, says := range map[string]string{
		"endpoints/" + theirs.ID:   `endpoint "` + theirs.ID + `" not found`,
		"deliveries/" + delivery:   `delivery "` + delivery + `" not found`,
		"tenants/globex/endpoints": "No such page",
	} {
		p.visit(o.url + "/portal/" + path)
		p.see(says)
		if dom := p.everything(); strings.Contains(dom, "globex-only") {
			t.Errorf("acme's portal at /portal/%s shows globex's endpoint", path)
		}
	}

	// The API still holds globex's endpoint and delivery as they were.
	if _, err := o.api.Endpoints.Get(o.admin, "globex", theirs.ID); err != nil {
		t.Errorf("globex's endpoint after acme's session tried to delete it: %v", err)
	}
	d, err := o.api.Deliveries.Get(o.admin, "globex", delivery)
	o.must(err)
	if d.Attempts != 1 {
		t.Errorf("globex's delivery has %d attempts after acme's session tried to retry it, want 1", d.Attempts)
	}
}

func TestAWriteWithoutTheCSRFTokenIsRefused(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	rcv := startReceiver(t)
	e := openEmbedded(t, b, "acme", nil)
	o := e.o
	e.portal.waitFor(heading("Endpoints"))

	// A script of another page on the same site (the platform's, on
	// another port) sends the cookie with a simple request: it needs no
	// preflight, and its answer is opaque to that script. Only the token
	// stops it.
	body := `{"url":"` + rcv.url + `/planted"}`
	e.page.evalMain(`fetch(`+jsString(o.url+"/v1/tenants/acme/endpoints")+`, {method: "POST", mode: "no-cors", credentials: "include",
		headers: {"Content-Type": "text/plain"}, body: `+jsString(body)+`}).then(() => true)`, nil)

	// The portal's own page, without the token and with a wrong one.
	other, _ := opened(t, b, o, "acme", "another person of acme's", client.PortalSessionCreate{})
	for name, headers := range map[string]map[string]string{
		"no token":                {"Content-Type": "application/json"},
		"a wrong token":           {"Content-Type": "application/json", "X-Outlet-CSRF": "not-the-token"},
		"another session's token": {"Content-Type": "application/json", "X-Outlet-CSRF": other.csrf()},
	} {
		r := e.portal.fetch("POST", "/v1/tenants/acme/endpoints", headers, body)
		if r.Status != http.StatusForbidden {
			t.Errorf("a write with %s answered %d %s, want 403", name, r.Status, r.Body)
		} else if !strings.Contains(strings.ToLower(r.Body), "csrf") {
			t.Errorf("the refusal of a write with %s doesn't say what is missing: %s", name, r.Body)
		}
	}
	eps, err := o.api.Endpoints.List(o.admin, "acme", client.ListOptions{})
	o.must(err)
	if len(eps.Data) != 0 {
		t.Fatalf("writes without the CSRF token made %d endpoints", len(eps.Data))
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("the receiver got %d requests", n)
	}

	// With the page's token the same write goes through: the refusals
	// were the token's.
	r := e.portal.fetch("POST", "/v1/tenants/acme/endpoints", map[string]string{"Content-Type": "application/json", "X-Outlet-CSRF": e.portal.csrf()}, body)
	if r.Status != http.StatusCreated {
		t.Errorf("the write with the page's token answered %d %s, want 201", r.Status, r.Body)
	}
}

func TestThePortalFramedByAnOriginNotAllowedDoesNotLoad(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	allowed, other := startHost(t), startHost(t)
	o := startOutlet(t, func(opts *outlettest.Options) { opts.PortalFrameAncestors = []string{allowed.url} })
	o.tenant("acme", "Acme Inc")

	other.embed(o.session("acme", client.PortalSessionCreate{}).URL)
	p := b.open("customer of another site")
	p.expectConsole(`Framing '.*' violates the following Content Security Policy directive: "frame-ancestors `)
	p.visit(other.url)
	p.see("Settings · Webhooks")
	end := time.Now().Add(wait)
	for len(p.consoleMatching(`frame-ancestors`)) == 0 && time.Now().Before(end) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(p.consoleMatching(`frame-ancestors`)) == 0 {
		t.Errorf("Chromium didn't report refusing the frame by its frame-ancestors")
	}
	if frames := p.frameURLs(); len(frames) != 1 || strings.HasPrefix(frames[0], o.url) {
		t.Errorf("the other site's frame holds %v, want Chromium's error page in place of the portal", frames)
	}

	// The same portal framed by the allowed origin loads: the refusal was
	// the origin's.
	allowed.embed(o.session("acme", client.PortalSessionCreate{}).URL)
	q := b.open("customer of the platform")
	q.visit(allowed.url)
	q.inFrame(o.url + "/portal/").waitFor(heading("Endpoints"))
}
