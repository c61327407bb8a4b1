package portal_test

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/httpapi"
	"github.com/outlethq/outlet/outlettest"
	"github.com/outlethq/outlet/portal"
)

// csp is the policy of every answer with the default frame ancestors.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; " +
	"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// clock is a time the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a running Outlet with tenants acme and globex, on the test's clock.
type env struct {
	url   string
	clock *clock
}

func start(t *testing.T, configure ...func(*outlettest.Options)) *env {
	t.Helper()
	clk := &clock{t: time.Now()}
	srv := outlettest.Start(t, append([]func(*outlettest.Options){func(o *outlettest.Options) {
		o.TuneAPI = func(c *httpapi.Config) { c.Now = clk.now }
	}}, configure...)...)
	e := &env{url: srv.URL, clock: clk}
	for _, id := range []string{"acme", "globex"} {
		e.admin(t, "POST", "/v1/tenants", `{"id":"`+id+`"}`, 201, nil)
	}
	return e
}

// admin calls the API with the admin key and wants status.
func (e *env) admin(t *testing.T, method, path, body string, status int, out any) {
	t.Helper()
	r, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+outlettest.AdminKey)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s answered %d, want %d: %s", method, path, resp.StatusCode, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
}

type minted struct {
	ID, URL, Token string
}

// mint makes a session at path (a tenant's, or /v1/portal-sessions).
func (e *env) mint(t *testing.T, path, body string) minted {
	t.Helper()
	var m minted
	e.admin(t, "POST", path, body, 201, &m)
	return m
}

// answer is one response, read whole.
type answer struct {
	status int
	header http.Header
	body   string
}

// get sends a request without following redirects; cookie, when set, is
// the session cookie's value.
func (e *env) do(t *testing.T, method, path, cookie string, header map[string]string) answer {
	t.Helper()
	r, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: outlet.PortalCookieName, Value: cookie})
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// sessionCookie is the portal's cookie an answer sets.
func sessionCookie(a answer) *http.Cookie {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == outlet.PortalCookieName {
			return c
		}
	}
	return nil
}

// open exchanges a session's link as a browser does and returns the
// cookie's value.
func (e *env) open(t *testing.T, m minted) string {
	t.Helper()
	a := e.do(t, "GET", m.URL, "", nil)
	c := sessionCookie(a)
	if a.status != http.StatusSeeOther || c == nil {
		t.Fatalf("opening %s answered %d without a cookie: %s", m.URL, a.status, a.body)
	}
	return c.Value
}

// meta is the session the page carries: the content of its outlet-session
// meta tag, as a browser's parser reads it.
func meta(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var content *string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "meta" {
			var name, value string
			for _, a := range n.Attr {
				switch a.Key {
				case "name":
					name = a.Val
				case "content":
					value = a.Val
				}
			}
			if name == "outlet-session" {
				if content != nil {
					t.Errorf("the page has two outlet-session meta tags")
				}
				content = &value
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if content == nil {
		t.Fatalf("the page has no outlet-session meta tag: %s", page)
	}
	return *content
}

type pageSession struct {
	ID        string                `json:"id"`
	Tenant    *string               `json:"tenant"`
	Admin     bool                  `json:"admin"`
	ReadOnly  bool                  `json:"read_only"`
	Features  outlet.PortalFeatures `json:"features"`
	Theme     outlet.PortalTheme    `json:"theme"`
	CSRF      string                `json:"csrf"`
	ExpiresAt string                `json:"expires_at"`
	API       string                `json:"api"`
}

func TestOpeningALinkSetsAnHttpOnlyCookieOnceAndSendsTheBrowserOnWithoutTheToken(t *testing.T) {
	t.Parallel()
	e := start(t)
	m := e.mint(t, "/v1/tenants/acme/portal-sessions", `{"expires_in":1800}`)
	if !strings.HasPrefix(m.URL, "/portal/?token=") {
		t.Fatalf("the link is %q; want /portal/?token=…", m.URL)
	}
	a := e.do(t, "GET", m.URL, "", nil)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/portal/" {
		t.Fatalf("opening the link answered %d to %q; want 303 to /portal/", a.status, a.header.Get("Location"))
	}
	c := sessionCookie(a)
	switch {
	case c == nil:
		t.Fatalf("opening the link set no %s cookie: %v", outlet.PortalCookieName, a.header)
	case !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode || c.Secure:
		t.Errorf("the cookie is %q; want HttpOnly, Path=/, SameSite=Lax, not Secure over plain HTTP", a.header.Get("Set-Cookie"))
	case c.MaxAge < 1790 || c.MaxAge > 1800:
		t.Errorf("the cookie lasts %d seconds; want the session's 1800", c.MaxAge)
	case strings.Contains(c.Value, m.Token):
		t.Errorf("the cookie holds the link's token")
	}
	if cc := a.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the exchange answered Cache-Control %q; want no-store", cc)
	}
	again := e.do(t, "GET", m.URL, "", nil)
	if again.status != http.StatusUnauthorized || sessionCookie(again) != nil {
		t.Errorf("opening the link again answered %d with cookie %v; want 401 and none", again.status, sessionCookie(again))
	}
	if !strings.Contains(again.body, "opened already") || !strings.HasPrefix(again.header.Get("Content-Type"), "text/html") {
		t.Errorf("the refusal is %s %q; want a page saying the link was opened already", again.header.Get("Content-Type"), again.body)
	}
}

func TestALinkOpensOnlyWhileItsSessionIsLiveAndUnrevoked(t *testing.T) {
	t.Parallel()
	e := start(t)
	expired := e.mint(t, "/v1/tenants/acme/portal-sessions", `{"expires_in":60}`)
	revoked := e.mint(t, "/v1/tenants/acme/portal-sessions", `{}`)
	e.admin(t, "DELETE", "/v1/tenants/acme/portal-sessions/"+revoked.ID, "", 204, nil)
	e.clock.advance(time.Minute)
	for what, m := range map[string]minted{"expired": expired, "revoked": revoked, "unknown": {URL: "/portal/?token=olpt_nope"}, "empty": {URL: "/portal/?token="}} {
		if a := e.do(t, "GET", m.URL, "", nil); a.status != http.StatusUnauthorized || sessionCookie(a) != nil {
			t.Errorf("the link of an %s session answered %d with cookie %v; want 401 and none", what, a.status, sessionCookie(a))
		}
	}
}

func TestTheCookiesSameSiteAndSecureFollowTheSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sameSite, publicURL string
		want                http.SameSite
		secure              bool
		link                string
	}{
		{"strict", "", http.SameSiteStrictMode, false, "/portal/?token="},
		{"none", "", http.SameSiteNoneMode, true, "/portal/?token="},
		{"lax", "https://outlet.example.com", http.SameSiteLaxMode, true, "https://outlet.example.com/portal/?token="},
	} {
		e := start(t, func(o *outlettest.Options) { o.PortalCookieSameSite, o.PublicURL = tc.sameSite, tc.publicURL })
		m := e.mint(t, "/v1/tenants/acme/portal-sessions", `{}`)
		if !strings.HasPrefix(m.URL, tc.link) {
			t.Errorf("public URL %q: the link is %q; want %s…", tc.publicURL, m.URL, tc.link)
		}
		a := e.do(t, "GET", "/portal/?token="+m.Token, "", nil)
		c := sessionCookie(a)
		if c == nil || c.SameSite != tc.want || c.Secure != tc.secure || !c.HttpOnly {
			t.Errorf("--portal-cookie-samesite %s, public URL %q: the cookie is %q; want SameSite %v, Secure %v, HttpOnly",
				tc.sameSite, tc.publicURL, a.header.Get("Set-Cookie"), tc.want, tc.secure)
		}
	}
}

func TestThePageCarriesTheSessionAndItsCSRFTokenEscaped(t *testing.T) {
	t.Parallel()
	e := start(t)
	hostile := `Acme "><script>alert(1)</script> & 'co'`
	name, _ := json.Marshal(hostile)
	m := e.mint(t, "/v1/tenants/acme/portal-sessions", `{"read_only":true,"features":{"secrets":false},`+
		`"theme":{"brand_color":"#4f46e5","logo_url":"https://cdn.example.com/logo.svg","name":`+string(name)+`,"mode":"dark"}}`)
	cookie := e.open(t, m)
	a := e.do(t, "GET", "/portal/", cookie, nil)
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Fatalf("the page answered %d %s", a.status, a.header.Get("Content-Type"))
	}
	if strings.Contains(a.body, "<script>alert") {
		t.Errorf("the theme's name reached the page unescaped: %s", a.body)
	}
	var s pageSession
	if err := json.Unmarshal([]byte(meta(t, a.body)), &s); err != nil {
		t.Fatalf("the page's session doesn't parse: %v", err)
	}
	want := pageSession{ID: m.ID, Tenant: s.Tenant, ReadOnly: true,
		Features: outlet.PortalFeatures{Functions: true, Endpoints: true, Hooks: true, Usage: true},
		Theme:    outlet.PortalTheme{BrandColor: "#4f46e5", LogoURL: "https://cdn.example.com/logo.svg", Name: hostile, Mode: "dark"},
		CSRF:     outlet.PortalCSRFToken(cookie), ExpiresAt: s.ExpiresAt, API: "/v1"}
	if s != want || s.Tenant == nil || *s.Tenant != "acme" {
		t.Errorf("the page's session is %+v; want %+v for tenant acme", s, want)
	}
	if _, err := time.Parse(time.RFC3339, s.ExpiresAt); err != nil {
		t.Errorf("expires_at %q is not a time", s.ExpiresAt)
	}
	if cc := a.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the page answered Cache-Control %q; want no-store", cc)
	}
	// Any page of the portal's own (its routes live in the browser) is the
	// same page.
	if deep := e.do(t, "GET", "/portal/functions/pricing", cookie, nil); deep.status != 200 || meta(t, deep.body) == "null" {
		t.Errorf("a deep link answered %d with session %s", deep.status, meta(t, deep.body))
	}

	// The operator's session says so.
	op := e.open(t, e.mint(t, "/v1/portal-sessions", `{}`))
	var os pageSession
	json.Unmarshal([]byte(meta(t, e.do(t, "GET", "/portal/", op, nil).body)), &os)
	if !os.Admin || os.Tenant != nil || os.CSRF != outlet.PortalCSRFToken(op) || os.Theme.Mode != "auto" {
		t.Errorf("the operator's page session is %+v; want admin, no tenant, its CSRF token", os)
	}
}

func TestWithoutALiveSessionThePageSaysNullAndForgetsTheCookie(t *testing.T) {
	t.Parallel()
	e := start(t)
	if a := e.do(t, "GET", "/portal/", "", nil); a.status != 200 || meta(t, a.body) != "null" || sessionCookie(a) != nil {
		t.Errorf("without a cookie the page answered %d with session %s", a.status, meta(t, a.body))
	}
	m := e.mint(t, "/v1/tenants/acme/portal-sessions", `{}`)
	cookie := e.open(t, m)
	e.admin(t, "DELETE", "/v1/tenants/acme/portal-sessions/"+m.ID, "", 204, nil)
	for what, c := range map[string]string{"a revoked session's cookie": cookie, "an unknown cookie": "olps_nope"} {
		a := e.do(t, "GET", "/portal/", c, nil)
		cleared := sessionCookie(a)
		if a.status != 200 || meta(t, a.body) != "null" || cleared == nil || cleared.MaxAge >= 0 {
			t.Errorf("%s: the page answered %d with session %s and Set-Cookie %q; want null and the cookie cleared",
				what, a.status, meta(t, a.body), a.header.Get("Set-Cookie"))
		}
	}
}

func TestEveryAnswerOfThePortalHasItsSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := start(t)
	asset := someAsset(t)
	for _, r := range []struct{ method, path string }{
		{"GET", "/portal/"},
		{"HEAD", "/portal/"},
		{"GET", "/portal/endpoints/ep_1"},
		{"GET", "/portal/?token=olpt_nope"},
		{"GET", "/portal/" + asset},
		{"GET", "/portal/assets/gone-ABCDEF.js"},
		{"POST", "/portal/"},
		{"GET", "/portal/index.html"},
	} {
		a := e.do(t, r.method, r.path, "", nil)
		for name, want := range map[string]string{
			"Content-Security-Policy":    csp,
			"X-Content-Type-Options":     "nosniff",
			"Referrer-Policy":            "no-referrer",
			"Cross-Origin-Opener-Policy": "same-origin",
			"X-Frame-Options":            "DENY",
		} {
			if got := a.header.Get(name); got != want {
				t.Errorf("%s %s (%d): %s is %q; want %q", r.method, r.path, a.status, name, got, want)
			}
		}
	}
}

// someAsset is a file of the embedded bundle under assets/.
func someAsset(t *testing.T) string {
	t.Helper()
	files, err := fs.Glob(portal.Bundle(), "assets/*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("the embedded bundle has no assets/*.js: %v", err)
	}
	return files[0]
}

func TestAssetsAreCachedForGoodAndMissingOnesAre404(t *testing.T) {
	t.Parallel()
	e := start(t)
	asset := someAsset(t)
	want, _ := fs.ReadFile(portal.Bundle(), asset)
	a := e.do(t, "GET", "/portal/"+asset, "", nil)
	if a.status != 200 || a.body != string(want) || !strings.HasPrefix(a.header.Get("Content-Type"), "text/javascript") ||
		a.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("%s answered %d %s, Cache-Control %q, %d bytes (want %d)", asset, a.status, a.header.Get("Content-Type"),
			a.header.Get("Cache-Control"), len(a.body), len(want))
	}
	if a := e.do(t, "GET", "/portal/assets/gone-ABCDEF.js", "", nil); a.status != 404 {
		t.Errorf("a missing asset answered %d; want 404", a.status)
	}
	if a := e.do(t, "POST", "/portal/", "", nil); a.status != 405 || a.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /portal/ answered %d, Allow %q; want 405, GET, HEAD", a.status, a.header.Get("Allow"))
	}
}

func TestTheFrameAncestorsComeFromTheSetting(t *testing.T) {
	t.Parallel()
	e := start(t, func(o *outlettest.Options) {
		o.PortalFrameAncestors = []string{"https://app.example.com", "self", "https://*.example.org:8443"}
	})
	a := e.do(t, "GET", "/portal/", "", nil)
	want := strings.TrimSuffix(csp, "'none'") + "https://app.example.com 'self' https://*.example.org:8443"
	if got := a.header.Get("Content-Security-Policy"); got != want {
		t.Errorf("the CSP is %q; want %q", got, want)
	}
	if xfo := a.header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("X-Frame-Options is %q; with other origins allowed it would refuse them in browsers that read it", xfo)
	}
}

func TestFrameAncestorsRefuseWhatABrowserWouldMisread(t *testing.T) {
	t.Parallel()
	for _, bad := range [][]string{
		{"https://app.example.com; script-src *"},
		{"https://app.example.com/path"},
		{"'none'", "https://app.example.com"},
		{"app example com"},
		{"'unsafe-inline'"},
		{`"self"`},
	} {
		if v, err := portal.FrameAncestors(bad); err == nil {
			t.Errorf("%q was taken as %q", bad, v)
		}
	}
	for in, want := range map[string]string{"": "'none'", "none": "'none'", "'self'": "'self'", "https:": "https:", "http://localhost:3000": "http://localhost:3000"} {
		if got, err := portal.FrameAncestors([]string{in}); err != nil || got != want {
			t.Errorf("%q read as %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestThePortalSwitchedOffIsNotThere(t *testing.T) {
	t.Parallel()
	e := start(t, func(o *outlettest.Options) { o.Portal = false })
	for _, path := range []string{"/portal/", "/portal/?token=olpt_x", "/portal/" + someAsset(t)} {
		if a := e.do(t, "GET", path, "", nil); a.status != 404 || sessionCookie(a) != nil {
			t.Errorf("with the portal off, %s answered %d; want 404", path, a.status)
		}
	}
}

func TestPortalWithoutTheSlashLeadsToThePortalWithItsLink(t *testing.T) {
	t.Parallel()
	e := start(t)
	a := e.do(t, "GET", "/portal?token=olpt_x", "", nil)
	if a.status != http.StatusMovedPermanently || a.header.Get("Location") != "/portal/?token=olpt_x" {
		t.Errorf("/portal answered %d to %q; want 301 to /portal/?token=olpt_x", a.status, a.header.Get("Location"))
	}
	// A link to a page of the portal's goes on to that page.
	m := e.mint(t, "/v1/tenants/acme/portal-sessions", `{}`)
	a = e.do(t, "GET", "/portal/functions/pricing?token="+m.Token, "", nil)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/portal/functions/pricing" {
		t.Errorf("a link to a page answered %d to %q; want 303 to /portal/functions/pricing", a.status, a.header.Get("Location"))
	}
}

// The whole path a browser takes, with a cookie jar: open the link, call
// the API as the tenant, write with and without the CSRF token; then the
// session is revoked, or expires.
func TestABrowsersSessionCallsTheAPIAsItsTenantUntilItEnds(t *testing.T) {
	t.Parallel()
	e := start(t)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	call := func(method, path, body string, csrf string) int {
		t.Helper()
		r, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
		if csrf != "" {
			r.Header.Set(outlet.PortalCSRFHeader, csrf)
		}
		resp, err := browser.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	m := e.mint(t, "/v1/tenants/acme/portal-sessions", `{"expires_in":3600}`)
	resp, err := browser.Get(e.url + m.URL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.RawQuery != "" {
		t.Fatalf("opening the link ended at %s with %d; want the page, without the token", resp.Request.URL, resp.StatusCode)
	}
	var s pageSession
	json.Unmarshal([]byte(meta(t, string(page))), &s)
	u, _ := url.Parse(e.url)
	if len(jar.Cookies(u)) != 1 || s.CSRF == "" {
		t.Fatalf("after the link: cookies %v, csrf %q", jar.Cookies(u), s.CSRF)
	}

	for _, c := range []struct {
		what               string
		method, path, body string
		csrf               string
		want               int
	}{
		{"read its endpoints", "GET", "/v1/tenants/acme/endpoints", "", "", 200},
		{"read another tenant's", "GET", "/v1/tenants/globex/endpoints", "", "", 403},
		{"call an operator's route", "GET", "/v1/tenants", "", s.CSRF, 403},
		{"write without the CSRF token", "POST", "/v1/tenants/acme/events", `{"type":"a.b","data":{}}`, "", 403},
		{"write with a wrong token", "POST", "/v1/tenants/acme/events", `{"type":"a.b","data":{}}`, "x" + s.CSRF, 403},
		{"write with the token", "POST", "/v1/tenants/acme/events", `{"type":"a.b","data":{}}`, s.CSRF, 202},
		{"write to another tenant with the token", "POST", "/v1/tenants/globex/events", `{"type":"a.b","data":{}}`, s.CSRF, 403},
	} {
		if got := call(c.method, c.path, c.body, c.csrf); got != c.want {
			t.Errorf("a session's browser may %s: %s %s answered %d, want %d", c.what, c.method, c.path, got, c.want)
		}
	}

	e.clock.advance(time.Hour)
	if got := call("GET", "/v1/tenants/acme/endpoints", "", ""); got != 401 {
		t.Errorf("once the session expired, a read answered %d; want 401", got)
	}
}

// A link that opens nothing is a failed authentication, as an unknown key
// is: past the address's limit, links are refused without a write.
func TestLinksThatOpenNothingCountAgainstTheAddressesFailures(t *testing.T) {
	t.Parallel()
	e := start(t, func(o *outlettest.Options) { o.AuthFailureRate, o.AuthFailureBurst = 0.001, 2 })
	for range 2 {
		if a := e.do(t, "GET", "/portal/?token=olpt_guess", "", nil); a.status != http.StatusUnauthorized {
			t.Fatalf("a wrong link answered %d; want 401", a.status)
		}
	}
	m := e.mint(t, "/v1/tenants/acme/portal-sessions", `{}`)
	a := e.do(t, "GET", m.URL, "", nil)
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" || sessionCookie(a) != nil {
		t.Errorf("a link after too many wrong ones answered %d, Retry-After %q; want 429 and a wait", a.status, a.header.Get("Retry-After"))
	}
	if a.header.Get("Content-Security-Policy") != csp {
		t.Errorf("the refusal lacks the portal's CSP")
	}
}
